package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
	"github.com/throughline/throughline/internal/sqlworker"
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
	srv := web.New(web.Options{Gatherer: reg, Ready: ready.Load, Logger: p.logger})
	// From here on no SQL of this process reads files or changes settings;
	// the SQL API relies on it.
	if err := p.db.Lockdown(ctx); err != nil {
		ln.Close()
		return err
	}
	a, closeAPI, err := p.newAPI(ctx, ln.Addr(), triggerSync)
	if err != nil {
		ln.Close()
		return err
	}
	defer closeAPI()
	a.Register(srv)
	wg.Go(func() {
		if err := srv.Serve(ctx, ln); err != nil {
			p.logger.Error("http server", "err", err)
		}
	})
	p.logger.Info("serving", "metrics", "http://"+ln.Addr().String()+"/metrics", "sync", p.cfg.Schedules.Sync, "compute", p.cfg.Schedules.Compute)
	if initial {
		wg.Go(func() { runSync(); runCompute() })
	} else {
		ready.Store(p.collector.Snapshot() != nil)
	}
	c.Start()
	<-ctx.Done()
	p.logger.Info("shutting down: waiting for the running job")
	stopped := c.Stop() // no new jobs; wait for the running one
	<-stopped.Done()
	// The HTTP server shuts down on ctx; the initial run (if any) finishes, or rolls back on the canceled context.
	wg.Wait()
	return nil
}

// sqlPoolConns is how many API queries run at once; more wait for a
// connection (within their time-out).
const sqlPoolConns = 4

// newAPI builds /api/v1 over a read pool of the warehouse. The caller has
// locked the warehouse down (warehouse.DB.Lockdown). trigger starts a sync
// and compute and reports false when a job is running.
func (p *pipeline) newAPI(ctx context.Context, addr net.Addr, trigger func() bool) (*api.API, func(), error) {
	pool := p.db.ReadPool(sqlPoolConns)
	guard, err := warehouse.NewGuard(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	timeout := p.cfg.Server.StatementTimeout()
	auth := web.Auth{}
	if env := p.cfg.Server.SQLTokenEnv; env != "" {
		auth.Token = os.Getenv(env)
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && !tcp.IP.IsLoopback() && auth.Token == "" {
		// checkListen refuses this for serve; other callers get a closed API.
		auth.Disabled = "this server listens beyond loopback without a token: set server.sql_token_env and export the variable to enable /api/v1"
	}
	a := api.New(api.Options{
		Runner:  &sqlworker.Local{DB: pool, Guard: guard, Timeout: timeout},
		Runs:    pool,
		Trigger: trigger,
		Auth:    auth,
		Timeout: timeout,
		Logger:  p.logger,
	})
	return a, func() { pool.Close() }, nil
}

type discardPrintf struct{}

func (discardPrintf) Printf(string, ...any) {}
