package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
	"github.com/throughline/throughline/internal/sqlworker"
	"github.com/throughline/throughline/internal/ui"
	"github.com/throughline/throughline/internal/web"
	"github.com/throughline/throughline/internal/web/api"
	"github.com/throughline/throughline/warehouse"
)

func runServe(ctx context.Context, g *globals, args []string) error {
	fs := g.flags("serve")
	cfgPath := fs.String("config", "throughline.yaml", "config file")
	if err := g.parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if err := checkListen(cfg.Server.Listen, cfg.Server.SQLTokenEnv); err != nil {
		return err
	}
	db, err := openWarehouse(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer db.Close()
	p := newPipeline(cfg, db, g.logger)
	p.progress = false
	return p.serve(ctx, cfg.Server.Listen, true)
}

// checkListen refuses to listen beyond loopback unless a token is set.
func checkListen(addr, tokenEnv string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("server.listen %q: %v", addr, err)
	}
	if isLoopback(host) {
		return nil
	}
	if tokenEnv == "" || os.Getenv(tokenEnv) == "" {
		return usagef("server.listen %s is beyond loopback: set server.sql_token_env and export that variable with a token, or listen on 127.0.0.1", addr)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serve runs the schedules and the HTTP endpoints until ctx ends. With
// initial, it syncs and computes once before the first schedule fires.
func (p *pipeline) serve(ctx context.Context, addr string, initial bool) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return p.serveOn(ctx, ln, initial)
}

// serveOn is serve on an open listener (closed when serving stops).
func (p *pipeline) serveOn(ctx context.Context, ln net.Listener, initial bool) error {
	// After a restart /metrics serves what it served before (the last
	// compute, the pipeline health kept in the warehouse) until the first run.
	if err := p.collector.Resume(ctx, p.db.DB, p.now()); err != nil {
		ln.Close()
		return err
	}
	var ready atomic.Bool
	var wg sync.WaitGroup
	pool, err := p.newSQLWorkers()
	if err != nil {
		ln.Close()
		return err
	}
	defer pool.Close()
	p.pool = pool
	// One writer at a time: a sync, a compute and a publication never
	// overlap.
	var writer sync.Mutex
	publishLocked := func(startup bool) {
		if err := p.publish(ctx, startup); err == nil {
			pool.Publish()
		}
	}
	syncLocked := func() {
		if err := p.syncAll(ctx, "", false); err != nil {
			p.logger.Error("scheduled sync failed", "err", err)
		}
	}
	computeLocked := func() {
		if _, err := p.compute(ctx); err != nil {
			p.logger.Error("scheduled compute failed", "err", err)
			return
		}
		publishLocked(false)
		ready.Store(true)
	}
	runSync := func() {
		writer.Lock()
		defer writer.Unlock()
		syncLocked()
	}
	runCompute := func() {
		writer.Lock()
		defer writer.Unlock()
		computeLocked()
	}
	// triggerSync (POST /api/v1/sync) starts a sync and compute unless a job
	// is running; the run holds the writer throughout.
	triggerSync := func() bool {
		if !writer.TryLock() {
			return false
		}
		wg.Go(func() {
			defer writer.Unlock()
			syncLocked()
			computeLocked()
		})
		return true
	}
	var jitter time.Duration
	if p.cfg.Schedules.Jitter != "" {
		jitter, _ = time.ParseDuration(p.cfg.Schedules.Jitter)
	}
	withJitter := func(f func()) func() {
		return func() {
			if jitter > 0 {
				select {
				case <-time.After(rand.N(jitter)):
				case <-ctx.Done():
					return
				}
			}
			f()
		}
	}
	logger := cron.VerbosePrintfLogger(discardPrintf{})
	c := cron.New(cron.WithLocation(p.cfg.Location), cron.WithChain(cron.SkipIfStillRunning(logger)))
	if _, err := c.AddFunc(p.cfg.Schedules.Sync, withJitter(func() { runSync(); runCompute() })); err != nil {
		ln.Close()
		return usagef("schedules.sync: %v", err)
	}
	if p.cfg.Schedules.Compute != p.cfg.Schedules.Sync {
		if _, err := c.AddFunc(p.cfg.Schedules.Compute, withJitter(runCompute)); err != nil {
			ln.Close()
			return usagef("schedules.compute: %v", err)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(p.collector)
	srv := web.New(web.Options{Gatherer: reg, Ready: ready.Load, Logger: p.logger, MaxConns: p.cfg.Server.MaxConnections})
	runs := p.db.ReadPool(2)
	defer runs.Close()
	p.newAPI(ln.Addr(), pool, runs, triggerSync).Register(srv)
	if err := p.mountPages(ctx, srv, initial); err != nil {
		ln.Close()
		return err
	}
	wg.Go(func() {
		if err := srv.Serve(ctx, ln); err != nil {
			p.logger.Error("http server", "err", err)
		}
	})
	p.logger.Info("serving", "pages", "http://"+ln.Addr().String()+"/", "metrics", "http://"+ln.Addr().String()+"/metrics", "sync", p.cfg.Schedules.Sync, "compute", p.cfg.Schedules.Compute)
	// The SQL API answers from the first publication on: the warehouse as
	// it is now, then after every compute.
	wg.Go(func() {
		writer.Lock()
		publishLocked(true)
		writer.Unlock()
		if initial {
			runSync()
			runCompute()
		}
	})
	if !initial {
		ready.Store(p.collector.Snapshot() != nil)
	}
	c.Start()
	<-ctx.Done()
	p.logger.Info("shutting down: waiting for the running job")
	stopped := c.Stop() // no new jobs; wait for the running one
	<-stopped.Done()
	// The HTTP server shuts down on ctx; the initial run (if any)
	// finishes, or rolls back on the canceled context.
	wg.Wait()
	return nil
}

// mountPages serves the web pages at / from a model loaded after each
// compute (now, when a compute already ran).
func (p *pipeline) mountPages(ctx context.Context, srv *web.Server, initial bool) error {
	p.pages = &ui.Store{}
	if !initial && p.collector.Snapshot() != nil {
		p.refreshPages(ctx)
	}
	pages, err := ui.New(ui.Options{Model: p.pages.Model, Token: p.sqlToken(), Logger: p.logger, Version: build().Version})
	if err != nil {
		return err
	}
	srv.Handle("/", pages)
	return nil
}

// newSQLWorkers starts the processes that run the SQL API's queries on the
// published snapshot (the snapshot comes later: see publish).
func (p *pipeline) newSQLWorkers() (*sqlworker.Pool, error) {
	s := p.cfg.Server
	mem := s.WorkerMemoryBytes()
	return sqlworker.New(sqlworker.Options{
		Snapshot:     p.snapshotPath(),
		Workers:      s.SQLWorkers,
		Timeout:      s.StatementTimeout(),
		TimeZone:     p.cfg.Timezone,
		MemoryLimit:  strconv.FormatInt(mem/2/1e6, 10) + "MB",
		AddressSpace: mem,
		Logger:       p.logger,
	})
}

// snapshotPath is where serve publishes the snapshot of the warehouse.
func (p *pipeline) snapshotPath() string {
	if p.cfg.Warehouse.Path == ":memory:" {
		return filepath.Join(os.TempDir(), fmt.Sprintf("throughline-%d.snapshot.duckdb", os.Getpid()))
	}
	return warehouse.SnapshotPath(p.cfg.Warehouse.Path)
}

// publish copies the warehouse to its snapshot file (what the SQL API and
// PMOs' own tools read) and records the job.
//
// At start-up (startup true) a successful publication is not recorded as a
// run of the publish task: it restores the read side of what the last run
// left, and /metrics after a restart must be /metrics before it. A failure
// is recorded either way.
func (p *pipeline) publish(ctx context.Context, startup bool) error {
	start := time.Now()
	pub, err := p.db.PublishSnapshot(ctx, p.snapshotPath())
	if !startup || err != nil {
		p.collector.ObserveJob("publish", p.now(), time.Since(start), err == nil)
		p.saveState(ctx)
	}
	if err != nil {
		p.logger.Error("publish the snapshot", "err", err)
		return err
	}
	p.logger.Info("snapshot published", "path", pub.Path, "tables", pub.Tables, "bytes", pub.Bytes, "duration", pub.Duration.Round(time.Millisecond))
	return nil
}

// newAPI builds /api/v1: queries run in the worker pool, sync runs are read
// from runs (a read pool of the warehouse), trigger starts a sync and
// compute and reports false when a job is running.
func (p *pipeline) newAPI(addr net.Addr, pool *sqlworker.Pool, runs warehouse.Querier, trigger func() bool) *api.API {
	s := p.cfg.Server
	auth := web.Auth{Token: p.sqlToken()}
	if auth.Token != "" {
		// The pages' sign-in cookie opens reading too (the SQL console
		// posts to /api/v1/sql); never what writes.
		auth.Session = func(r *http.Request) bool { return ui.SessionOK(r, auth.Token) }
	}
	if s.AdminTokenEnv != "" {
		auth.AdminToken = os.Getenv(s.AdminTokenEnv)
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && !tcp.IP.IsLoopback() && auth.Token == "" {
		// checkListen refuses this for serve; other callers get a closed API.
		auth.Disabled = "this server listens beyond loopback without a token: set server.sql_token_env and export the variable to enable /api/v1"
	}
	return api.New(api.Options{
		Runner:            pool,
		Runs:              runs,
		Trigger:           trigger,
		Auth:              auth,
		Timeout:           s.StatementTimeout(),
		MaxBytes:          s.MaxResultBytes(),
		ClientConcurrency: s.SQLClientConcurrency,
		SyncInterval:      s.SyncInterval(),
		Logger:            p.logger,
		Plan:              p.planInputs,
	})
}

// sqlToken is the token of server.sql_token_env, "" when none is set.
func (p *pipeline) sqlToken() string {
	if env := p.cfg.Server.SQLTokenEnv; env != "" {
		return os.Getenv(env)
	}
	return ""
}

type discardPrintf struct{}

func (discardPrintf) Printf(string, ...any) {}
