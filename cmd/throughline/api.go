package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/throughline/throughline/internal/ui"
)

// sqlPoolConns is how many API queries run at once; more wait for a
// connection (within their time-out).
const sqlPoolConns = 4

// sqlAPI serves /api/v1: ad-hoc SQL, sync runs and a sync trigger.
type sqlAPI struct {
	runner   *sqlRunner
	pool     *sql.DB
	token    string // "": no token configured
	disabled string // non-empty: every request is refused with this message
	trigger  func() bool
	logger   *slog.Logger
}

// newSQLAPI opens the read pool and builds the guard. The caller has locked
// the warehouse down (warehouse.DB.Lockdown). trigger starts a sync and
// compute and reports false when a job is running.
func (p *pipeline) newSQLAPI(ctx context.Context, addr net.Addr, trigger func() bool) (*sqlAPI, error) {
	pool := p.db.ReadPool(sqlPoolConns)
	guard, err := newSQLGuard(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	a := &sqlAPI{
		runner:  &sqlRunner{pool: pool, guard: guard, timeout: p.cfg.Server.StatementTimeout(), maxRows: sqlMaxRows},
		pool:    pool,
		trigger: trigger,
		logger:  p.logger,
	}
	if env := p.cfg.Server.SQLTokenEnv; env != "" {
		a.token = os.Getenv(env)
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && !tcp.IP.IsLoopback() && a.token == "" {
		// checkListen refuses this for serve; other callers get a closed API.
		a.disabled = "this server listens beyond loopback without a token: set server.sql_token_env and export the variable to enable /api/v1"
	}
	return a, nil
}

func (a *sqlAPI) close() error { return a.pool.Close() }

// register adds the routes to mux.
func (a *sqlAPI) register(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/sql", a.auth(a.handleSQL))
	mux.Handle("GET /api/v1/sync-runs", a.auth(a.handleSyncRuns))
	mux.Handle("POST /api/v1/sync", a.auth(a.handleSync))
	mux.Handle("/api/v1/", a.auth(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, queryErrorf(http.StatusNotFound, "not_found", "no such endpoint: %s %s", r.Method, r.URL.Path))
	}))
}

// auth requires the bearer token when one is configured.
func (a *sqlAPI) auth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.disabled != "" {
			writeError(w, queryErrorf(http.StatusUnauthorized, "unauthorized", "%s", a.disabled))
			return
		}
		if a.token != "" && !ui.SessionOK(r, a.token) { // the web console's session cookie, or:
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			// Hash both sides: the comparison is constant-time and does
			// not reveal the token's length.
			want, have := sha256.Sum256([]byte(a.token)), sha256.Sum256([]byte(strings.TrimSpace(got)))
			if !ok || subtle.ConstantTimeCompare(want[:], have[:]) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="throughline"`)
				writeError(w, queryErrorf(http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token (Authorization: Bearer <the token in server.sql_token_env>)"))
				return
			}
		}
		next(w, r)
	})
}

// sqlRequest is the body of POST /api/v1/sql.
type sqlRequest struct {
	SQL     string `json:"sql"`
	MaxRows int    `json:"max_rows,omitempty"` // lowers the server's row limit
}

// Media types of the SQL API.
const (
	mediaJSON    = "application/json"
	mediaCSV     = "text/csv"
	mediaArrow   = "application/vnd.apache.arrow.stream"
	mediaParquet = "application/vnd.apache.parquet"
)

func (a *sqlAPI) handleSQL(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	format, err := negotiate(r.Header.Get("Accept"))
	if err != nil {
		writeError(w, err)
		return
	}
	req, err := readSQLRequest(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	a.logger.Debug("sql api query", "sql", req.SQL)
	res, err := a.runner.run(r.Context(), req.SQL, req.MaxRows)
	log := a.logger.With("duration", time.Since(start).Round(time.Millisecond))
	if err != nil {
		var qe *queryError
		if errors.As(err, &qe) {
			log.Info("sql api query refused", "code", qe.Code, "err", qe.Msg)
		} else if !errors.Is(err, context.Canceled) {
			log.Error("sql api query failed", "err", err)
		}
		writeError(w, err)
		return
	}
	log.Info("sql api query", "rows", res.RowCount, "truncated", res.Truncated)
	w.Header().Set("X-Throughline-Truncated", strconv.FormatBool(res.Truncated))
	w.Header().Set("X-Throughline-Row-Count", strconv.Itoa(res.RowCount))
	switch format {
	case mediaCSV:
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		writeResultCSV(w, res)
	case mediaArrow, mediaParquet:
		// Encode in memory (the row limit bounds it): an encoding error
		// still gets an error answer, and Parquet wants a complete write.
		write := writeResultArrow
		if format == mediaParquet {
			write = writeResultParquet
		}
		var b bytes.Buffer
		if err := write(&b, res); err != nil {
			log.Error("sql api encode", "format", format, "err", err)
			w.Header().Del("X-Throughline-Truncated")
			w.Header().Del("X-Throughline-Row-Count")
			writeError(w, fmt.Errorf("encode the result as %s: %w", format, err))
			return
		}
		w.Header().Set("Content-Type", format)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
		w.Write(b.Bytes())
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

func readSQLRequest(w http.ResponseWriter, r *http.Request) (sqlRequest, error) {
	var req sqlRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return req, queryErrorf(http.StatusBadRequest, "bad_request", "read the request body (at most 1 MiB): %v", err)
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/sql", "text/plain":
		req.SQL = string(body)
	default:
		if err := json.Unmarshal(body, &req); err != nil {
			return req, queryErrorf(http.StatusBadRequest, "bad_request", `want a JSON body {"sql": "SELECT …"} (or Content-Type: application/sql): %v`, err)
		}
	}
	if req.MaxRows < 0 {
		return req, queryErrorf(http.StatusBadRequest, "bad_request", "max_rows %d: want a positive number", req.MaxRows)
	}
	return req, nil
}

// negotiate picks the response format from an Accept header.
func negotiate(accept string) (string, error) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, nil
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		switch mt {
		case mediaJSON, "application/*", "*/*":
			return mediaJSON, nil
		case mediaCSV, "text/*":
			return mediaCSV, nil
		case mediaArrow:
			return mediaArrow, nil
		case mediaParquet, "application/x-parquet", "application/parquet":
			return mediaParquet, nil
		}
	}
	return "", queryErrorf(http.StatusNotAcceptable, "bad_request", "Accept %q: this API answers application/json, text/csv, %s or %s", accept, mediaArrow, mediaParquet)
}

// syncRun is one row of GET /api/v1/sync-runs.
type syncRun struct {
	RunID      int64      `json:"run_id"`
	SourceID   string     `json:"source_id"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Status     string     `json:"status"`
	Items      *int64     `json:"items"`
	Batches    *int64     `json:"batches"`
	Problems   *int64     `json:"problems"`
	Error      *string    `json:"error"`
	Cursor     *string    `json:"cursor"`
}

func (a *sqlAPI) handleSyncRuns(w http.ResponseWriter, r *http.Request) {
	runs, err := a.syncRuns(r.Context())
	if err != nil {
		a.logger.Error("list sync runs", "err", err)
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, runs)
}

// syncRuns lists the latest 100 runs, newest first.
func (a *sqlAPI) syncRuns(ctx context.Context) ([]syncRun, error) {
	rows, err := a.pool.QueryContext(ctx, `SELECT run_id, source_id, started_at, finished_at, status, items, batches, problems, error, cursor
		FROM sync_runs ORDER BY run_id DESC LIMIT 100`)
	if err != nil {
		return nil, fmt.Errorf("list sync runs: %w", err)
	}
	defer rows.Close()
	runs := []syncRun{}
	for rows.Next() {
		var s syncRun
		var finished sql.NullTime
		if err := rows.Scan(&s.RunID, &s.SourceID, &s.StartedAt, &finished, &s.Status, &s.Items, &s.Batches, &s.Problems, &s.Error, &s.Cursor); err != nil {
			return nil, fmt.Errorf("list sync runs: %w", err)
		}
		s.StartedAt = s.StartedAt.UTC()
		if finished.Valid {
			t := finished.Time.UTC()
			s.FinishedAt = &t
		}
		runs = append(runs, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sync runs: %w", err)
	}
	return runs, nil
}

func (a *sqlAPI) handleSync(w http.ResponseWriter, _ *http.Request) {
	if !a.trigger() {
		writeError(w, queryErrorf(http.StatusConflict, "conflict", "a sync or compute is running; try again when it has finished (GET /api/v1/sync-runs)"))
		return
	}
	a.logger.Info("sync triggered through the API")
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "started"})
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func writeError(w http.ResponseWriter, err error) {
	var qe *queryError
	if !errors.As(err, &qe) {
		qe = &queryError{Status: http.StatusInternalServerError, Code: "internal", Msg: err.Error()}
	}
	writeJSON(w, qe.Status, apiError{Error: qe.Msg, Code: qe.Code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// writeResultCSV writes a header row and one line per row.
func writeResultCSV(w io.Writer, res *queryResult) error {
	cw := csv.NewWriter(w)
	rec := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		rec[i] = c.Name
	}
	cw.Write(rec)
	for _, row := range res.Rows {
		for i, v := range row {
			rec[i] = textCell(v)
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// textCell is a JSON-native value as CSV text: nested values as JSON.
func textCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}
