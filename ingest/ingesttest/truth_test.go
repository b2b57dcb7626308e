package ingesttest

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type wl struct{ Item string }

func TestDiffAndTouched(t *testing.T) {
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	want := NewTruth[string, time.Time, wl, string](func(w wl) string { return w.Item })
	got := NewTruth[string, time.Time, wl, string](func(w wl) string { return w.Item })
	want.Items["A-1"], got.Items["A-1"] = "x", "x"
	want.Changes["A-1"] = []time.Time{at}
	got.Changes["A-1"] = []time.Time{at.In(time.FixedZone("CET", 3600))} // the same instant
	want.Items["A-2"] = "y"                                              // missing
	got.Items["A-3"] = "z"                                               // stale
	want.Worklogs["w1"], got.Worklogs["w1"] = wl{"A-1"}, wl{"A-3"}       // moved
	got.Milestones["m1"] = "old"                                         // stale row
	d := Diff(want, got)
	var keys []string
	for k := range d {
		keys = append(keys, k)
	}
	if diff := cmp.Diff([]string{"A-1", "A-2", "A-3", "milestone m1"}, sortStrings(keys)); diff != "" {
		t.Errorf("Diff keys (-want +got):\n%s", diff)
	}
	if len(d["A-1"]) != 1 { // the worklog only: the times are equal
		t.Errorf("A-1: %q, want the worklog's difference only", d["A-1"])
	}
	if diff := cmp.Diff([]string{"A-1", "A-2", "A-3", "milestone m1"}, Touched(want, got)); diff != "" {
		t.Errorf("Touched (-want +got):\n%s", diff)
	}
	if i, c, w := want.Sizes(); i != 2 || c != 1 || w != 1 {
		t.Errorf("Sizes = %d, %d, %d", i, c, w)
	}
}

func sortStrings(s []string) []string {
	slices.Sort(s)
	return s
}
