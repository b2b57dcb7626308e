package metrics_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// hist builds an item and its history: steps alternate time and status.
type hist struct {
	key, typ, resolution string
	created              string
	steps                [][2]string // {time, to status}
}

func (h hist) records() (ingest.Item, []ingest.Transition) {
	it := ingest.Item{Key: h.key, Project: "WEB", Type: h.typ, Resolution: h.resolution, CreatedAt: at(h.created),
		Assignee: "ann@example.com", Milestone: "R1", Status: "To Do"}
	if it.Type == "" {
		it.Type = "Story"
	}
	ts := []ingest.Transition{{ItemKey: h.key, At: at(h.created), To: "To Do"}}
	prev := "To Do"
	for _, s := range h.steps {
		ts = append(ts, ingest.Transition{ItemKey: h.key, At: at(s[0]), From: prev, To: s[1]})
		prev = s[1]
	}
	it.Status = prev
	return it, ts
}

var flowHistories = []hist{
	{key: "NORMAL", created: "2026-03-01T09:00:00Z", steps: [][2]string{{"2026-03-02T10:00:00Z", "In Progress"}, {"2026-03-04T15:00:00Z", "Done"}}},
	{key: "FALSESTART", created: "2026-03-01T09:00:00Z", steps: [][2]string{
		{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-03T09:00:00Z", "To Do"}, {"2026-03-05T09:00:00Z", "In Progress"}, {"2026-03-06T09:00:00Z", "Done"}}},
	{key: "REOPEN", created: "2026-03-01T09:00:00Z", steps: [][2]string{
		{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-03T09:00:00Z", "Done"}, {"2026-03-04T09:00:00Z", "In Progress"}, {"2026-03-07T09:00:00Z", "Done"}}},
	{key: "BACKLOG", created: "2026-03-01T09:00:00Z", steps: [][2]string{
		{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-03T09:00:00Z", "Done"}, {"2026-03-04T09:00:00Z", "To Do"},
		{"2026-03-08T09:00:00Z", "In Progress"}, {"2026-03-09T09:00:00Z", "Done"}}},
	{key: "SKIPPED", created: "2026-03-01T09:00:00Z", steps: [][2]string{{"2026-03-05T09:00:00Z", "Done"}}},
	{key: "DISCARDED", resolution: "Won't Do", created: "2026-03-01T09:00:00Z", steps: [][2]string{
		{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-03T09:00:00Z", "Done"}}},
	// 23:30 and 00:30 in Berlin: two calendar days there, one in UTC.
	{key: "MIDNIGHT", created: "2026-03-10T08:00:00Z", steps: [][2]string{{"2026-03-10T22:30:00Z", "In Progress"}, {"2026-03-10T23:30:00Z", "Done"}}},
	{key: "OPEN", typ: "Incident", created: "2026-03-01T09:00:00Z", steps: [][2]string{{"2026-03-15T09:00:00Z", "In Review"}}},
	{key: "REOPENED-OPEN", created: "2026-03-01T09:00:00Z", steps: [][2]string{
		{"2026-03-02T09:00:00Z", "In Progress"}, {"2026-03-03T09:00:00Z", "Done"}, {"2026-03-04T09:00:00Z", "In Progress"}}},
}

var flowNow = at("2026-03-20T12:00:00Z")

func flowParams() metrics.Params {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	return metrics.Params{
		Now: flowNow, Location: berlin, WindowDays: 90,
		Teams:                []metrics.Team{{Name: "web", Members: []string{"ann@example.com"}, SLEDays: 3, WIPLimit: 4, HoursPerWeek: 40}},
		Started:              []string{"In Progress", "In Review"},
		Wait:                 []string{"In Review"},
		Done:                 []string{"Done"},
		Todo:                 []string{"To Do"},
		DiscardedResolutions: []string{"Won't Do", "Duplicate"},
		OperationalTypes:     []string{"Incident"},
	}
}

func computed(t *testing.T) *warehouse.DB {
	t.Helper()
	db := warehousetest.Open(t, "Europe/Berlin")
	var b ingest.Batch
	for _, h := range flowHistories {
		it, ts := h.records()
		b.Items = append(b.Items, it)
		b.Transitions = append(b.Transitions, ts...)
	}
	b.People = []ingest.Person{{ExternalID: "ann@example.com", Email: "ann@example.com"}}
	ctx := context.Background()
	if err := db.Commit(ctx, "t", b); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.Compute(ctx, db.DB, flowParams()); err != nil {
		t.Fatal(err)
	}
	return db
}

type flowRow struct {
	Started, Finished string
	Cycle, FlowDays   sql.NullInt64
	Lead              sql.NullInt64
	Reopens           int
	Skipped, Discard  bool
	Completed         bool
	Stage, Class      string
	Age               sql.NullInt64
}

func fmtTime(t sql.NullTime) string {
	if !t.Valid {
		return ""
	}
	return t.Time.UTC().Format(time.RFC3339)
}

func n64(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: true} }

func TestItemFlowRules(t *testing.T) {
	db := computed(t)
	rows, err := db.Query(`SELECT key, started_at, finished_at, cycle_seconds, flow_days, lead_seconds, reopen_count,
		skipped_start, discarded, completed, stage, work_class, age_days FROM item_flow`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]flowRow{}
	for rows.Next() {
		var k string
		var s, f sql.NullTime
		var r flowRow
		if err := rows.Scan(&k, &s, &f, &r.Cycle, &r.FlowDays, &r.Lead, &r.Reopens, &r.Skipped, &r.Discard, &r.Completed, &r.Stage, &r.Class, &r.Age); err != nil {
			t.Fatal(err)
		}
		r.Started, r.Finished = fmtTime(s), fmtTime(f)
		got[k] = r
	}
	day := int64(86400)
	want := map[string]flowRow{
		"NORMAL": {Started: "2026-03-02T10:00:00Z", Finished: "2026-03-04T15:00:00Z", Cycle: n64(2*day + 5*3600), FlowDays: n64(3),
			Lead: n64(3*day + 6*3600), Completed: true, Stage: "done", Class: "project"},
		// false start: S cleared by In Progress → To Do, the next start counts
		"FALSESTART": {Started: "2026-03-05T09:00:00Z", Finished: "2026-03-06T09:00:00Z", Cycle: n64(day), FlowDays: n64(2),
			Lead: n64(5 * day), Completed: true, Stage: "done", Class: "project"},
		// reopen to started: F cleared, S kept
		"REOPEN": {Started: "2026-03-02T09:00:00Z", Finished: "2026-03-07T09:00:00Z", Cycle: n64(5 * day), FlowDays: n64(6),
			Lead: n64(6 * day), Reopens: 1, Completed: true, Stage: "done", Class: "project"},
		// reopen to backlog: F and S cleared
		"BACKLOG": {Started: "2026-03-08T09:00:00Z", Finished: "2026-03-09T09:00:00Z", Cycle: n64(day), FlowDays: n64(2),
			Lead: n64(8 * day), Reopens: 1, Completed: true, Stage: "done", Class: "project"},
		"SKIPPED": {Finished: "2026-03-05T09:00:00Z", Lead: n64(4 * day), Skipped: true, Completed: true, Stage: "done", Class: "project"},
		"DISCARDED": {Started: "2026-03-02T09:00:00Z", Finished: "2026-03-03T09:00:00Z", Cycle: n64(day), FlowDays: n64(2),
			Lead: n64(2 * day), Discard: true, Completed: true, Stage: "done", Class: "project"},
		"MIDNIGHT": {Started: "2026-03-10T22:30:00Z", Finished: "2026-03-10T23:30:00Z", Cycle: n64(3600), FlowDays: n64(2),
			Lead: n64(15*3600 + 1800), Completed: true, Stage: "done", Class: "project"},
		"OPEN":          {Started: "2026-03-15T09:00:00Z", Stage: "started", Class: "operational", Age: n64(6)},
		"REOPENED-OPEN": {Started: "2026-03-02T09:00:00Z", Reopens: 1, Stage: "started", Class: "project", Age: n64(19)},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("item_flow (-want +got):\n%s", d)
	}
}

func queryMap(t *testing.T, db *warehouse.DB, q string) map[string]int64 {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	return out
}

func TestThroughputDailyAndWeekly(t *testing.T) {
	db := computed(t)
	got := queryMap(t, db, `SELECT strftime(day, '%m-%d'), items FROM throughput_daily
		WHERE team = 'web' AND work_class = 'project' AND items > 0`)
	// SKIPPED counts (no start, still done); DISCARDED does not; reopened items count once, at their final F.
	want := map[string]int64{"03-04": 1, "03-05": 1, "03-06": 1, "03-07": 1, "03-09": 1, "03-11": 1}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("throughput_daily (-want +got):\n%s", d)
	}
	days := queryMap(t, db, `SELECT team || '/' || work_class, count(*) FROM throughput_daily GROUP BY ALL`)
	if d := cmp.Diff(map[string]int64{"web/project": 20, "web/operational": 20}, days); d != "" {
		t.Errorf("days per group, zero days included, 03-01..03-20 (-want +got):\n%s", d)
	}
	// ISO weeks start on Monday: 03-01 is a Sunday (week of 02-23), 03-08 a Sunday.
	weeks := queryMap(t, db, `SELECT strftime(week_start, '%m-%d'), items FROM throughput_weekly WHERE team = 'web' AND work_class = 'project'`)
	if d := cmp.Diff(map[string]int64{"02-23": 0, "03-02": 4, "03-09": 2, "03-16": 0}, weeks); d != "" {
		t.Errorf("throughput_weekly (-want +got):\n%s", d)
	}
}

func TestCycleTimeStatsNearestRank(t *testing.T) {
	db := computed(t)
	type stat struct {
		Items                   int64
		P50, P70, P85, P95, SLE int64
		Attainment              float64
		P85Seconds              int64
	}
	rows, err := db.Query(`SELECT team || '/' || work_class, items, p50_days, p70_days, p85_days, p95_days, sle_days, sle_attainment, p85_seconds
		FROM cycle_time_stats`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]stat{}
	for rows.Next() {
		var k string
		var s stat
		if err := rows.Scan(&k, &s.Items, &s.P50, &s.P70, &s.P85, &s.P95, &s.SLE, &s.Attainment, &s.P85Seconds); err != nil {
			t.Fatal(err)
		}
		got[k] = s
	}
	// flow days of window items: NORMAL 3, FALSESTART 2, REOPEN 6, BACKLOG 2, MIDNIGHT 2 → sorted 2,2,2,3,6.
	// ranks ceil(p·5): P50→3rd=2, P70→4th=3, P85→5th=6, P95→5th=6. SLE 3 (config): 4 of 5 within.
	// cycle seconds sorted: 3600, 86400, 86400, 190800, 432000 → P85 = 432000.
	web := stat{Items: 5, P50: 2, P70: 3, P85: 6, P95: 6, SLE: 3, Attainment: 0.8, P85Seconds: 432000}
	all := web
	all.SLE = 6 // no config SLE for the '*' team: P85
	all.Attainment = 1
	want := map[string]stat{"web/project": web, "web/*": web, "*/project": all, "*/*": all}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("cycle_time_stats (-want +got):\n%s", d)
	}
}

// Lead time is created → F of every completed, non-discarded item, with or
// without a start (SKIPPED counts here, not in cycle time).
func TestLeadTimeStatsNearestRank(t *testing.T) {
	db := computed(t)
	type stat struct {
		Items              int64
		P50, P70, P85, P95 int64
		P50s, P85s, Sum    int64
	}
	rows, err := db.Query(`SELECT team || '/' || work_class, items, p50_days, p70_days, p85_days, p95_days, p50_seconds, p85_seconds, lead_seconds_sum
		FROM lead_time_stats`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]stat{}
	for rows.Next() {
		var k string
		var s stat
		if err := rows.Scan(&k, &s.Items, &s.P50, &s.P70, &s.P85, &s.P95, &s.P50s, &s.P85s, &s.Sum); err != nil {
			t.Fatal(err)
		}
		got[k] = s
	}
	// Lead days in Berlin (created 03-01 for all but MIDNIGHT): NORMAL 03-04 → 4,
	// SKIPPED 03-05 → 5, FALSESTART 03-06 → 6, REOPEN 03-07 → 7, BACKLOG 03-09 → 9,
	// MIDNIGHT 03-10 09:00 → 03-11 00:30 → 2. Sorted 2,4,5,6,7,9: ranks ceil(p·6)
	// P50→3rd=5, P70→5th=7, P85→6th=9, P95→6th=9.
	// Seconds sorted: 55800, 280800, 345600, 432000, 518400, 691200.
	web := stat{Items: 6, P50: 5, P70: 7, P85: 9, P95: 9, P50s: 345600, P85s: 691200,
		Sum: 55800 + 280800 + 345600 + 432000 + 518400 + 691200}
	want := map[string]stat{"web/project": web, "web/*": web, "*/project": web, "*/*": web}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("lead_time_stats (-want +got):\n%s", d)
	}
}

func TestWIPDailyAndAging(t *testing.T) {
	db := computed(t)
	got := queryMap(t, db, `SELECT work_class || ' ' || strftime(day, '%m-%d'), items FROM wip_daily
		WHERE day IN ('2026-03-02', '2026-03-03', '2026-03-04', '2026-03-10', '2026-03-15', '2026-03-20')`)
	want := map[string]int64{
		// 03-02: NORMAL, FALSESTART, REOPEN, BACKLOG, DISCARDED, REOPENED-OPEN all in progress at end of day
		"project 03-02": 6,
		// 03-03: only NORMAL (the others moved to Done or To Do that day)
		"project 03-03": 1,
		// 03-04: REOPEN and REOPENED-OPEN reopened to In Progress; NORMAL done
		"project 03-04": 2,
		// 03-10: MIDNIGHT started 23:30 Berlin (counts), finished 00:30 on 03-11; REOPENED-OPEN
		"project 03-10": 2,
		"project 03-15": 1, "project 03-20": 1,
		"operational 03-02": 0, "operational 03-03": 0, "operational 03-04": 0, "operational 03-10": 0,
		"operational 03-15": 1, "operational 03-20": 1,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("wip_daily (-want +got):\n%s", d)
	}
	// Cumulative flow at the end of 03-03: todo FALSESTART, SKIPPED, OPEN; started NORMAL;
	// done REOPEN, BACKLOG, DISCARDED, REOPENED-OPEN; MIDNIGHT does not exist yet.
	cfd := queryMap(t, db, `SELECT stage, items FROM cumulative_flow WHERE team = 'web' AND day = '2026-03-03'`)
	if d := cmp.Diff(map[string]int64{"todo": 3, "started": 1, "done": 4}, cfd); d != "" {
		t.Errorf("cumulative_flow 03-03 (-want +got):\n%s", d)
	}
	aging := queryMap(t, db, `SELECT key || ' ' || stage_class || ' ' || over_sle, age_days FROM aging_wip`)
	// SLE is 3 days (team config): both open items are older.
	if d := cmp.Diff(map[string]int64{"OPEN wait true": 6, "REOPENED-OPEN active true": 19}, aging); d != "" {
		t.Errorf("aging_wip (-want +got):\n%s", d)
	}
}

func TestDataQualityAndCounters(t *testing.T) {
	db := computed(t)
	dq := queryMap(t, db, `SELECT "check" || ' ' || example_keys, items FROM data_quality`)
	// REOPENED-OPEN is open project work, assigned, without an estimate.
	want := map[string]int64{"skipped_start SKIPPED": 1, "missing_estimate REOPENED-OPEN": 1}
	if d := cmp.Diff(want, dq); d != "" {
		t.Errorf("data_quality (-want +got):\n%s", d)
	}
	c := queryMap(t, db, `SELECT work_class || ' ' || 'created', sum(created) FROM flow_counters GROUP BY ALL
		UNION ALL SELECT work_class || ' started', sum(started) FROM flow_counters GROUP BY ALL
		UNION ALL SELECT work_class || ' completed', sum(completed) FROM flow_counters GROUP BY ALL
		UNION ALL SELECT work_class || ' reopened', sum(reopened) FROM flow_counters GROUP BY ALL
		UNION ALL SELECT work_class || ' discarded', sum(discarded) FROM flow_counters GROUP BY ALL`)
	// completions ever: NORMAL 1, FALSESTART 1, REOPEN 2, BACKLOG 2, SKIPPED 1, MIDNIGHT 1, REOPENED-OPEN 1 = 9
	// starts (todo→started): NORMAL 1, FALSESTART 2, REOPEN 1, BACKLOG 2, DISCARDED 1, MIDNIGHT 1, REOPENED-OPEN 1 = 9
	wantC := map[string]int64{
		"project created": 8, "project started": 9, "project completed": 9, "project reopened": 3, "project discarded": 1,
		"operational created": 1, "operational started": 1, "operational completed": 0, "operational reopened": 0, "operational discarded": 0,
	}
	if d := cmp.Diff(wantC, c); d != "" {
		t.Errorf("flow_counters (-want +got):\n%s", d)
	}
}

// TestComputeIsRepeatable: a second compute over the same data at the same
// instant leaves every table of the warehouse as the first left it, row for
// row and value for value (the flow and the delivery/capacity scenarios).
func TestComputeIsRepeatable(t *testing.T) {
	tests := []struct {
		name   string
		db     func(*testing.T) *warehouse.DB
		params metrics.Params
	}{
		{"flow", computed, flowParams()},
		{"delivery and capacity", dcComputed, dcParams()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := tt.db(t)
			before := dumpTables(t, db)
			if _, err := metrics.Compute(context.Background(), db.DB, tt.params); err != nil {
				t.Fatal(err)
			}
			after := dumpTables(t, db)
			// job_runs is the log of compute runs: one more row, by design.
			if n, m := len(before["job_runs"]), len(after["job_runs"]); m != n+1 {
				t.Errorf("job_runs: %d rows after the second compute, want %d", m, n+1)
			}
			delete(before, "job_runs")
			delete(after, "job_runs")
			if d := cmp.Diff(before, after); d != "" {
				t.Errorf("second compute changed the warehouse (-first +second):\n%s", d)
			}
			// The dump is not vacuous: the tables that matter hold rows.
			for _, table := range []string{"item_flow", "throughput_daily", "cycle_time_stats", "status_map", "data_quality"} {
				if len(before[table]) == 0 {
					t.Errorf("%s is empty", table)
				}
			}
		})
	}
}

// dumpTables reads every table of the warehouse's main schema, each row as
// one string, rows sorted.
func dumpTables(t *testing.T, db *warehouse.DB) map[string][]string {
	return dumpTablesWith(t, db, nil)
}

// dumpTablesWith is dumpTables with col deciding, per column, the SQL
// expression dumped for it ("" leaves the column out); nil dumps every
// column as it is.
func dumpTablesWith(t *testing.T, db *warehouse.DB, col func(table, column, typ string) string) map[string][]string {
	t.Helper()
	rows, err := db.Query(`SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	out := map[string][]string{}
	for _, table := range tables {
		// Floating-point sums depend on the order DuckDB's threads add
		// them in: compare doubles to 12 significant digits.
		var cols []string
		cr, err := db.Query(`SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database()
			AND schema_name = 'main' AND table_name = ? ORDER BY column_index`, table)
		if err != nil {
			t.Fatal(err)
		}
		for cr.Next() {
			var name, typ string
			if err := cr.Scan(&name, &typ); err != nil {
				t.Fatal(err)
			}
			c := `"` + name + `"`
			if col != nil {
				if c = col(table, name, typ); c == "" {
					continue
				}
			}
			if typ == "DOUBLE" || typ == "FLOAT" {
				c = `printf('%.12g', ` + c + `)`
			}
			cols = append(cols, `CAST(`+c+` AS VARCHAR)`)
		}
		cr.Close()
		if len(cols) == 0 {
			continue
		}
		rs, err := db.Query(`SELECT ` + strings.Join(cols, ", ") + ` FROM "` + table + `" ORDER BY ALL`)
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		for rs.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				if i > 0 {
					b.WriteString("|")
				}
				if v.Valid {
					b.WriteString(v.String)
				} else {
					b.WriteString("NULL")
				}
			}
			out[table] = append(out[table], b.String())
		}
		rs.Close()
	}
	return out
}

func TestLocalDaysAcrossDST(t *testing.T) {
	db := warehousetest.Open(t, "Europe/Berlin")
	hs := []hist{
		// 00:30 UTC = 01:30 CET on 03-29; 22:30 UTC = 00:30 CEST on 03-30: 2 days.
		{key: "SPRING", created: "2026-03-28T08:00:00Z", steps: [][2]string{{"2026-03-29T00:30:00Z", "In Progress"}, {"2026-03-29T22:30:00Z", "Done"}}},
		// 21:30 UTC = 23:30 CEST on 03-29 → still 03-29; finish 22:30 UTC = 00:30 on 03-30.
		{key: "SPRING2", created: "2026-03-28T08:00:00Z", steps: [][2]string{{"2026-03-29T21:30:00Z", "In Progress"}, {"2026-03-29T22:30:00Z", "Done"}}},
		// 00:30 UTC = 02:30 CEST on 10-25; 22:30 UTC = 23:30 CET on 10-25: 1 day.
		{key: "AUTUMN", created: "2026-10-24T08:00:00Z", steps: [][2]string{{"2026-10-25T00:30:00Z", "In Progress"}, {"2026-10-25T22:30:00Z", "Done"}}},
		// 22:30 UTC on 10-24 = 00:30 CEST on 10-25; 23:30 UTC on 10-25 = 00:30 CET on 10-26: 2 days.
		{key: "AUTUMN2", created: "2026-10-24T08:00:00Z", steps: [][2]string{{"2026-10-24T22:30:00Z", "In Progress"}, {"2026-10-25T23:30:00Z", "Done"}}},
	}
	var b ingest.Batch
	for _, h := range hs {
		it, ts := h.records()
		b.Items = append(b.Items, it)
		b.Transitions = append(b.Transitions, ts...)
	}
	ctx := context.Background()
	if err := db.Commit(ctx, "t", b); err != nil {
		t.Fatal(err)
	}
	p := flowParams()
	p.Now = at("2026-11-01T12:00:00Z")
	if _, err := metrics.Compute(ctx, db.DB, p); err != nil {
		t.Fatal(err)
	}
	got := queryMap(t, db, `SELECT key || ' ' || strftime(start_day, '%m-%d') || ' ' || strftime(finish_day, '%m-%d'), flow_days FROM item_flow`)
	want := map[string]int64{"SPRING 03-29 03-30": 2, "SPRING2 03-29 03-30": 2, "AUTUMN 10-25 10-25": 1, "AUTUMN2 10-25 10-26": 2}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("local days across DST (-want +got):\n%s", d)
	}
}
