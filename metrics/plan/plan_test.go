package plan

import (
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Today is Wednesday 2026-03-18: tomorrow (day 1 of the forecast) is
// Thursday 03-19; week 0 starts Monday 03-16.
var today = time.Date(2026, 3, 18, 0, 0, 0, 0, time.UTC)

func day(n int) time.Time { return today.AddDate(0, 0, n) } // day n of the forecast

func weeks(capacity float64, planned ...float64) []Week {
	out := make([]Week, Weeks)
	for k := range out {
		out[k] = Week{Start: time.Date(2026, 3, 16+7*k, 0, 0, 0, 0, time.UTC), Capacity: capacity}
		if k < len(planned) {
			out[k].Planned = planned[k]
		}
	}
	return out
}

func inputs() *Inputs {
	return &Inputs{Today: today, WindowDays: 10, Trials: 500, Seed: 3, Teams: []Team{
		// fast: 2 project items a day, 3 open milestone items queued, 4 h an item.
		{Name: "fast", Projects: []string{"WEB"}, Samples: slices.Repeat([]int{2}, 10), Share: 1,
			Queue: []Queued{{Milestone: "M1", Project: "WEB", Due: day(2), Remaining: 3}}, HoursPerItem: 4, HourItems: 12,
			Weeks: weeks(40, 20, 10)},
		// slow: 1 a day, nothing queued, 4 h an item, 20 h a week.
		{Name: "slow", Projects: []string{"APP"}, Samples: slices.Repeat([]int{1}, 10), Share: 1, HoursPerItem: 4, HourItems: 5,
			Weeks: weeks(20)},
		// idle: finished no project work in the window; no worklogs.
		{Name: "idle", Projects: []string{"WEB"}, Samples: make([]int, 10), Share: 1, Weeks: weeks(40)},
	}}
}

func ptr[T any](v T) *T { return &v }

func TestPlanConstantThroughput(t *testing.T) {
	// 10 new items due Wednesday 03-25 (day 7).
	// fast: 3 queued + 10 new at 2 a day: done on day ceil(13/2) = 7, in
	// every trial: on time. 40 h over the working days Thu 19 … Wed 25 (5):
	// 16 h in week 0, 24 h in week 1: (20+16)/40 = 0.9, (10+24)/40 = 0.85.
	// slow: 10 at 1 a day: day 10 (Sat 03-28): late. 40 h over Thu 19 …
	// Fri 27 (7 working days): 80/7 h in week 0, 200/7 h in week 1 against
	// 20 h: 0.571 and 1.43, over-allocated.
	// idle: no forecast, ranked last.
	got, err := inputs().Plan(Request{Items: 10, Due: Date{day(7)}})
	if err != nil {
		t.Fatal(err)
	}
	wk := func(k int, capacity, planned, nw float64) WeekAnswer {
		w := WeekAnswer{Offset: k, Start: Date{time.Date(2026, 3, 16+7*k, 0, 0, 0, 0, time.UTC)}, Capacity: capacity, Planned: planned, New: nw}
		if capacity > 0 {
			r := (planned + nw) / capacity
			w.Allocation = &r
			switch {
			case r > 1:
				w.Band = "over-allocated"
			case r > 0.85:
				w.Band = "warning"
			case r >= 0.6:
				w.Band = "healthy"
			default:
				w.Band = "under-loaded"
			}
		}
		return w
	}
	fastWeeks := []WeekAnswer{wk(0, 40, 20, 16), wk(1, 40, 10, 24)}
	slowWeeks := []WeekAnswer{wk(0, 20, 0, 80.0/7), wk(1, 20, 0, 200.0/7)}
	idleWeeks := []WeekAnswer{wk(0, 40, 0, 0), wk(1, 40, 0, 0)}
	for k := 2; k < Weeks; k++ {
		fastWeeks = append(fastWeeks, wk(k, 40, 0, 0))
		slowWeeks = append(slowWeeks, wk(k, 20, 0, 0))
		idleWeeks = append(idleWeeks, wk(k, 40, 0, 0))
	}
	want := &Answer{
		Request: Request{Items: 10, Due: Date{day(7)}}, Start: Date{day(1)}, Trials: 500, Seed: 3,
		Teams: []TeamAnswer{
			{Rank: 1, Team: "fast", Items: ptr(10), Hours: ptr(40.0), HoursPerItem: ptr(4.0), Known: true,
				P50: &Date{day(7)}, P85: &Date{day(7)}, OnTime: ptr(1.0), AheadItems: 3, Share: 1, Throughput: 2,
				Weeks: fastWeeks, PeakAllocation: ptr(0.9), PeakBand: "warning"},
			{Rank: 2, Team: "slow", Items: ptr(10), Hours: ptr(40.0), HoursPerItem: ptr(4.0), Known: true,
				P50: &Date{day(10)}, P85: &Date{day(10)}, OnTime: ptr(0.0), Share: 1, Throughput: 1,
				Weeks: slowWeeks, PeakAllocation: ptr(10.0 / 7), PeakBand: "over-allocated", OverAllocated: true},
			{Rank: 3, Team: "idle", Items: ptr(10), Share: 1, Reason: "idle finished no project work in the last 10 days: a date would be a guess",
				Weeks: idleWeeks, PeakAllocation: ptr(0.0), PeakBand: "under-loaded"},
		},
	}
	if d := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9), cmpopts.IgnoreFields(Answer{}, "Notes")); d != "" {
		t.Errorf("Plan (-want +got):\n%s", d)
	}
}

func TestPlanHoursAndStart(t *testing.T) {
	tests := []struct {
		name     string
		req      Request
		team     string
		items    int
		p50      time.Time
		newHours map[int]float64
		reason   string
	}{
		// 38 h at 4 h an item: 10 items (rounded up), as above.
		{"hours to items", Request{Hours: 38, Team: "fast"}, "fast", 10, day(7), map[int]float64{0: 38 * 2 / 5.0, 1: 38 * 3 / 5.0}, ""},
		// Starting Monday 03-23 (day 5): the 3 queued items are done on day 2
		// (its leftover goes elsewhere), then 10 at 2 a day: day 9, Fri 03-27;
		// 40 h over that week.
		{"later start", Request{Items: 10, Team: "fast", Start: Date{day(5)}}, "fast", 10, day(9), map[int]float64{1: 40}, ""},
		// A start before tomorrow is tomorrow.
		{"start today", Request{Items: 10, Team: "fast", Start: Date{today}}, "fast", 10, day(7), map[int]float64{0: 16, 1: 24}, ""},
		{"hours without worklogs", Request{Hours: 40, Team: "idle"}, "idle", 0, time.Time{}, nil,
			"no worklogs on the project items idle finished in the last 10 days: hours cannot be converted to items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := inputs().Plan(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Teams) != 1 || got.Teams[0].Team != tt.team {
				t.Fatalf("teams = %+v, want %s only", got.Teams, tt.team)
			}
			ta := got.Teams[0]
			var items int
			if ta.Items != nil {
				items = *ta.Items
			}
			var p50 time.Time
			if ta.P50 != nil {
				p50 = ta.P50.Time
			}
			nw := map[int]float64{}
			for _, w := range ta.Weeks {
				if w.New != 0 {
					nw[w.Offset] = w.New
				}
			}
			if tt.newHours == nil {
				tt.newHours = map[int]float64{}
			}
			if items != tt.items || !p50.Equal(tt.p50) || ta.Reason != tt.reason || !cmp.Equal(tt.newHours, nw, cmpopts.EquateApprox(0, 1e-9)) {
				t.Errorf("%s: items %d, P50 %v, new hours %v, reason %q; want %d, %v, %v, %q", ta.Team, items, p50, nw, ta.Reason,
					tt.items, tt.p50, tt.newHours, tt.reason)
			}
		})
	}
}

func TestPlanRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"nothing", Request{}, "give the new work as items or as hours"},
		{"both", Request{Items: 3, Hours: 4}, "give the new work as items or as hours"},
		{"negative", Request{Items: -3}, "must be positive"},
		{"too many", Request{Items: MaxItems + 1}, "at most 100000"},
		{"unknown team", Request{Items: 3, Team: "nobody"}, `no team "nobody" (configured teams: fast, slow, idle)`},
		{"unknown project", Request{Items: 3, Project: "ZZZ"}, `no team works on project "ZZZ"`},
		{"team not on project", Request{Items: 3, Team: "slow", Project: "WEB"}, `team "slow" does not work on project "WEB"`},
		{"due before start", Request{Items: 3, Start: Date{day(5)}, Due: Date{day(4)}}, "due 2026-03-22 is before the start 2026-03-23"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := inputs().Plan(tt.req)
			var re *RequestError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Plan error = %v, want a RequestError containing %q", err, tt.want)
			}
		})
	}
	if _, err := (*Inputs)(nil).Plan(Request{Items: 1}); err == nil {
		t.Errorf("Plan without inputs: no error")
	}
}

func TestPlanRanking(t *testing.T) {
	// Due on day 3: no team makes it. Among those, the sooner finish first,
	// whatever the load: fast (day 7, 90 % peak) before slow (day 10, 0 %
	// without hours). Due on day 12: both make it: the lower peak first.
	in := inputs()
	in.Teams[1].HourItems = 0 // slow: no worklogs, no load added
	for _, tt := range []struct {
		due  int
		want []string
	}{{3, []string{"fast", "slow", "idle"}}, {12, []string{"slow", "fast", "idle"}}} {
		got, err := in.Plan(Request{Items: 10, Due: Date{day(tt.due)}})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, ta := range got.Teams {
			names = append(names, ta.Team)
		}
		if !slices.Equal(names, tt.want) {
			t.Errorf("due day %d: ranking %v, want %v", tt.due, names, tt.want)
		}
	}
}

func TestPlanProjectFilterAndJSON(t *testing.T) {
	got, err := inputs().Plan(Request{Items: 4, Project: "WEB"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ta := range got.Teams {
		names = append(names, ta.Team)
	}
	if !slices.Equal(names, []string{"fast", "idle"}) {
		t.Errorf("teams on WEB = %v, want fast, idle (ranked by P85 without a due date)", names)
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"request":{"items":4,"project":"WEB"}`, `"start":"2026-03-19"`, `"p50":"2026-03-22"`, `"on_time_probability":null`,
		`"week_start":"2026-03-16"`, `"over_allocated":false`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("JSON lacks %s:\n%s", w, b)
		}
	}
	var req Request
	if err := json.Unmarshal([]byte(`{"items": 40, "due": "2026-04-29", "start": ""}`), &req); err != nil || req.Items != 40 || req.Due.String() != "2026-04-29" || !req.Start.IsZero() {
		t.Errorf("decode request = %+v, %v", req, err)
	}
	if err := json.Unmarshal([]byte(`{"items": 40, "due": "29/04/2026"}`), &req); err == nil || !strings.Contains(err.Error(), "want a date like") {
		t.Errorf("decode a bad date: %v", err)
	}
}

func TestPlanDeterministic(t *testing.T) {
	in := inputs()
	in.Teams[0].Samples = []int{0, 3, 1, 0, 0, 5, 2, 0, 1, 1}
	in.Teams[0].Share = 0.7
	first, err := in.Plan(Request{Items: 25, Due: Date{day(30)}})
	if err != nil {
		t.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 3, 8} {
		runtime.GOMAXPROCS(procs)
		got, _ := in.Plan(Request{Items: 25, Due: Date{day(30)}})
		if d := cmp.Diff(first, got); d != "" {
			t.Errorf("GOMAXPROCS=%d: Plan differs (-first +got):\n%s", procs, d)
		}
	}
}
