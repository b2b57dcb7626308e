package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/throughline/throughline/connectors/jira"
	"github.com/throughline/throughline/connectors/jira/jiratest"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/warehouse"
)

// currentRSS is the process's resident set now (VmRSS), in bytes.
func currentRSS() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	return 0
}

// jiraBenchIssues is the fake site's size (THROUGHLINE_BENCH_ISSUES, default 50,000).
func jiraBenchIssues() int {
	if s := os.Getenv("THROUGHLINE_BENCH_ISSUES"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 50_000
}

// BenchmarkJiraSync runs a full sync of a fake Jira Cloud site (issues with
// 10 status changes on average, worklogs, versions) into a warehouse file
// (memory_limit THROUGHLINE_BENCH_MEMORY, default 2GB), checkpointed at the
// end, and reports
// issues/s, the RSS of the fake site alone (fake-RSS-MB) and the process
// peak. The baseline, in the same run, is the
// ceiling: the very requests the connector made (search pages, bulk
// changelogs, versions…) replayed one after another with a plain
// http.Client and JSON-decoded into generic values.
func BenchmarkJiraSync(b *testing.B) {
	n := jiraBenchIssues()
	d := jiratest.Generate(jiratest.GenOptions{Issues: n, ChangesPerIssue: 10, Seed: 1})
	srv := jiratest.NewTest(b, d, jiratest.Options{})
	ctx := context.Background()
	// The fake site lives in this process: its memory is the floor of the
	// peak RSS reported below.
	runtime.GC()
	fakeRSS := currentRSS()
	var replay []jiratest.Request
	b.Run("connector", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			db, err := warehouse.Open(ctx, warehouse.Options{Path: b.TempDir() + "/jira.duckdb", MemoryLimit: benchMemoryLimit()})
			if err != nil {
				b.Fatal(err)
			}
			c, err := jira.New(jira.Config{BaseURL: srv.BaseURL(), Email: jiratest.DefaultEmail, Token: jiratest.DefaultToken,
				JQL: "project in (WEB, OPS)"}, jira.Options{})
			if err != nil {
				b.Fatal(err)
			}
			before := len(srv.Requests())
			b.StartTimer()
			if _, err := ingest.Sync(ctx, db, db, "bench", c, ingest.SyncOptions{}); err != nil {
				b.Fatal(err)
			}
			// The sync ends with its rows in the file, the WAL folded in:
			// the checkpoints DuckDB did not run during the sync are
			// timed too.
			if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			replay = srv.Requests()[before:]
			var got, changes int
			db.QueryRow("SELECT count(*) FROM work_items").Scan(&got)
			db.QueryRow("SELECT count(*) FROM status_changes").Scan(&changes)
			if got != n {
				b.Fatalf("work_items = %d, want %d", got, n)
			}
			db.Close()
			b.ReportMetric(float64(changes)/float64(n), "changes/issue")
			b.StartTimer()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "issues/s")
		b.ReportMetric(fakeRSS/1e6, "fake-RSS-MB")
		reportPeakRSS(b)
	})
	b.Run("http_decode", func(b *testing.B) {
		if len(replay) == 0 {
			b.Skip("no connector run to replay")
		}
		hc := &http.Client{}
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(jiratest.DefaultEmail+":"+jiratest.DefaultToken))
		for b.Loop() {
			for _, r := range replay {
				if err := replayRequest(ctx, hc, srv.URL, auth, r); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "issues/s")
		b.ReportMetric(float64(len(replay)), "requests")
		reportPeakRSS(b)
	})
}

func replayRequest(ctx context.Context, hc *http.Client, base, auth string, r jiratest.Request) error {
	u := base + r.Path
	if len(r.Query) > 0 {
		u += "?" + r.Query.Encode()
	}
	var body *bytes.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	} else {
		body = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var v any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return fmt.Errorf("%s %s: decode: %w", r.Method, r.Path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s", r.Method, r.Path, resp.Status)
	}
	return nil
}
