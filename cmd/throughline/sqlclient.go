package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/throughline/throughline/internal/config"
)

// errNoServer reports that no Throughline server answers at server.listen.
var errNoServer = errors.New("no throughline server")

// serverDialTimeout bounds the attempt to reach a running server.
const serverDialTimeout = 500 * time.Millisecond

// queryServer runs query through the SQL API of the server at
// cfg.Server.Listen. It returns errNoServer when nothing (or something
// other than Throughline) listens there.
func queryServer(ctx context.Context, cfg *config.Config, query string) (*queryResult, error) {
	var res queryResult
	if err := callServer(ctx, cfg, "/api/v1/sql", sqlRequest{SQL: query}, &res); err != nil {
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
	hr.Header.Set("Content-Type", mediaJSON)
	hr.Header.Set("Accept", mediaJSON)
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
	if resp.StatusCode == http.StatusNotFound || ct != mediaJSON {
		return errNoServer // another program, or a server without the endpoint
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if resp.StatusCode != http.StatusOK {
		var e apiError
		if err := dec.Decode(&e); err != nil || e.Error == "" {
			return fmt.Errorf("the server at %s answered %s", addr, resp.Status)
		}
		if resp.StatusCode == http.StatusUnauthorized && cfg.Server.SQLTokenEnv != "" {
			return fmt.Errorf("the server at %s: %s; export %s with the server's token", addr, e.Error, cfg.Server.SQLTokenEnv)
		}
		return fmt.Errorf("the server at %s refused the request (%s): %w", addr, e.Code, &queryError{Status: resp.StatusCode, Code: e.Code, Msg: e.Error})
	}
	if err := dec.Decode(res); err != nil {
		return fmt.Errorf("read the answer of the server at %s: %w", addr, err)
	}
	return nil
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
// same checks as the server's SQL API (no time-out: Ctrl-C stops it).
func queryFile(ctx context.Context, cfg *config.Config, query string) (*queryResult, error) {
	db, err := openComputed(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.Lockdown(ctx); err != nil {
		return nil, err
	}
	guard, err := newSQLGuard(ctx, db.DB)
	if err != nil {
		return nil, err
	}
	r := &sqlRunner{pool: db.DB, guard: guard, maxRows: sqlMaxRows}
	return r.run(ctx, query, 0)
}

// writeResult prints a result as table, csv, json (one object per line),
// arrow (an Arrow IPC stream) or parquet.
func writeResult(w io.Writer, res *queryResult, format string) error {
	switch format {
	case "arrow":
		return writeResultArrow(w, res)
	case "parquet":
		return writeResultParquet(w, res)
	case "csv":
		return writeResultCSV(w, res)
	case "json":
		var b bytes.Buffer
		for _, row := range res.Rows {
			b.Reset()
			b.WriteByte('{')
			for i, v := range row {
				if i > 0 {
					b.WriteByte(',')
				}
				k, _ := json.Marshal(res.Columns[i].Name)
				val, err := json.Marshal(v)
				if err != nil {
					return err
				}
				b.Write(k)
				b.WriteByte(':')
				b.Write(val)
			}
			b.WriteString("}\n")
			if _, err := w.Write(b.Bytes()); err != nil {
				return err
			}
		}
		return nil
	default:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		names := make([]string, len(res.Columns))
		for i, c := range res.Columns {
			names[i] = c.Name
		}
		fmt.Fprintln(tw, strings.Join(names, "\t"))
		rec := make([]string, len(res.Columns))
		for _, row := range res.Rows {
			for i, v := range row {
				rec[i] = tableCell(v)
			}
			fmt.Fprintln(tw, strings.Join(rec, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		_, err := fmt.Fprintf(w, "(%d rows)\n", res.RowCount)
		return err
	}
}

// tableCell is textCell with fractions rounded to 4 places for reading.
func tableCell(v any) string {
	if n, ok := v.(json.Number); ok && strings.ContainsAny(n.String(), ".eE") {
		if f, err := n.Float64(); err == nil {
			return strings.TrimRight(strings.TrimRight(strconv.FormatFloat(f, 'f', 4, 64), "0"), ".")
		}
	}
	return strings.ReplaceAll(textCell(v), "\t", " ")
}
