package metrics_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/metrics/plan"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

func TestPlannerInputsFromCompute(t *testing.T) {
	// The delivery scenario: team web carries WEB. Its window (03-09..03-18)
	// has no finished project work (WEB-F* are unclassified; WEB-1 and WEB-2
	// finished before it), so no samples and no hours per item; its open
	// project-work milestone items queue by due date: M2 1 (due 03-15), M4 5
	// (03-23), M5 8 (03-24), M3 3 (03-25). Weeks 0..7: capacity 62, 64, then
	// 70 (TestCapacityAndPlannedLoad), planned 36.2, 9.8, 2, then nothing.
	db := dcComputed(t)
	p := dcParams()
	in, err := plan.Load(context.Background(), db.DB, plan.Params{Now: p.Now, Location: p.Location, WindowDays: p.WindowDays, Trials: 1000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	var weeks []plan.Week
	for k, c := range []float64{62, 64, 70, 70, 70, 70, 70, 70} {
		w := plan.Week{Start: d("2026-03-16").AddDate(0, 0, 7*k), Capacity: c}
		if k < 3 {
			w.Planned = []float64{36.2, 9.8, 2}[k]
		}
		weeks = append(weeks, w)
	}
	want := &plan.Inputs{Today: d("2026-03-18"), WindowDays: 10, Trials: 1000, Seed: 7, Teams: []plan.Team{{
		Name: "web", Projects: []string{"WEB"}, Samples: make([]int, 10), Share: 1,
		Queue: []plan.Queued{
			{Milestone: "M2", Project: "WEB", Due: d("2026-03-15"), Remaining: 1},
			{Milestone: "M4", Project: "WEB", Due: d("2026-03-23"), Remaining: 5},
			{Milestone: "M5", Project: "WEB", Due: d("2026-03-24"), Remaining: 8},
			{Milestone: "M3", Project: "WEB", Due: d("2026-03-25"), Remaining: 3},
		},
		Weeks: weeks,
	}}}
	if diff := cmp.Diff(want, in, cmpopts.EquateApprox(0, 1e-9), cmpopts.IgnoreUnexported(plan.Queued{})); diff != "" {
		t.Errorf("plan.Load (-want +got):\n%s", diff)
	}
	ans, err := in.Plan(plan.Request{Items: 5, Due: plan.Date{Time: d("2026-04-30")}})
	if err != nil {
		t.Fatal(err)
	}
	if ta := ans.Teams[0]; ta.Known || !slices.Contains([]string{ta.Reason}, "web finished no project work in the last 10 days: a date would be a guess") {
		t.Errorf("web's answer = %+v, want no forecast: no project work in the window", ta)
	}
}

func TestPlannerInputsWithProjectWork(t *testing.T) {
	// Team app carries APP. In the window (03-09..03-18) it finished 2
	// project items of milestone A1 on 03-10 and 2 on 03-12, logged 3, 5, 6
	// and 10 h: median 5.5 h an item; and one project item outside any
	// milestone on 03-14 (no worklog): s = 4/5. A2 has 6 items open.
	var b ingest.Batch
	created := at("2026-03-01T08:00:00Z")
	add := func(key, milestone, done string, hours float64) {
		it := ingest.Item{Key: key, Project: "APP", Type: "Story", Milestone: milestone, WorkClass: "project", CreatedAt: created, Status: "To Do"}
		b.Transitions = append(b.Transitions, ingest.Transition{ItemKey: key, At: created, To: "To Do"})
		if done != "" {
			it.Status = "Done"
			b.Transitions = append(b.Transitions,
				ingest.Transition{ItemKey: key, At: at(done + "T09:00:00Z"), From: "To Do", To: "In Progress"},
				ingest.Transition{ItemKey: key, At: at(done + "T15:00:00Z"), From: "In Progress", To: "Done"})
		}
		if hours > 0 {
			b.Worklogs = append(b.Worklogs, ingest.Worklog{ID: "w-" + key, ItemKey: key, Person: "cy@x", StartedAt: at(done + "T10:00:00Z"), Seconds: int64(hours * 3600)})
		}
		b.Items = append(b.Items, it)
	}
	add("A-1", "A1", "2026-03-10", 3)
	add("A-2", "A1", "2026-03-10", 5)
	add("A-3", "A1", "2026-03-12", 6)
	add("A-4", "A1", "2026-03-12", 10)
	add("A-5", "", "2026-03-14", 0)
	for i := range 6 {
		add(fmt.Sprintf("A-N%d", i), "A2", "", 0)
	}
	b.People = []ingest.Person{{ExternalID: "cy@x", Email: "cy@x"}}
	b.Milestones = []ingest.Milestone{{Name: "A1", Project: "APP", DueDate: d("2026-03-13")}, {Name: "A2", Project: "APP", DueDate: d("2026-04-10")}}
	db := warehousetest.Open(t, "UTC")
	ctx := context.Background()
	if err := db.Commit(ctx, "t", b); err != nil {
		t.Fatal(err)
	}
	p := dcParams()
	p.Teams = []metrics.Team{{Name: "app", Members: []string{"cy@x"}, HoursPerWeek: 30, Projects: []string{"APP"}}}
	if _, err := metrics.Compute(ctx, db.DB, p); err != nil {
		t.Fatal(err)
	}
	in, err := plan.Load(ctx, db.DB, plan.Params{Now: p.Now, Location: p.Location, WindowDays: p.WindowDays, Trials: 1000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Teams) != 1 {
		t.Fatalf("teams %+v, want app", in.Teams)
	}
	got := in.Teams[0]
	got.Weeks = nil
	want := plan.Team{Name: "app", Projects: []string{"APP"}, Samples: []int{0, 2, 0, 2, 0, 1, 0, 0, 0, 0}, Share: 0.8,
		Queue: []plan.Queued{{Milestone: "A2", Project: "APP", Due: d("2026-04-10"), Remaining: 6}}, HoursPerItem: 5.5, HourItems: 4}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9), cmpopts.IgnoreUnexported(plan.Queued{})); diff != "" {
		t.Errorf("app's planner inputs (-want +got):\n%s", diff)
	}
}
