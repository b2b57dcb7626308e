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
	addr := dialAddr(cfg.Server.Listen)
	body, err := json.Marshal(api.Request{SQL: query})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/v1/sql", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("server.listen %q: %w", cfg.Server.Listen, err)
	}
	req.Header.Set("Content-Type", sqlresult.MediaJSON)
	req.Header.Set("Accept", sqlresult.MediaJSON)
	if env := cfg.Server.SQLTokenEnv; env != "" {
		if tok := os.Getenv(env); tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: serverDialTimeout}).DialContext},
		Timeout:   cfg.Server.StatementTimeout() + 30*time.Second,
	}
	resp, err := client.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, errNoServer
		}
		return nil, fmt.Errorf("query the server at %s: %w", addr, err)
	}
	defer resp.Body.Close()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode == http.StatusNotFound || ct != sqlresult.MediaJSON {
		return nil, errNoServer // another program, or a server without the API
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if resp.StatusCode != http.StatusOK {
		var e web.ErrorBody
		if err := dec.Decode(&e); err != nil || e.Error == "" {
			return nil, fmt.Errorf("the server at %s answered %s", addr, resp.Status)
		}
		if resp.StatusCode == http.StatusUnauthorized && cfg.Server.SQLTokenEnv != "" {
			return nil, fmt.Errorf("the server at %s: %s; export %s with the server's token", addr, e.Error, cfg.Server.SQLTokenEnv)
		}
		return nil, fmt.Errorf("the server at %s refused the query (%s): %s", addr, e.Code, e.Error)
	}
	var res sqlresult.Result
	if err := dec.Decode(&res); err != nil {
		return nil, fmt.Errorf("read the answer of the server at %s: %w", addr, err)
	}
	return &res, nil
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
	if _, err := os.Stat(cfg.Warehouse.Path); err != nil {
		return nil, fmt.Errorf("warehouse %s does not exist yet: run `throughline sync` and `throughline compute` first", cfg.Warehouse.Path)
	}
	db, err := openWarehouse(ctx, cfg, true)
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
