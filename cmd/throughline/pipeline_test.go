package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/throughline/throughline/connectors/jira/jiratest"
)

// A source asking to wait longer than its max_retry_after ends the sync
// with an error naming the source and the wait, and
// throughline_sync_retry_after_exceeded_total counts it.
func TestSyncStoppedByLongRetryAfterIsCounted(t *testing.T) {
	srv := jiratest.NewTest(t, jiratest.Generate(jiratest.GenOptions{Issues: 20, Seed: 1}), jiratest.Options{})
	srv.Throttle("/rest/api/2/serverInfo", 1, time.Hour)
	dir := t.TempDir()
	yaml := fmt.Sprintf(`warehouse: {path: w.duckdb}
timezone: UTC
sources:
  - {name: busy, kind: jira, base_url: %s, email: %s, token_env: TL_PIPELINE_TOKEN, jql: "project in (WEB, OPS)"}
`, srv.BaseURL(), jiratest.DefaultEmail)
	path := filepath.Join(dir, "throughline.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TL_PIPELINE_TOKEN", jiratest.DefaultToken)
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := openWarehouse(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p := newPipeline(cfg, db, slog.New(slog.DiscardHandler))
	p.progress = false
	err = p.syncAll(ctx, "busy", false)
	for _, w := range []string{"sync busy", "jira GET /rest/api/2/serverInfo", "1h0m0s", "max_retry_after 2m0s"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("sync error %v does not name %q", err, w)
		}
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.collector)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			labels := ""
			for _, l := range m.GetLabel() {
				labels += l.GetName() + "=" + l.GetValue() + ","
			}
			if strings.HasPrefix(f.GetName(), "throughline_sync_") {
				got[f.GetName()+"{"+labels+"}"] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
	}
	for k, want := range map[string]float64{
		"throughline_sync_retry_after_exceeded_total{source=busy,}": 1,
		"throughline_sync_errors_total{reason=error,source=busy,}":  1,
		"throughline_sync_requests_total{code=429,source=busy,}":    1,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], want, got)
		}
	}
	// The next run, the fault gone, succeeds; the counter stays.
	if err := p.syncAll(ctx, "busy", false); err != nil {
		t.Fatal(err)
	}
}
