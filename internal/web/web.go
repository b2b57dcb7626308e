// Package web is the HTTP server of `throughline serve`: the mux, /metrics,
// the probes, bearer-token checks, error answers and the limits that keep a
// hostile client from starving the rest (time-outs on every phase of a
// request, a cap on open connections that closes idle ones first). Other
// packages register their handlers on it: the API (package api) and,
// later, read-only pages, each wrapped in the Auth they need.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure a Server. Zero durations and limits get the defaults
// below.
type Options struct {
	Gatherer prometheus.Gatherer // served at /metrics
	Ready    func() bool         // /readyz answers 200 once it reports true
	Logger   *slog.Logger

	ReadHeaderTimeout time.Duration // to read a request's headers
	ReadTimeout       time.Duration // to read a whole request, body included
	WriteTimeout      time.Duration // to write an answer; handlers may extend theirs
	IdleTimeout       time.Duration // a keep-alive connection waiting for its next request
	MaxConns          int           // open connections; idle ones are closed to admit new ones
}

// Defaults of Options.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultMaxConns          = 4096
)

// Server is the HTTP surface of serve.
type Server struct {
	mux  *http.ServeMux
	opts Options
}

// New builds a server with /metrics, /healthz and /readyz registered.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Ready == nil {
		o.Ready = func() bool { return true }
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&o.ReadHeaderTimeout, DefaultReadHeaderTimeout}, {&o.ReadTimeout, DefaultReadTimeout},
		{&o.WriteTimeout, DefaultWriteTimeout}, {&o.IdleTimeout, DefaultIdleTimeout}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	s := &Server{mux: http.NewServeMux(), opts: o}
	if o.Gatherer != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !o.Ready() {
			http.Error(w, "no compute has finished yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return s
}

// Handle registers a handler (see http.ServeMux for patterns).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP serves one request (for tests; Serve adds the limits).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Serve answers on ln until ctx ends, then shuts down gracefully (10 s for
// requests in flight) and closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	cl := newConnLimiter(ln, s.opts.MaxConns)
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ConnState:         cl.track,
		ErrorLog:          slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelDebug),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(cl) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ErrorBody is the JSON body of every error answer of the API.
type ErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// Error answers status with {"error": msg, "code": code}.
func Error(w http.ResponseWriter, status int, code, msg string) {
	JSON(w, status, ErrorBody{Error: msg, Code: code})
}

// JSON answers status with v as JSON (no HTML escaping, not cached).
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
