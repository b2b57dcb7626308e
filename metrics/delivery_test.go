package metrics_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// The delivery and capacity scenario: today is Wednesday 2026-03-18 (UTC),
// week 0 starts Monday 03-16, the throughput window is 10 days (03-09..03-18)
// and the first simulated day is 03-19.
var dcNow = at("2026-03-18T12:00:00Z")

type dcItem struct {
	key, project, typ, milestone, assignee, class string
	done                                          string // finish time; empty: open
	started                                       string // start time (In Progress); empty: never started
	estimate                                      float64
	due                                           string
}

func d(s string) time.Time { return at(s + "T00:00:00Z") }

func dcBatch() ingest.Batch {
	var items []dcItem
	// WEB: one completion a day over the whole window → constant throughput 1/day.
	for i := range 10 {
		day := d("2026-03-09").AddDate(0, 0, i).Add(15 * time.Hour).Format(time.RFC3339)
		items = append(items, dcItem{key: fmt.Sprintf("WEB-F%d", i), project: "WEB", typ: "Story", started: day, done: day})
	}
	// APP: two completions on 3 of the 10 days → samples {2 ×3, 0 ×7}.
	for i, day := range []string{"2026-03-10", "2026-03-10", "2026-03-13", "2026-03-13", "2026-03-16", "2026-03-16"} {
		t := day + "T15:00:00Z"
		items = append(items, dcItem{key: fmt.Sprintf("APP-F%d", i), project: "APP", typ: "Story", started: t, done: t})
	}
	items = append(items,
		// M1: done, last completion 03-05 (outside the window).
		dcItem{key: "WEB-1", project: "WEB", typ: "Story", milestone: "M1", started: "2026-03-02T09:00:00Z", done: "2026-03-04T09:00:00Z"},
		dcItem{key: "WEB-2", project: "WEB", typ: "Story", milestone: "M1", started: "2026-03-02T09:00:00Z", done: "2026-03-05T09:00:00Z"},
		// M2: overdue (due 03-15) with one open item.
		dcItem{key: "WEB-3", project: "WEB", typ: "Story", milestone: "M2"},
		// M3: 3 open; P1 (ann, 20 h estimate, 4 h logged, due Fri 03-20).
		dcItem{key: "P1", project: "WEB", typ: "Story", milestone: "M3", assignee: "ann@x", estimate: 20, due: "2026-03-20", started: "2026-03-16T09:00:00Z"},
		dcItem{key: "WEB-4", project: "WEB", typ: "Story", milestone: "M3"},
		dcItem{key: "WEB-5", project: "WEB", typ: "Story", milestone: "M3"},
		// M4: 5 open; P3 (ann, 12 h, no due date: over the next 5 working days).
		dcItem{key: "P3", project: "WEB", typ: "Story", milestone: "M4", assignee: "ann@x", estimate: 12},
		// P2: bob, an incident due 03-10 (overdue): all 10 h in week 0, operational.
		dcItem{key: "P2", project: "WEB", typ: "Incident", assignee: "bob@x", estimate: 10, due: "2026-03-10"},
		// P4: ann, 10 h due Tue 03-31 over 10 working days, unclassified (no milestone, type Task).
		dcItem{key: "P4", project: "WEB", typ: "Task", assignee: "ann@x", estimate: 10, due: "2026-03-31"},
		// P5: no assignee: not planned. P6: done: not planned.
		dcItem{key: "P5", project: "WEB", typ: "Task", estimate: 50},
		dcItem{key: "P6", project: "WEB", typ: "Task", assignee: "ann@x", estimate: 50, started: "2026-03-02T09:00:00Z", done: "2026-03-03T09:00:00Z"},
		// Classification: an incident in a milestone is operational (rule beats the milestone default);
		// an explicit class wins over every rule; a Spike is project by rule.
		dcItem{key: "C1", project: "APP", typ: "Incident", milestone: "M7"},
		dcItem{key: "C2", project: "APP", typ: "Incident", class: "project"},
		dcItem{key: "C3", project: "APP", typ: "Spike"},
		// M6 (APP, due 03-22): 2 open items.
		dcItem{key: "APP-1", project: "APP", typ: "Story", milestone: "M6"},
		dcItem{key: "APP-2", project: "APP", typ: "Story", milestone: "M6"},
	)
	// M8: DOC finished nothing in the window: the forecast is unknown, never a date.
	items = append(items, dcItem{key: "DOC-1", project: "DOC", typ: "Story", milestone: "M8"})
	for i := range 4 {
		items = append(items, dcItem{key: fmt.Sprintf("WEB-M4-%d", i), project: "WEB", typ: "Story", milestone: "M4"})
	}
	for i := range 8 {
		items = append(items, dcItem{key: fmt.Sprintf("WEB-M5-%d", i), project: "WEB", typ: "Story", milestone: "M5"})
	}

	var b ingest.Batch
	created := "2026-03-01T08:00:00Z"
	for _, it := range items {
		in := ingest.Item{Key: it.key, Project: it.project, Type: it.typ, Milestone: it.milestone, Assignee: it.assignee,
			WorkClass: it.class, CreatedAt: at(created), Status: "To Do"}
		if it.estimate > 0 {
			s := int64(it.estimate * 3600)
			in.EstimateSeconds = &s
		}
		if it.due != "" {
			in.DueDate = d(it.due)
		}
		ts := []ingest.Transition{{ItemKey: it.key, At: at(created), To: "To Do"}}
		prev := "To Do"
		if it.started != "" {
			ts = append(ts, ingest.Transition{ItemKey: it.key, At: at(it.started), From: prev, To: "In Progress"})
			prev, in.Status = "In Progress", "In Progress"
		}
		if it.done != "" {
			ts = append(ts, ingest.Transition{ItemKey: it.key, At: at(it.done).Add(time.Second), From: prev, To: "Done"})
			in.Status = "Done"
		}
		b.Items = append(b.Items, in)
		b.Transitions = append(b.Transitions, ts...)
	}
	// Flow efficiency: active 03-10 09:00..03-11 09:00 and 03-12 09:00..21:00 (36 h), waiting 24 h in review.
	b.Items = append(b.Items, ingest.Item{Key: "EFF", Project: "OPS", Type: "Story", Status: "Done", CreatedAt: at(created)})
	b.Transitions = append(b.Transitions,
		ingest.Transition{ItemKey: "EFF", At: at(created), To: "To Do"},
		ingest.Transition{ItemKey: "EFF", At: at("2026-03-10T09:00:00Z"), From: "To Do", To: "In Progress"},
		ingest.Transition{ItemKey: "EFF", At: at("2026-03-11T09:00:00Z"), From: "In Progress", To: "In Review"},
		ingest.Transition{ItemKey: "EFF", At: at("2026-03-12T09:00:00Z"), From: "In Review", To: "In Progress"},
		ingest.Transition{ItemKey: "EFF", At: at("2026-03-12T21:00:00Z"), From: "In Progress", To: "Done"},
	)
	bob := 30.0
	b.People = []ingest.Person{
		{ExternalID: "ann@x", Email: "ann@x"},
		{ExternalID: "bob@x", Email: "bob@x", HoursPerWeek: &bob},
	}
	b.TimeOff = []ingest.TimeOff{
		{Person: "ann@x", Date: d("2026-03-17"), Hours: 8}, // week 0
		{Person: "bob@x", Date: d("2026-03-24"), Hours: 6}, // week 1
	}
	wl := func(id, key, person, day string, hours float64) ingest.Worklog {
		return ingest.Worklog{ID: id, ItemKey: key, Person: person, StartedAt: at(day + "T10:00:00Z"), Seconds: int64(hours * 3600)}
	}
	b.Worklogs = []ingest.Worklog{
		wl("w1", "P1", "ann@x", "2026-03-16", 4),     // week 0, on P1: 16 h remain
		wl("w2", "WEB-1", "ann@x", "2026-03-10", 20), // week -1, project
		wl("w3", "C1", "bob@x", "2026-03-11", 15),    // week -1, operational
		wl("w4", "C1", "bob@x", "2026-03-03", 10),    // week -2, operational
		wl("w5", "C1", "bob@x", "2026-02-24", 20),    // week -3, operational
	}
	b.Milestones = []ingest.Milestone{
		{Name: "M1", Project: "WEB", BaselineDueDate: d("2026-03-01"), DueDate: d("2026-03-06"), CompletedAt: at("2026-03-05T18:00:00Z"), Released: true},
		{Name: "M2", Project: "WEB", DueDate: d("2026-03-15")},
		{Name: "M3", Project: "WEB", DueDate: d("2026-03-25")},
		{Name: "M4", Project: "WEB", DueDate: d("2026-03-23")},
		{Name: "M5", Project: "WEB", DueDate: d("2026-03-24")},
		{Name: "M6", Project: "APP", DueDate: d("2026-03-22")},
		{Name: "M7", Project: "APP"},
		{Name: "M8", Project: "DOC", DueDate: d("2026-04-30")},
	}
	return b
}

// dcParams forecast in the independent model, whose figures the tests
// below hand-compute per milestone; TestPortfolioForecastInCompute runs the
// same scenario in the portfolio model.
func dcParams() metrics.Params {
	return metrics.Params{
		Now: dcNow, Location: time.UTC, WindowDays: 10, Trials: 10000, Seed: 7, ForecastMode: metrics.ModeIndependent,
		Teams:                []metrics.Team{{Name: "web", Members: []string{"ann@x", "bob@x"}, HoursPerWeek: 40, SLEDays: 5, WIPLimit: 3, Projects: []string{"WEB"}}},
		Started:              []string{"In Progress"},
		Wait:                 []string{"In Review"},
		Done:                 []string{"Done"},
		Todo:                 []string{"To Do"},
		OperationalTypes:     []string{"Incident"},
		ProjectTypes:         []string{"Spike"},
		DiscardedResolutions: []string{"Won't Do"},
	}
}

func dcComputed(t *testing.T) *warehouse.DB {
	t.Helper()
	db := warehousetest.Open(t, "UTC")
	ctx := context.Background()
	if err := db.Commit(ctx, "t", dcBatch()); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.Compute(ctx, db.DB, dcParams()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestMilestoneStatusSlipAndVariance(t *testing.T) {
	db := dcComputed(t)
	type row struct {
		Status                       string
		Remaining                    int
		Changes                      int
		Slip, Variance, DeliverySlip sql.NullInt64
		P50, P85                     string
		OnTime                       sql.NullFloat64
	}
	rows, err := db.Query(`SELECT name, status, remaining, due_date_changes, slip_days, baseline_variance_days, delivery_slip_days,
		coalesce(strftime(p50_date, '%m-%d'), ''), coalesce(strftime(p85_date, '%m-%d'), ''), on_time_probability FROM milestone_status`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]row{}
	for rows.Next() {
		var name string
		var r row
		if err := rows.Scan(&name, &r.Status, &r.Remaining, &r.Changes, &r.Slip, &r.Variance, &r.DeliverySlip, &r.P50, &r.P85, &r.OnTime); err != nil {
			t.Fatal(err)
		}
		got[name] = r
	}
	n := func(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: true} }
	f := func(v float64) sql.NullFloat64 { return sql.NullFloat64{Float64: v, Valid: true} }
	at6 := got["M6"] // two-valued throughput: checked separately below
	want := map[string]row{
		// done: last completion 03-05 − baseline 03-01 = 4; due 03-06 − baseline = 5; one move seen.
		"M1": {Status: "done", Changes: 1, Variance: n(5), DeliverySlip: n(4)},
		// overdue: still forecast; slip = P85 03-19 − due 03-15.
		"M2": {Status: "overdue", Remaining: 1, Variance: n(0), Slip: n(4), P50: "03-19", P85: "03-19", OnTime: f(0)},
		// constant 1/day from 03-19: r items finish on 03-19 + r − 1.
		"M3": {Status: "on_track", Remaining: 3, Variance: n(0), Slip: n(-4), P50: "03-21", P85: "03-21", OnTime: f(1)},
		"M4": {Status: "on_track", Remaining: 5, Variance: n(0), Slip: n(0), P50: "03-23", P85: "03-23", OnTime: f(1)},
		"M5": {Status: "off_track", Remaining: 8, Variance: n(0), Slip: n(2), P50: "03-26", P85: "03-26", OnTime: f(0)},
		"M6": at6,
		"M7": {Status: "no_due_date", Remaining: 1, P50: got["M7"].P50, P85: got["M7"].P85},
		"M8": {Status: "unknown", Remaining: 1, Variance: n(0)},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("milestone_status (-want +got):\n%s", d)
	}
	// M6: 2 items, APP throughput is 2 on 3 of 10 days: finishing needs the first "2",
	// a geometric day D with P(D <= k) = 1 − 0.7^k. Due 03-22 is day 4: P = 0.7599.
	// P50 is day 2 or 3 (exact 0.51 at day 2) and P85 day 6 (0.882; day 5 is 0.832): at risk.
	if at6.Status != "at_risk" || at6.P50 > "03-22" || at6.P85 <= "03-22" {
		t.Errorf("M6 = %+v, want at_risk with P50 <= 03-22 < P85", at6)
	}
	// M7 (one APP item) has the same geometric distribution: P85 is day 6 (03-24), P50 day 2 or 3.
	if m7 := got["M7"]; m7.P85 != "03-24" || (m7.P50 != "03-20" && m7.P50 != "03-21") {
		t.Errorf("M7 forecast P50 %s P85 %s, want 03-20/21 and 03-24", m7.P50, m7.P85)
	}
	if math.Abs(at6.OnTime.Float64-0.7599) > 4*math.Sqrt(0.76*0.24/10000) {
		t.Errorf("M6 on-time probability = %v, want 0.7599 within 4 sd", at6.OnTime.Float64)
	}
}

func TestForecastStoredWithInputsAndCalibrated(t *testing.T) {
	db := dcComputed(t)
	var samples, pct string
	var seed, trials, window int
	err := db.QueryRow(`SELECT CAST(samples AS VARCHAR), CAST(day_percentiles[85] AS VARCHAR), seed, trials, window_days
		FROM milestone_forecasts WHERE milestone_id = 't:APP:M6'`).Scan(&samples, &pct, &seed, &trials, &window)
	if err != nil {
		t.Fatal(err)
	}
	if samples != "[0, 2, 0, 0, 2, 0, 0, 2, 0, 0]" || seed != 7 || trials != 10000 || window != 10 {
		t.Errorf("stored inputs: samples %s seed %d trials %d window %d", samples, seed, trials, window)
	}
	// Complete M3 the next day: its stored forecast (every trial on day 3 = 03-21)
	// puts an actual finish on 03-21 at the 100th percentile, 03-20 at 0.
	ctx := context.Background()
	b := dcBatch()
	var keep []ingest.Transition
	for _, tr := range b.Transitions {
		keep = append(keep, tr)
		if tr.ItemKey == "WEB-4" || tr.ItemKey == "WEB-5" || tr.ItemKey == "P1" {
			if tr.From == "" {
				keep = append(keep, ingest.Transition{ItemKey: tr.ItemKey, At: at("2026-03-19T09:00:00Z"), From: tr.To, To: "In Progress"})
				keep = append(keep, ingest.Transition{ItemKey: tr.ItemKey, At: at("2026-03-21T10:00:00Z"), From: "In Progress", To: "Done"})
			}
		}
	}
	b.Transitions = keep
	for i := range b.Items {
		if k := b.Items[i].Key; k == "WEB-4" || k == "WEB-5" || k == "P1" {
			b.Items[i].Status = "Done"
		}
	}
	// P1 already had a start; rebuild its history cleanly.
	var clean []ingest.Transition
	for _, tr := range b.Transitions {
		if tr.ItemKey == "P1" && tr.At.Equal(at("2026-03-16T09:00:00Z")) {
			continue
		}
		clean = append(clean, tr)
	}
	b.Transitions = clean
	if err := db.Commit(ctx, "t", b); err != nil {
		t.Fatal(err)
	}
	p := dcParams()
	p.Now = at("2026-03-22T12:00:00Z")
	if _, err := metrics.Compute(ctx, db.DB, p); err != nil {
		t.Fatal(err)
	}
	var actual string
	var percentile float64
	err = db.QueryRow(`SELECT strftime(actual_date, '%m-%d'), actual_percentile FROM forecast_calibration
		WHERE milestone_id = 't:WEB:M3' AND CAST(computed_at AS DATE) = DATE '2026-03-18'`).Scan(&actual, &percentile)
	if err != nil {
		t.Fatal(err)
	}
	if actual != "03-21" || percentile != 1 {
		t.Errorf("calibration = %s at %v, want 03-21 at 1 (every trial finished on 03-21)", actual, percentile)
	}
	var status string
	db.QueryRow(`SELECT status FROM milestone_status WHERE name = 'M3'`).Scan(&status)
	if status != "done" {
		t.Errorf("M3 status after completion = %s, want done", status)
	}
}

func TestCapacityAndPlannedLoad(t *testing.T) {
	db := dcComputed(t)
	type out struct {
		Capacity, Project, Operational, Unclassified, Allocation float64
	}
	rows, err := db.Query(`SELECT week_offset, capacity_hours, planned_project_hours, planned_operational_hours, planned_unclassified_hours,
		coalesce(allocation_ratio, -1) FROM capacity_outlook WHERE team = 'web' ORDER BY week_offset`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]out{}
	for rows.Next() {
		var w int
		var o out
		if err := rows.Scan(&w, &o.Capacity, &o.Project, &o.Operational, &o.Unclassified, &o.Allocation); err != nil {
			t.Fatal(err)
		}
		got[w] = o
	}
	// Capacity: ann 40 h, bob 30 h (people hours_per_week); week 0 ann off 8 h, week 1 bob off 6 h.
	// P1: 20 − 4 logged = 16 h over Wed–Fri (week 0). P2 overdue: 10 h in week 0 (operational).
	// P3: 12 h over 5 working days (SLE): Wed, Thu, Fri (7.2 h), Mon, Tue (4.8 h).
	// P4: 10 h over the 10 working days 03-18..03-31: 3, 5 and 2 h (unclassified).
	want := map[int]out{
		0: {Capacity: 62, Project: 23.2, Operational: 10, Unclassified: 3, Allocation: 36.2 / 62},
		1: {Capacity: 64, Project: 4.8, Unclassified: 5, Allocation: 9.8 / 64},
		2: {Capacity: 70, Unclassified: 2, Allocation: 2.0 / 70},
		3: {Capacity: 70, Allocation: 0}, 4: {Capacity: 70, Allocation: 0}, 5: {Capacity: 70, Allocation: 0},
	}
	if d := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); d != "" {
		t.Errorf("capacity_outlook (-want +got):\n%s", d)
	}
	var logged, util float64
	if err := db.QueryRow(`SELECT logged_hours, logged_utilization FROM utilization_weekly WHERE team = 'web' AND week_start = DATE '2026-03-09'`).Scan(&logged, &util); err != nil {
		t.Fatal(err)
	}
	if logged != 35 || util != 0.5 {
		t.Errorf("week of 03-09: logged %v utilization %v, want 35 and 0.5 (20 + 15 of 70)", logged, util)
	}
	// Operational logged hours over the 8 weeks before week 0: 0,0,0,0,0,20,10,15 → sorted P85 (rank 7) = 15.
	// Available = (62 + 64 + 70 + 70) − 4 × 15 − (23.2 + 4.8) = 178.
	var p85, planned, avail float64
	if err := db.QueryRow(`SELECT operational_p85_weekly_hours, planned_project_hours, available_hours FROM project_capacity WHERE team = 'web'`).Scan(&p85, &planned, &avail); err != nil {
		t.Fatal(err)
	}
	if p85 != 15 || math.Abs(planned-28) > 1e-9 || math.Abs(avail-178) > 1e-9 {
		t.Errorf("project capacity: p85 %v planned %v available %v; want 15, 28, 178", p85, planned, avail)
	}
	var capRows int
	db.QueryRow(`SELECT count(*) FROM capacity WHERE team_id = 'web' AND week_start = DATE '2026-03-16'`).Scan(&capRows)
	if capRows != 2 {
		t.Errorf("capacity rows for week 0 = %d, want one per member (2)", capRows)
	}
}

func TestClassificationAndFlowEfficiency(t *testing.T) {
	db := dcComputed(t)
	got := map[string]string{}
	rows, err := db.Query(`SELECT key, work_class FROM item_flow WHERE key IN ('C1', 'C2', 'C3', 'P2', 'P3', 'P4', 'WEB-F1')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k, c string
		rows.Scan(&k, &c)
		got[k] = c
	}
	want := map[string]string{
		"C1": "operational", // Incident rule beats the milestone default
		"C2": "project",     // explicit class beats the rules
		"C3": "project",     // Spike: project rule
		"P2": "operational", "P3": "project", "P4": "unclassified", "WEB-F1": "unclassified",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("work_class (-want +got):\n%s", d)
	}
	var active, wait int64
	var eff float64
	if err := db.QueryRow(`SELECT active_seconds, wait_seconds, flow_efficiency FROM item_flow WHERE key = 'EFF'`).Scan(&active, &wait, &eff); err != nil {
		t.Fatal(err)
	}
	if active != 36*3600 || wait != 24*3600 || eff != 0.6 {
		t.Errorf("EFF active %d wait %d efficiency %v; want 36 h, 24 h, 0.6", active, wait, eff)
	}
}

func TestCollectorDeliveryAndCapacity(t *testing.T) {
	db := dcComputed(t)
	snap, err := metrics.LoadSnapshot(context.Background(), db.DB, dcNow)
	if err != nil {
		t.Fatal(err)
	}
	c := metrics.NewCollector(metrics.Build{Version: "test", Revision: "abc", GoVersion: "go1.26"})
	c.SetSnapshot(snap)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	// Values from the hand computations above: 178 h available, 35 of 70 h logged.
	want := header(metrics.ProjectCapacityAvailable) + `throughline_project_capacity_available_seconds{team="web"} 640800
` + header(metrics.LoggedUtilization) + `throughline_logged_utilization_ratio{team="web"} 0.5
`
	err = testutil.GatherAndCompare(reg, strings.NewReader(want),
		"throughline_project_capacity_available_seconds", "throughline_logged_utilization_ratio")
	if err != nil {
		t.Error(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := ""
			for _, l := range m.GetLabel() {
				labels += l.GetName() + "=" + l.GetValue() + ","
			}
			got[mf.GetName()+"{"+labels+"}"] = m.GetGauge().GetValue()
		}
	}
	checks := map[string]float64{
		"throughline_milestone_status{milestone=M5,project=WEB,status=off_track,}":                    1,
		"throughline_milestone_status{milestone=M5,project=WEB,status=on_track,}":                     0,
		"throughline_milestone_status{milestone=M1,project=WEB,status=done,}":                         1,
		"throughline_milestone_remaining_items{milestone=M5,project=WEB,}":                            8,
		"throughline_milestone_slip_seconds{milestone=M5,project=WEB,}":                               2 * 86400,
		"throughline_milestone_forecast_timestamp_seconds{confidence=0.85,milestone=M3,project=WEB,}": float64(d("2026-03-21").Unix()),
		"throughline_milestone_due_timestamp_seconds{milestone=M3,project=WEB,}":                      float64(d("2026-03-25").Unix()),
		"throughline_capacity_seconds{team=web,week_offset=0,}":                                       62 * 3600,
		"throughline_planned_load_seconds{team=web,week_offset=0,work_class=operational,}":            10 * 3600,
		"throughline_allocation_ratio{team=web,week_offset=0,}":                                       36.2 / 62,
	}
	for k, v := range checks {
		g, ok := got[k]
		if !ok || math.Abs(g-v) > 1e-6 {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}

func TestWorkClassShare(t *testing.T) {
	db := dcComputed(t)
	type share struct {
		Items            int64
		ItemsShare       sql.NullFloat64
		Hours, HourShare float64
	}
	rows, err := db.Query(`SELECT work_class, items, items_share, logged_hours, coalesce(hours_share, 0) FROM work_class_share
		WHERE team = 'web' AND week_start = DATE '2026-03-09'`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]share{}
	for rows.Next() {
		var c string
		var s share
		if err := rows.Scan(&c, &s.Items, &s.ItemsShare, &s.Hours, &s.HourShare); err != nil {
			t.Fatal(err)
		}
		got[c] = s
	}
	// Week of 03-09: WEB-F0..F6 finished (unclassified: stories without a milestone);
	// ann logged 20 h on WEB-1 (project), bob 15 h on C1 (operational).
	f := func(v float64) sql.NullFloat64 { return sql.NullFloat64{Float64: v, Valid: true} }
	want := map[string]share{
		"unclassified": {Items: 7, ItemsShare: f(1)},
		"project":      {ItemsShare: f(0), Hours: 20, HourShare: 20.0 / 35},
		"operational":  {ItemsShare: f(0), Hours: 15, HourShare: 15.0 / 35},
	}
	if d := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); d != "" {
		t.Errorf("work_class_share (-want +got):\n%s", d)
	}
}
