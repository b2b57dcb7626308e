package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/throughline/throughline/connectors"
	"github.com/throughline/throughline/dashboards"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/internal/sqlworker"
	"github.com/throughline/throughline/internal/ui"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
)

// pipeline wires config, warehouse, connectors, compute and collector.
type pipeline struct {
	cfg       *config.Config
	db        *warehouse.DB
	logger    *slog.Logger
	collector *metrics.Collector
	pool      *sqlworker.Pool // serve's SQL workers
	now       func() time.Time
	progress  bool      // draw progress on a terminal
	pages     *ui.Store // the web pages' model; nil unless serving
}

func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			return nil, err
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, usagef("%v (create one with `throughline init --config %s`)", err, path)
		}
		return nil, usageError{err}
	}
	return cfg, nil
}

func openWarehouse(ctx context.Context, cfg *config.Config, readOnly bool) (*warehouse.DB, error) {
	return warehouse.Open(ctx, warehouse.Options{
		Path: cfg.Warehouse.Path, MemoryLimit: cfg.Warehouse.MemoryLimit, TimeZone: cfg.Timezone,
		Threads: cfg.Warehouse.Threads, ReadOnly: readOnly,
	})
}

// openComputed opens the warehouse file read-only for a command that reads
// what the last compute wrote; a missing file is an error that says what to
// run first.
func openComputed(ctx context.Context, cfg *config.Config) (*warehouse.DB, error) {
	if _, err := os.Stat(cfg.Warehouse.Path); err != nil {
		return nil, fmt.Errorf("warehouse %s does not exist yet: run `throughline sync` and `throughline compute` first", cfg.Warehouse.Path)
	}
	return openWarehouse(ctx, cfg, true)
}

func newPipeline(cfg *config.Config, db *warehouse.DB, logger *slog.Logger) *pipeline {
	b := build()
	return &pipeline{cfg: cfg, db: db, logger: logger, now: time.Now, progress: isTerminal(os.Stderr),
		collector: metrics.NewCollector(metrics.Build{Version: b.Version, Revision: b.Revision, GoVersion: b.GoVersion})}
}

// syncAll syncs every source (or only the named one). A failing source is
// logged and counted; the others still run. The error joins the failures.
func (p *pipeline) syncAll(ctx context.Context, only string, full bool) error {
	var errs []error
	found := false
	for _, src := range p.cfg.Sources {
		if only != "" && src.Name != only {
			continue
		}
		found = true
		if err := p.syncOne(ctx, src, full); err != nil {
			errs = append(errs, err)
		}
	}
	if only != "" && !found {
		return usagef("--source %q: no such source in %s", only, p.cfg.Path)
	}
	return errors.Join(errs...)
}

func (p *pipeline) syncOne(ctx context.Context, src config.Source, full bool) error {
	log := p.logger.With("source", src.Name)
	start := p.now()
	baseURL := src.BaseURL
	if src.Kind == "csv" {
		baseURL = src.Path
	}
	if err := p.db.RegisterSource(ctx, src.Name, src.Kind, baseURL); err != nil {
		return err
	}
	hc := &http.Client{Timeout: 2 * time.Minute, Transport: countingTransport{source: src.Name, c: p.collector, next: http.DefaultTransport}}
	conn, err := connectors.New(src, p.cfg.Location, connectors.Options{Logger: log, Now: p.now, HTTPClient: hc})
	if err != nil {
		p.collector.ObserveSync(src.Name, p.now(), 0, "config")
		p.saveState(ctx)
		return err
	}
	bar := newProgress(p.progress, "sync "+src.Name)
	run, err := ingest.Sync(ctx, p.db, p.db, src.Name, conn, ingest.SyncOptions{Full: full, Now: p.now,
		Progress: func(r ingest.Run) {
			bar.update(r.Items, r.Batches)
			log.Debug("batch committed", "batch", r.Batches, "records", r.Items)
		}})
	bar.done()
	d := p.now().Sub(start)
	if err != nil {
		reason := "error"
		if run.Status == "canceled" {
			reason = "canceled"
		}
		p.collector.ObserveSync(src.Name, p.now(), d, reason)
		if ra := (*connectors.RetryAfterError)(nil); errors.As(err, &ra) {
			p.collector.ObserveRetryAfterExceeded(src.Name)
		}
		p.saveState(ctx)
		return err
	}
	p.collector.ObserveSync(src.Name, p.now(), d, "")
	p.saveState(ctx)
	log.Info("sync done", "batches", run.Batches, "records", run.Items, "problems", run.Problems, "duration", d.Round(time.Millisecond))
	if run.Problems > 0 {
		log.Warn("input rows were rejected or repaired; see `throughline check`", "problems", run.Problems)
	}
	return nil
}

func (p *pipeline) params() metrics.Params {
	c := p.cfg
	pr := metrics.Params{
		Now: p.now(), Location: c.Location, WindowDays: c.Metrics.WindowDays,
		Trials: c.Metrics.Forecast.Trials, Seed: uint64(c.Metrics.Forecast.Seed), ForecastMode: c.Metrics.Forecast.Mode,
		Todo: c.Workflow.Todo, Started: c.Workflow.Started, Wait: c.Workflow.Wait, Done: c.Workflow.Done,
		DiscardedResolutions: c.Workflow.DiscardedResolutions,
		OperationalTypes:     c.WorkClass.Operational.ItemTypes, OperationalProjects: c.WorkClass.Operational.Projects,
		ProjectTypes: c.WorkClass.Project.ItemTypes, ProjectProjects: c.WorkClass.Project.Projects,
	}
	for _, t := range c.Teams {
		pr.Teams = append(pr.Teams, metrics.Team{Name: t.Name, Members: t.Members, Projects: t.Projects,
			HoursPerWeek: t.HoursPerWeek, WIPLimit: t.WIPLimit, SLEDays: t.SLEDays})
	}
	return pr
}

// saveState keeps the pipeline health in the warehouse for the next start
// of serve; a failure is logged, not fatal (the next save retries).
func (p *pipeline) saveState(ctx context.Context) {
	if err := p.collector.SaveState(context.WithoutCancel(ctx), p.db.DB); err != nil {
		p.logger.Warn("exporter state not saved; a restart of serve shows it again after the next sync", "err", err)
	}
}

// compute rebuilds the metric tables and swaps in the new snapshot (and
// the web pages' model when serving). metrics.Compute records every run in
// job_runs.
func (p *pipeline) compute(ctx context.Context) (*metrics.Snapshot, error) {
	start := p.now()
	params := p.params()
	res, err := metrics.Compute(ctx, p.db.DB, params)
	if err != nil {
		p.collector.ObserveJob("compute", p.now(), p.now().Sub(start), false)
		p.saveState(ctx)
		return nil, err
	}
	snap, err := metrics.LoadSnapshot(ctx, p.db.DB, params.Now)
	if err != nil {
		p.collector.ObserveJob("compute", p.now(), p.now().Sub(start), false)
		p.saveState(ctx)
		return nil, err
	}
	p.collector.SetSnapshot(snap)
	p.refreshPages(ctx)
	p.collector.ObserveJob("compute", p.now(), p.now().Sub(start), true)
	p.saveState(ctx)
	attrs := []any{"duration", res.Duration.Round(time.Millisecond), "items", snap.Items}
	for _, s := range res.Steps {
		attrs = append(attrs, "step_"+s.Name, s.Duration.Round(time.Millisecond))
	}
	p.logger.Info("compute done", attrs...)
	return snap, nil
}

// refreshPages reloads the web pages' model when serving. A failure keeps
// the previous model and is logged: the metrics are right either way.
func (p *pipeline) refreshPages(ctx context.Context) {
	if p.pages == nil {
		return
	}
	pr := ui.ConfigParams(p.cfg)
	pr.Now = p.now()
	if mixin, err := mixinConfig(p.cfg); err == nil {
		pr.Firing = dashboards.PlanningFiring(mixin, p.collector.Snapshot())
	}
	if err := p.pages.Refresh(ctx, p.db.DB, pr); err != nil {
		p.logger.Error("load the web pages' data", "err", err)
	}
}

func runSync(ctx context.Context, g *globals, args []string) error {
	fs := g.flags("sync")
	cfgPath := fs.String("config", "throughline.yaml", "config file")
	source := fs.String("source", "", "sync only this source")
	full := fs.Bool("full", false, "ignore stored cursors and re-read everything (idempotent)")
	if err := g.parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	db, err := openWarehouse(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer db.Close()
	return newPipeline(cfg, db, g.logger).syncAll(ctx, *source, *full)
}

func runCompute(ctx context.Context, g *globals, args []string) error {
	fs := g.flags("compute")
	cfgPath := fs.String("config", "throughline.yaml", "config file")
	if err := g.parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	db, err := openWarehouse(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = newPipeline(cfg, db, g.logger).compute(ctx)
	return err
}

// progress draws a one-line counter on a terminal and nothing elsewhere
// (log lines carry the same facts).
type progress struct {
	on    bool
	label string
	start time.Time
	last  time.Time
}

func newProgress(on bool, label string) *progress {
	return &progress{on: on, label: label, start: time.Now()}
}

func (p *progress) update(records, batches int) {
	if !p.on || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	el := time.Since(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(records) / el
	}
	fmt.Fprintf(os.Stderr, "\r%s: %d records in %d batches, %.0f records/s ", p.label, records, batches, rate)
}

// step draws "label: k/n units, rows/s, ETA" for work with a known size.
func (p *progress) step(k, n int, unit string, rows int64) {
	if !p.on {
		return
	}
	el := time.Since(p.start)
	eta := "?"
	if k > 0 && k < n {
		eta = (time.Duration(float64(el) / float64(k) * float64(n-k))).Round(time.Second).String()
	} else if k >= n {
		eta = "0s"
	}
	rate := 0.0
	if s := el.Seconds(); s > 0 {
		rate = float64(rows) / s
	}
	p.last = time.Now()
	fmt.Fprintf(os.Stderr, "\r%s: %d/%d %s, %d rows, %.0f rows/s, ETA %s ", p.label, k, n, unit, rows, rate, eta)
}

func (p *progress) done() {
	if p.on && !p.last.IsZero() {
		fmt.Fprintln(os.Stderr)
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// countingTransport counts every request a connector sends, by reply status
// code, in throughline_sync_requests_total.
type countingTransport struct {
	source string
	c      *metrics.Collector
	next   http.RoundTripper
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	t.c.ObserveRequest(t.source, code)
	return resp, err
}
