package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"
	"github.com/throughline/throughline/internal/ui"
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
	// One writer at a time: a sync and a compute never overlap.
	var writer sync.Mutex
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
		return usagef("schedules.sync: %v", err)
	}
	if p.cfg.Schedules.Compute != p.cfg.Schedules.Sync {
		if _, err := c.AddFunc(p.cfg.Schedules.Compute, withJitter(runCompute)); err != nil {
			return usagef("schedules.compute: %v", err)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(p.collector)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true, ErrorLog: nil}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "no compute has finished yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	// From here on no SQL of this process reads files or changes settings;
	// the SQL API relies on it.
	if err := p.db.Lockdown(ctx); err != nil {
		ln.Close()
		return err
	}
	api, err := p.newSQLAPI(ctx, ln.Addr(), triggerSync)
	if err != nil {
		ln.Close()
		return err
	}
	defer api.close()
	api.register(mux)
	registerPlanAPI(mux, api.auth, p.planInputs, p.logger)
	if err := p.mountPages(ctx, mux, initial); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.logger.Error("http server", "err", err)
		}
	})
	p.logger.Info("serving", "pages", "http://"+ln.Addr().String()+"/", "metrics", "http://"+ln.Addr().String()+"/metrics", "sync", p.cfg.Schedules.Sync, "compute", p.cfg.Schedules.Compute)
	ready.Store(p.collector.Snapshot() != nil)
	if initial {
		wg.Go(func() { runSync(); runCompute() })
	}
	c.Start()
	<-ctx.Done()
	p.logger.Info("shutting down: waiting for the running job")
	stopped := c.Stop() // no new jobs; wait for the running one
	<-stopped.Done()
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	// The initial run (if any) finishes, or rolls back on the canceled context.
	wg.Wait()
	return nil
}

// mountPages serves the web pages at / from a model loaded after each
// compute (now, when a compute already ran).
func (p *pipeline) mountPages(ctx context.Context, mux *http.ServeMux, initial bool) error {
	p.pages = &ui.Store{}
	if !initial && p.collector.Snapshot() != nil {
		p.refreshPages(ctx)
	}
	var token string
	if env := p.cfg.Server.SQLTokenEnv; env != "" {
		token = os.Getenv(env)
	}
	pages, err := ui.New(ui.Options{Model: p.pages.Model, Token: token, Logger: p.logger, Version: build().Version})
	if err != nil {
		return err
	}
	mux.Handle("/", pages)
	return nil
}

type discardPrintf struct{}

func (discardPrintf) Printf(string, ...any) {}
