package ingesttest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Truth is what a warehouse must hold for a source, as a test states it
// independently of the connector under test (from a fake's data, or read
// back from the warehouse): the live items by key (I: the fields
// compared), each item's status history (C), every worklog by id (W) and
// every milestone by id (M). Values compare with go-cmp (times by Equal).
type Truth[I, C, W, M any] struct {
	Items      map[string]I
	Changes    map[string][]C
	Worklogs   map[string]W
	Milestones map[string]M
	// WorklogItem is the key of the item a worklog belongs to: differences
	// of worklogs are keyed by it.
	WorklogItem func(W) string
}

// NewTruth returns an empty truth.
func NewTruth[I, C, W, M any](worklogItem func(W) string) Truth[I, C, W, M] {
	return Truth[I, C, W, M]{Items: map[string]I{}, Changes: map[string][]C{}, Worklogs: map[string]W{}, Milestones: map[string]M{},
		WorklogItem: worklogItem}
}

// Sizes are the numbers of items, status changes and worklogs.
func (w Truth[I, C, W, M]) Sizes() (items, changes, worklogs int) {
	for _, c := range w.Changes {
		changes += len(c)
	}
	return len(w.Items), changes, len(w.Worklogs)
}

// Diff lists what differs between want (the source's truth) and got (the
// warehouse), one line per difference, keyed by the item key concerned
// ("milestone <id>" for milestones).
func Diff[I, C, W, M any](want, got Truth[I, C, W, M]) map[string][]string {
	out := map[string][]string{}
	add := func(k, format string, args ...any) { out[k] = append(out[k], fmt.Sprintf(format, args...)) }
	for k, wi := range want.Items {
		gi, ok := got.Items[k]
		if !ok {
			add(k, "missing (or marked deleted) in the warehouse")
			continue
		}
		if d := cmp.Diff(wi, gi); d != "" {
			add(k, "item (-truth +warehouse):\n%s", d)
		}
		if d := cmp.Diff(want.Changes[k], got.Changes[k]); d != "" {
			add(k, "status changes (-truth +warehouse):\n%s", d)
		}
	}
	for k := range got.Items {
		if _, ok := want.Items[k]; !ok {
			add(k, "live in the warehouse, gone (deleted, moved or out of scope) at the source")
		}
	}
	for id, ww := range want.Worklogs {
		if gw, ok := got.Worklogs[id]; !ok || !cmp.Equal(gw, ww) {
			add(want.WorklogItem(ww), "worklog %s: warehouse %+v (present %v), truth %+v", id, gw, ok, ww)
		}
	}
	for id, gw := range got.Worklogs {
		if _, ok := want.Worklogs[id]; !ok {
			add(got.WorklogItem(gw), "worklog %s stored, gone at the source", id)
		}
	}
	for id, wm := range want.Milestones {
		if gm, ok := got.Milestones[id]; !ok || !cmp.Equal(gm, wm) {
			add("milestone "+id, "milestone: warehouse %+v (present %v), truth %+v", gm, ok, wm)
		}
	}
	for id, gm := range got.Milestones {
		if _, ok := want.Milestones[id]; !ok {
			add("milestone "+id, "stale milestone row %+v", gm)
		}
	}
	return out
}

// Touched lists the keys (as Diff names them) whose state differs between
// two truths of the same source: what changed from a to b.
func Touched[I, C, W, M any](a, b Truth[I, C, W, M]) []string {
	var out []string
	for k := range Diff(a, b) {
		out = append(out, k)
	}
	for id, w := range a.Worklogs { // a worklog that moved: both items
		if bw, ok := b.Worklogs[id]; ok && a.WorklogItem(w) != b.WorklogItem(bw) {
			out = append(out, a.WorklogItem(w), b.WorklogItem(bw))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Check fails t for every difference in diffs but those of the excused
// keys (changed at the source after the sync had read them: the next
// sync's), at most ten lines.
func Check(t testing.TB, when string, diffs map[string][]string, excused ...string) {
	t.Helper()
	var keys []string
	for k := range diffs {
		if !slices.Contains(excused, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i == 10 {
			t.Errorf("%s: … and %d more keys differ", when, len(keys)-10)
			break
		}
		t.Errorf("%s: %s: %s", when, k, strings.Join(diffs[k], "; "))
	}
}
