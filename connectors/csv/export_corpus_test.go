package csv

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// corpusItem is what a PMO reads from the file for one item: when it
// started (started_at, in the zone), whether and on which local day it
// finished, whether it was discarded, its cycle and lead seconds.
type corpusItem struct {
	Started   string // "2006-01-02 15:04" local, "" without a start
	Finished  string // local finish day, "" when not finished
	Discarded bool
	Cycle     int64 // -1: none
	Lead      int64 // -1: none
}

// corpusShape is one export shape of the corpus (testdata/exports).
type corpusShape struct {
	dir    string
	layout string
	zone   string   // the exporting user's zone, and the config's
	done   []string // config workflow done, when the shape needs one
	items  map[string]corpusItem
	// Aggregates: throughput (completed, non-discarded), items with a cycle
	// time, items in lead_time_stats (*, *).
	throughput, cycleRows, leadRows int64
	quality                         map[string]string // data_quality check → example keys (only the checks listed)
	sql                             map[string]string // extra query → want (one text column, rows joined by "|")
}

const none = -1

var day = int64(86400)

var corpusShapes = []corpusShape{
	{
		dir: "jira-en-all-fields", layout: LayoutJiraExport, zone: "UTC",
		items: map[string]corpusItem{
			// Resolved: an exact finish; no record of a start (exports have no history).
			"EN-1": {Finished: "2026-03-06", Cycle: none, Lead: 4*day + 8*3600 + 1800},
			"EN-2": {Started: "2026-03-10 14:00", Cycle: none, Lead: none},
			// Won't Do: discarded, not throughput.
			"EN-3": {Finished: "2026-03-02", Discarded: true, Cycle: none, Lead: day},
			// Done without Resolved: Status Category Changed is the finish.
			"EN-4": {Finished: "2026-03-12", Cycle: none, Lead: 2 * day},
			"EN-5": {Cycle: none, Lead: none},
			// Reopened into review, Resolved kept: its category says it is not finished.
			"EN-6": {Started: "2026-03-15 10:00", Cycle: none, Lead: none},
			"EN-7": {Finished: "2026-03-20", Cycle: none, Lead: 4 * day},
		},
		throughput: 3, cycleRows: 0, leadRows: 3,
		quality: map[string]string{"skipped_start": "EN-1,EN-4,EN-7", "long_worklog": "EN-1", "approximate_finish": "", "approximate_start": ""},
		sql: map[string]string{
			"SELECT key || ':' || coalesce(split_part(parent_id, ':', 2), '') || ':' || coalesce(split_part(milestone_id, ':', 3), '') FROM work_items ORDER BY key": "EN-1::|EN-2::|EN-3::|EN-4::|EN-5:EN-1:|EN-6::|EN-7::1.0",
			"SELECT sum(seconds)::VARCHAR FROM worklogs": "633600",
		},
	},
	{
		dir: "jira-en-current-fields", layout: LayoutJiraExport, zone: "UTC", done: []string{"Deployed"},
		items: map[string]corpusItem{
			// No Status Category column: Done is done by its name; no Resolved, no
			// Status Category Changed: the finish is Updated (approximate).
			"CF-1": {Finished: "2026-03-05", Cycle: none, Lead: 3*day + 6*3600},
			// In Progress with a resolution (reopened): not finished.
			"CF-2": {Started: "2026-03-03 09:00", Cycle: none, Lead: none},
			"CF-3": {Finished: "2026-03-06", Discarded: true, Cycle: none, Lead: 2 * day},
			// An unknown status with a resolution: done.
			"CF-4": {Finished: "2026-03-09", Cycle: none, Lead: 4 * day},
			"CF-5": {Cycle: none, Lead: none},
			"CF-6": {Finished: "2026-03-08", Discarded: true, Cycle: none, Lead: 2 * day},
			"CF-7": {Cycle: none, Lead: none},
			// Configured as done: finishes at Updated, not at Created.
			"CF-8": {Finished: "2026-03-11", Cycle: none, Lead: 3 * day},
		},
		throughput: 3, cycleRows: 0, leadRows: 3,
		quality: map[string]string{
			"approximate_finish": "CF-1,CF-3,CF-4,CF-6,CF-8", "approximate_start": "CF-2", "unmapped_status": "CF-5",
		},
	},
	{
		dir: "jira-en-work-type", layout: LayoutJiraExport, zone: "UTC",
		items: map[string]corpusItem{
			"WT-1": {Started: "2026-03-02 09:00", Cycle: none, Lead: none},
			"WT-2": {Finished: "2026-03-10", Cycle: none, Lead: 7*day + 9*3600},
			"WT-3": {Cycle: none, Lead: none},
			"WT-4": {Finished: "2026-03-06", Cycle: none, Lead: day},
		},
		throughput: 2, cycleRows: 0, leadRows: 2,
		sql: map[string]string{
			// Work type is the item type; Parent key, Epic Link and Parent (an id) the parent.
			"SELECT key || ':' || item_type || ':' || coalesce(split_part(parent_id, ':', 2), '') FROM work_items ORDER BY key": "WT-1:Epic:|WT-2:Story:WT-1|WT-3:Story:WT-1|WT-4:Bug:WT-1",
		},
	},
	{
		dir: "jira-es", layout: LayoutJiraExport, zone: "Europe/Madrid",
		items: map[string]corpusItem{
			"ES-1": {Finished: "2026-01-08", Cycle: none, Lead: 24*day + 8*3600},
			"ES-2": {Started: "2026-04-02 10:00", Cycle: none, Lead: none},
			"ES-3": {Finished: "2025-11-12", Discarded: true, Cycle: none, Lead: 2 * day},
			"ES-4": {Cycle: none, Lead: none},
		},
		throughput: 1, cycleRows: 0, leadRows: 1,
		quality: map[string]string{"approximate_start": "", "approximate_finish": ""},
		sql: map[string]string{
			"SELECT key || ':' || coalesce(split_part(assignee_id, ':', 2), '') || ':' || coalesce(estimate_seconds::VARCHAR, '') || ':' || coalesce(split_part(parent_id, ':', 2), '') FROM work_items ORDER BY key": "ES-1:acc-lucia:28800:|ES-2:acc-lucia::|ES-3:::|ES-4:::ES-1",
		},
	},
	{
		dir: "jira-pt-BR", layout: LayoutJiraExport, zone: "America/Sao_Paulo",
		items: map[string]corpusItem{
			"PT-1": {Finished: "2026-04-26", Cycle: none, Lead: 6*day + 3*3600 + 40*60},
			"PT-2": {Started: "2026-05-17 20:40", Cycle: none, Lead: none},
			"PT-3": {Cycle: none, Lead: none},
			"PT-4": {Finished: "2026-03-03", Discarded: true, Cycle: none, Lead: 2*day + 9*3600},
		},
		throughput: 1, cycleRows: 0, leadRows: 1,
		quality: map[string]string{"approximate_start": "", "approximate_finish": ""},
	},
	{
		dir: "jira-de", layout: LayoutJiraExport, zone: "UTC",
		items: map[string]corpusItem{
			"DE-1": {Finished: "2025-12-01", Cycle: none, Lead: 50*day - 5*3600},
			// No Status Category Changed column: the start is Created (approximate).
			"DE-2": {Started: "2026-03-02 09:00", Cycle: none, Lead: none},
			"DE-3": {Finished: "2026-05-03", Discarded: true, Cycle: none, Lead: 2 * day},
			"DE-4": {Cycle: none, Lead: none},
		},
		throughput: 1, cycleRows: 0, leadRows: 1,
		quality: map[string]string{"approximate_start": "DE-2", "approximate_finish": "DE-3"},
		sql: map[string]string{
			"SELECT key || ':' || coalesce(split_part(parent_id, ':', 2), '') FROM work_items ORDER BY key": "DE-1:|DE-2:|DE-3:|DE-4:DE-1",
			"SELECT item_id || ':' || seconds FROM worklogs":                                                "src:DE-1:3600",
		},
	},
	{
		dir: "jira-fr", layout: LayoutJiraExport, zone: "UTC",
		items: map[string]corpusItem{
			"FR-1": {Finished: "2026-02-14", Cycle: none, Lead: 4 * day},
			"FR-2": {Started: "2026-04-01 09:00", Cycle: none, Lead: none},
			"FR-3": {Cycle: none, Lead: none},
			"FR-4": {Finished: "2025-12-03", Discarded: true, Cycle: none, Lead: 2*day + 2*3600},
		},
		throughput: 1, cycleRows: 0, leadRows: 1,
		quality: map[string]string{"approximate_start": "FR-2", "approximate_finish": "FR-4"},
	},
	{
		dir: "jira-time-in-status", layout: LayoutJiraExport, zone: "UTC",
		items: map[string]corpusItem{
			"TS-1": {Cycle: none, Lead: none},
			// A day in To Do, then In Progress.
			"TS-2": {Started: "2026-03-03 09:00", Cycle: none, Lead: none},
			"TS-3": {Started: "2026-03-04 10:00", Cycle: none, Lead: none},
			// 48 h in progress (two visits) and 10 h in review before Resolved:
			// the cycle time is the 58 h in started statuses, ending at Resolved.
			"TS-4": {Started: "2026-03-02 23:00", Finished: "2026-03-05", Cycle: 58 * 3600, Lead: 4 * day},
			// No Resolved: Status Category Changed is the exact finish.
			"TS-5": {Started: "2026-03-10 06:00", Finished: "2026-03-10", Cycle: 3 * 3600, Lead: 4 * day},
			// A status id no row names: the row's history is built without the field.
			"TS-6": {Finished: "2026-03-12", Cycle: none, Lead: day},
			// Totals longer than Created → Resolved: the start is placed at Created.
			"TS-7": {Started: "2026-03-13 09:00", Finished: "2026-03-13", Cycle: 3600, Lead: 3600},
		},
		throughput: 4, cycleRows: 3, leadRows: 4,
		quality: map[string]string{"approximate_start": "TS-2,TS-3,TS-4,TS-5", "approximate_finish": "", "skipped_start": "TS-6"},
		sql: map[string]string{
			"SELECT coalesce(item_key, '') || ':' || action || ':' || reason FROM ingest_problems ORDER BY line, item_key": ":note:Time in Status names status id 10099 (in 1 rows), which no row's Status names: those rows' history is built without the field; name it in the source's status_ids|" +
				"TS-7:note:Time in Status totals exceed the time from Created to the finish; the start is placed at Created",
		},
	},
	{
		dir: "jira-no-status", layout: LayoutJiraExport, zone: "UTC",
		items: map[string]corpusItem{
			"NS-1": {Cycle: none, Lead: none},
			// No Status column, but a Resolved date: done, at it.
			"NS-2": {Finished: "2026-03-03", Cycle: none, Lead: 2 * day},
		},
		throughput: 1, cycleRows: 0, leadRows: 1,
		quality: map[string]string{"unknown_status": "NS-1,NS-2"},
	},
	{
		dir: "asana-subtasks", layout: LayoutAsanaExport, zone: "UTC",
		items: map[string]corpusItem{
			"1001": {Finished: "2025-01-05", Cycle: none, Lead: 3 * day},
			// A subtask with a blank section: unknown status, its parent's project.
			"1002": {Cycle: none, Lead: none},
			// Completed while in "Doing": finished at Completed At...
			"1003": {Finished: "2025-01-10", Cycle: none, Lead: 4 * day},
			// ...which says nothing of the other task in "Doing".
			"1004": {Cycle: none, Lead: none},
			"1005": {Cycle: none, Lead: none},
			"1006": {Finished: "2025-01-09", Cycle: none, Lead: day},
		},
		throughput: 3, cycleRows: 0, leadRows: 3,
		quality: map[string]string{"unknown_status": "1002,1006", "unmapped_status": "1001,1003,1004,1005"},
		sql: map[string]string{
			"SELECT key || ':' || coalesce(split_part(project_id, ':', 2), '') || ':' || coalesce(split_part(parent_id, ':', 2), '') || ':' || coalesce(status, '') FROM work_items ORDER BY key": "1001:Proj::Completed|1002:Proj:1001:|1003:Proj::Completed|1004:Proj::Doing|1005:Proj::To Do|1006:Proj:1003:Completed",
		},
	},
}

// The corpus of export shapes: each file is synced through the connector
// into a warehouse and computed; every item's start, finish day, discard,
// cycle and lead time are what a project manager reads from the file
// (hand-computed in the comments of corpusShapes).
func TestExportCorpus(t *testing.T) {
	for _, sh := range corpusShapes {
		t.Run(sh.dir, func(t *testing.T) {
			db := syncCorpus(t, sh)
			loc, _ := time.LoadLocation(sh.zone)
			got := map[string]corpusItem{}
			rows, err := db.Query(`SELECT key, started_at, finish_day, discarded, coalesce(cycle_seconds, -1), coalesce(lead_seconds, -1) FROM item_flow`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var k string
				var s sql.NullTime
				var f sql.NullTime
				var it corpusItem
				if err := rows.Scan(&k, &s, &f, &it.Discarded, &it.Cycle, &it.Lead); err != nil {
					t.Fatal(err)
				}
				if s.Valid {
					it.Started = s.Time.In(loc).Format("2006-01-02 15:04")
				}
				if f.Valid {
					it.Finished = f.Time.Format("2006-01-02")
				}
				got[k] = it
			}
			rows.Close()
			if d := cmp.Diff(sh.items, got); d != "" {
				t.Errorf("item_flow (-want +got):\n%s", d)
			}
			agg := func(q string) int64 {
				var n sql.NullInt64
				if err := db.QueryRow(q).Scan(&n); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				return n.Int64
			}
			gotAgg := [3]int64{
				agg(`SELECT sum(items) FROM throughput_daily`),
				agg(`SELECT count(*) FROM item_flow WHERE completed AND NOT discarded AND cycle_seconds IS NOT NULL`),
				agg(`SELECT items FROM lead_time_stats WHERE team = '*' AND work_class = '*'`),
			}
			if want := [3]int64{sh.throughput, sh.cycleRows, sh.leadRows}; gotAgg != want {
				t.Errorf("throughput, cycle-time rows, lead-time rows = %v, want %v", gotAgg, want)
			}
			for check, want := range sh.quality {
				var keys sql.NullString
				err := db.QueryRow(`SELECT example_keys FROM data_quality WHERE "check" = ?`, check).Scan(&keys)
				if err != nil && err != sql.ErrNoRows {
					t.Fatal(err)
				}
				if keys.String != want {
					t.Errorf("data_quality %s: %q, want %q", check, keys.String, want)
				}
			}
			for q, want := range sh.sql {
				if got := queryJoined(t, db, q); got != want {
					t.Errorf("%s:\n got %q\nwant %q", q, got, want)
				}
			}
		})
	}
}

// syncCorpus syncs a corpus folder as source "src" and computes.
func syncCorpus(t *testing.T, sh corpusShape) *warehouse.DB {
	t.Helper()
	ctx := context.Background()
	loc, err := time.LoadLocation(sh.zone)
	if err != nil {
		t.Fatal(err)
	}
	db := warehousetest.Open(t, sh.zone)
	c, err := New(Config{Layout: sh.layout, Path: filepath.Join("testdata", "exports", sh.dir), Location: loc}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Sync(ctx, db, db, "src", c, ingest.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.Compute(ctx, db.DB, corpusParams(loc, sh.done)); err != nil {
		t.Fatalf("compute: %v", err)
	}
	return db
}

func corpusParams(loc *time.Location, done []string) metrics.Params {
	return metrics.Params{
		Now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), Location: loc, WindowDays: 3650,
		Done: done, DiscardedResolutions: config.DefaultDiscarded,
	}
}

// queryJoined runs a one-column query and joins its rows with "|".
func queryJoined(t *testing.T, db *warehouse.DB, q string) string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(s.String))
	}
	return strings.Join(out, "|")
}
