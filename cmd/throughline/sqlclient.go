package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/internal/sqlresult"
	"github.com/throughline/throughline/internal/web"
	"github.com/throughline/throughline/internal/web/api"
	"github.com/throughline/throughline/warehouse"
)

// errNoServer reports that no Throughline server answers at server.listen.
var errNoServer = errors.New("no throughline server")

// serverDialTimeout bounds the attempt to reach a running server.
const serverDialTimeout = 500 * time.Millisecond

// queryServer runs query through the SQL API of the server at
// cfg.Server.Listen. It returns errNoServer when nothing (or something
// other than Throughline) listens there.
func queryServer(ctx context.Context, cfg *config.Config, query string) (*sqlresult.Result, error) {
	var res sqlresult.Result
	if err := callServer(ctx, cfg, "/api/v1/sql", api.Request{SQL: query}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// callServer posts req as JSON to path on the server at cfg.Server.Listen
// (with the bearer token of server.sql_token_env) and decodes a 200 answer
// into res. It returns errNoServer when nothing (or something other than
// Throughline) listens there.
func callServer(ctx context.Context, cfg *config.Config, path string, req, res any) error {
	addr := dialAddr(cfg.Server.Listen)
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("server.listen %q: %w", cfg.Server.Listen, err)
	}
	hr.Header.Set("Content-Type", sqlresult.MediaJSON)
	hr.Header.Set("Accept", sqlresult.MediaJSON)
	if env := cfg.Server.SQLTokenEnv; env != "" {
		if tok := os.Getenv(env); tok != "" {
			hr.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: serverDialTimeout}).DialContext},
		Timeout:   cfg.Server.StatementTimeout() + 30*time.Second,
	}
	resp, err := client.Do(hr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return errNoServer
		}
		return fmt.Errorf("ask the server at %s: %w", addr, err)
	}
	defer resp.Body.Close()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode == http.StatusNotFound || ct != sqlresult.MediaJSON {
		return errNoServer // another program, or a server without the endpoint
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if resp.StatusCode != http.StatusOK {
		var e web.ErrorBody
		if err := dec.Decode(&e); err != nil || e.Error == "" {
			return fmt.Errorf("the server at %s answered %s", addr, resp.Status)
		}
		if resp.StatusCode == http.StatusUnauthorized && cfg.Server.SQLTokenEnv != "" {
			return fmt.Errorf("the server at %s: %s; export %s with the server's token", addr, e.Error, cfg.Server.SQLTokenEnv)
		}
		return &serverError{Addr: addr, Status: resp.StatusCode, Code: e.Code, Msg: e.Error}
	}
	if err := dec.Decode(res); err != nil {
		return fmt.Errorf("read the answer of the server at %s: %w", addr, err)
	}
	return nil
}

// serverError is a request the server refused, with its answer's code.
type serverError struct {
	Addr      string
	Status    int
	Code, Msg string
}

func (e *serverError) Error() string {
	return fmt.Sprintf("the server at %s refused the request (%s): %s", e.Addr, e.Code, e.Msg)
}

// dialAddr turns a listen address into one to connect to.
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

// queryFile runs query on the warehouse file, opened read-only, with the
// same checks and limits as the server's SQL API (no time-out: Ctrl-C stops
// it).
func queryFile(ctx context.Context, cfg *config.Config, query string) (*sqlresult.Result, error) {
	db, err := openComputed(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.Lockdown(ctx); err != nil {
		return nil, err
	}
	guard, err := warehouse.NewGuard(ctx, db.DB)
	if err != nil {
		return nil, err
	}
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var col sqlresult.Collector
	lim := sqlresult.Limit(sqlresult.Limits{MaxRows: api.DefaultMaxRows, MaxBytes: cfg.Server.MaxResultBytes()}, &col)
	if err := guard.Query(ctx, c, query, api.DefaultMaxRows, lim); err != nil {
		return nil, err
	}
	col.Result.Truncated = lim.Truncated()
	return &col.Result, nil
}
