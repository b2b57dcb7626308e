// Package api is /api/v1 of `throughline serve`: ad-hoc SQL (POST
// /api/v1/sql), the sync runs, the sync trigger and the planner (POST
// /api/v1/plan). It registers on a
// web.Server; the queries run in a Runner (the SQL worker pool).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/throughline/throughline/internal/sqlresult"
	"github.com/throughline/throughline/internal/sqlworker"
	"github.com/throughline/throughline/internal/web"
	"github.com/throughline/throughline/metrics/plan"
	"github.com/throughline/throughline/warehouse"
)

// DefaultMaxRows is the row limit of POST /api/v1/sql (a request may ask
// for fewer).
const DefaultMaxRows = 100_000

// Runner answers SQL requests (sqlworker).
type Runner interface {
	Run(ctx context.Context, req sqlworker.Request) (*sqlworker.Answer, error)
}

// Options configure the API.
type Options struct {
	Runner  Runner
	Runs    warehouse.Querier // the warehouse (a read pool) for sync-runs
	Trigger func() bool       // starts a sync and compute; false while one runs
	Auth    web.Auth
	// Timeout bounds a SQL request from its arrival to its last byte sent
	// (default 30s).
	Timeout  time.Duration
	MaxRows  int   // 0: DefaultMaxRows
	MaxBytes int64 // 0: none
	// ClientConcurrency is how many SQL requests one client address runs
	// at once; more wait within their time-out (0: no limit).
	ClientConcurrency int
	// SyncInterval is the least time between two accepted sync triggers.
	SyncInterval time.Duration
	Now          func() time.Time
	Logger       *slog.Logger
	// Plan, when set, serves POST /api/v1/plan: the planner's inputs of
	// the last compute, nil before the first.
	Plan func() *plan.Inputs
}

// API serves /api/v1.
type API struct {
	o        Options
	clients  *clientSlots
	failures *failures

	mu       sync.Mutex
	lastSync time.Time
}

// New builds the API.
func New(o Options) *API {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &API{o: o, clients: newClientSlots(o.ClientConcurrency), failures: &failures{now: o.Now, at: map[string][]time.Time{}}}
}

// sendGrace is how long past a SQL request's time-out its answer may still
// be written: the worker is stopped at the time-out, and a client that
// reads slower than that loses the connection.
const sendGrace = time.Second

// Register adds the routes to s.
func (a *API) Register(s interface{ Handle(string, http.Handler) }) {
	auth := a.o.Auth.Require
	s.Handle("POST /api/v1/sql", auth(http.HandlerFunc(a.handleSQL)))
	s.Handle("GET /api/v1/sync-runs", auth(http.HandlerFunc(a.handleSyncRuns)))
	s.Handle("POST /api/v1/sync", a.o.Auth.RequireAdmin(http.HandlerFunc(a.handleSync)))
	if a.o.Plan != nil {
		s.Handle("POST /api/v1/plan", auth(http.HandlerFunc(a.handlePlan)))
	}
	s.Handle("/api/v1/", auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.Error(w, http.StatusNotFound, "not_found", fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path))
	})))
}

// Request is the body of POST /api/v1/sql.
type Request struct {
	SQL     string `json:"sql"`
	MaxRows int    `json:"max_rows,omitempty"` // lowers the server's row limit
}

// requestError is an answer to a bad request.
type requestError struct {
	status    int
	code, msg string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(status int, code, format string, args ...any) *requestError {
	return &requestError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

func (a *API) handleSQL(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), a.o.Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	http.NewResponseController(w).SetWriteDeadline(deadline.Add(sendGrace))
	format, err := Negotiate(r.Header.Get("Accept"))
	if err != nil {
		a.writeError(w, err)
		return
	}
	req, err := readRequest(w, r)
	if err != nil {
		a.writeError(w, err)
		return
	}
	maxRows := a.o.MaxRows
	if req.MaxRows > 0 && req.MaxRows < maxRows {
		maxRows = req.MaxRows
	}
	a.o.Logger.Debug("sql api query", "sql", req.SQL)
	client := clientKey(r)
	if wait := a.failures.wait(client); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		a.writeError(w, badRequest(http.StatusTooManyRequests, "rate_limited",
			"this client's queries crashed SQL workers or ran them out of memory %d times within %s: try again in %s",
			failuresAllowed, failureWindow, wait.Round(time.Second)))
		return
	}
	release, err := a.clients.acquire(ctx, client)
	if err != nil {
		a.writeError(w, err)
		return
	}
	defer release()
	ans, err := a.o.Runner.Run(ctx, sqlworker.Request{SQL: req.SQL, Format: format, MaxRows: maxRows, MaxBytes: a.o.MaxBytes})
	log := a.o.Logger.With("duration", time.Since(start).Round(time.Millisecond), "client", client)
	if err != nil {
		var qe *warehouse.QueryError
		var ie *sqlworker.InternalError
		switch {
		case errors.As(err, &qe):
			log.Info("sql api query refused", "code", qe.Code, "err", qe.Msg)
			if qe.Code == warehouse.CodeResourceLimit {
				a.failures.add(client)
			}
		case errors.As(err, &ie):
			// The pool logged the details under the id.
			a.failures.add(client)
		case errors.Is(err, context.Canceled):
			log.Info("sql api client went away")
			return
		default:
			log.Error("sql api query failed", "err", err)
		}
		a.writeError(w, err)
		return
	}
	defer ans.Close()
	log.Info("sql api query", "rows", ans.RowCount, "truncated", ans.Truncated, "bytes", ans.Size)
	h := w.Header()
	h.Set("X-Throughline-Truncated", strconv.FormatBool(ans.Truncated))
	h.Set("X-Throughline-Row-Count", strconv.Itoa(ans.RowCount))
	h.Set("Content-Type", format.ContentType())
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.FormatInt(ans.Size, 10))
	w.WriteHeader(http.StatusOK)
	if _, err := io.CopyN(w, ans.Body, ans.Size); err != nil && !errors.Is(err, context.Canceled) {
		log.Info("sql api answer not delivered", "err", err)
	}
}

func readRequest(w http.ResponseWriter, r *http.Request) (Request, error) {
	var req Request
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return req, badRequest(http.StatusBadRequest, "bad_request", "read the request body (at most 1 MiB): %v", err)
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/sql", "text/plain":
		req.SQL = string(body)
	default:
		if err := json.Unmarshal(body, &req); err != nil {
			return req, badRequest(http.StatusBadRequest, "bad_request", `want a JSON body {"sql": "SELECT …"} (or Content-Type: application/sql): %v`, err)
		}
	}
	if req.MaxRows < 0 {
		return req, badRequest(http.StatusBadRequest, "bad_request", "max_rows %d: want a positive number", req.MaxRows)
	}
	return req, nil
}

// Negotiate picks the answer's format from an Accept header.
func Negotiate(accept string) (sqlresult.Format, error) {
	if strings.TrimSpace(accept) == "" {
		return sqlresult.JSON, nil
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		switch mt {
		case sqlresult.MediaJSON, "application/*", "*/*":
			return sqlresult.JSON, nil
		case sqlresult.MediaCSV, "text/*":
			return sqlresult.CSV, nil
		case sqlresult.MediaArrow:
			return sqlresult.Arrow, nil
		case sqlresult.MediaParquet, "application/x-parquet", "application/parquet":
			return sqlresult.Parquet, nil
		}
	}
	return "", badRequest(http.StatusNotAcceptable, "bad_request", "Accept %q: this API answers application/json, text/csv, %s or %s",
		accept, sqlresult.MediaArrow, sqlresult.MediaParquet)
}

func (a *API) handleSyncRuns(w http.ResponseWriter, r *http.Request) {
	runs, err := warehouse.SyncRuns(r.Context(), a.o.Runs, 100)
	if err != nil {
		a.o.Logger.Error("list sync runs", "err", err)
		a.writeError(w, err)
		return
	}
	web.JSON(w, http.StatusOK, runs)
}

func (a *API) handleSync(w http.ResponseWriter, _ *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if wait := a.lastSync.Add(a.o.SyncInterval).Sub(a.o.Now()); !a.lastSync.IsZero() && wait > 0 {
		secs := int(wait.Round(time.Second) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
		web.Error(w, http.StatusTooManyRequests, "rate_limited",
			fmt.Sprintf("a sync was started less than %s ago (server.sync_min_interval); try again in %s", a.o.SyncInterval, wait.Round(time.Second)))
		return
	}
	if !a.o.Trigger() {
		web.Error(w, http.StatusConflict, "conflict", "a sync or compute is running; try again when it has finished (GET /api/v1/sync-runs)")
		return
	}
	a.lastSync = a.o.Now()
	a.o.Logger.Info("sync triggered through the API")
	web.JSON(w, http.StatusAccepted, map[string]string{"status": "started"})
}

// status is the HTTP status of a warehouse.QueryError code.
var status = map[string]int{
	warehouse.CodeParse:         http.StatusBadRequest,
	warehouse.CodeBadRequest:    http.StatusBadRequest,
	warehouse.CodeReadOnly:      http.StatusForbidden,
	warehouse.CodeForbidden:     http.StatusForbidden,
	warehouse.CodeTimeout:       http.StatusGatewayTimeout,
	warehouse.CodeResourceLimit: http.StatusUnprocessableEntity,
}

// writeError answers err: the client's mistakes with their code and a
// message without server paths, internal errors with an id that is in the
// server log.
func (a *API) writeError(w http.ResponseWriter, err error) {
	// An error answer is short: it goes out even after a late time-out.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(5 * time.Second))
	var re *requestError
	var qe *warehouse.QueryError
	var ie *sqlworker.InternalError
	switch {
	case errors.As(err, &re):
		web.Error(w, re.status, re.code, re.msg)
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &qe) && qe.Code == warehouse.CodeTimeout):
		msg := "the query did not finish"
		if qe != nil {
			msg = qe.Msg
		}
		web.Error(w, http.StatusGatewayTimeout, warehouse.CodeTimeout,
			fmt.Sprintf("%s: the time-out is %s from the request's arrival to its last byte (server.sql_timeout)", msg, a.o.Timeout))
	case qe != nil:
		st, ok := status[qe.Code]
		if !ok {
			st = http.StatusBadRequest
		}
		web.Error(w, st, qe.Code, qe.Msg)
	case errors.As(err, &ie):
		web.Error(w, http.StatusInternalServerError, "internal", ie.Error())
	case errors.Is(err, sqlworker.ErrNoSnapshot):
		w.Header().Set("Retry-After", "1")
		web.Error(w, http.StatusServiceUnavailable, "unavailable", err.Error())
	default:
		id := sqlworker.ErrorID()
		a.o.Logger.Error("internal error", "id", id, "err", err)
		web.Error(w, http.StatusInternalServerError, "internal", "internal error (error id "+id+" in the server log)")
	}
}
