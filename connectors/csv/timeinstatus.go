package csv

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/throughline/throughline/ingest"
)

// Jira's "[CHART] Time in Status" field, as an export writes it:
// statusId_*:*_timesEntered_*:*_millis for every status the issue has been
// in, joined by _*|*_. The millis of a status count its finished visits:
// the current status's ongoing visit is not counted yet. The order of
// visits is not in the field.

// tisEntry is one status of a Time in Status cell.
type tisEntry struct {
	id    string
	times int
	ms    int64
}

// parseTimeInStatus reads a Time in Status cell.
func parseTimeInStatus(cell string) ([]tisEntry, error) {
	var out []tisEntry
	seen := map[string]bool{}
	for part := range strings.SplitSeq(cell, "_*|*_") {
		f := strings.Split(strings.TrimSpace(part), "_*:*_")
		if len(f) != 3 {
			return nil, fmt.Errorf("entry %q is not statusId_*:*_times_*:*_millis", clip(part))
		}
		id := strings.TrimSpace(f[0])
		n, okN := atoiDigits(strings.TrimSpace(f[1]), 9)
		ms, err := strconv.ParseInt(strings.TrimSpace(f[2]), 10, 64)
		if id == "" || !okN || err != nil || ms < 0 || ms > 1000*86400*365*200 {
			return nil, fmt.Errorf("entry %q is not statusId_*:*_times_*:*_millis", clip(part))
		}
		if seen[id] {
			return nil, fmt.Errorf("status id %q appears twice", clip(id))
		}
		seen[id] = true
		out = append(out, tisEntry{id: id, times: n, ms: ms})
	}
	if len(out) == 0 {
		return nil, errors.New("no entry")
	}
	return out, nil
}

// tisRow is what the status-id inference needs of a row.
type tisRow struct {
	status, category string
	entries          []tisEntry
}

// tisBook names the status ids of Time in Status cells and gives their
// categories. Jira statuses have one category each, site-wide, so an id's
// category is a fact about the status, learnt from any row that is in it.
type tisBook struct {
	name map[string]string // id → status name
	cat  map[string]string // id → category ("" unknown)
}

// inferStatusIDs names status ids from the rows: the id of status N is the
// one every row whose Status is N has in its cell (the current status is
// always there), other ids already named set aside; where several remain,
// the id most often last in those rows' cells (Jira lists the current
// status last). override (config status_ids: id → name) wins.
func inferStatusIDs(rows []tisRow, override map[string]string) tisBook {
	b := tisBook{name: map[string]string{}, cat: map[string]string{}}
	named := map[string]bool{} // status names with an id
	for id, n := range override {
		b.name[id] = n
		named[strings.ToLower(n)] = true
	}
	cand := map[string]map[string]bool{} // lower-case status → candidate ids
	last := map[string]map[string]int{}  // lower-case status → id → rows listing it last
	spelled := map[string]string{}
	for _, r := range rows {
		if r.status == "" || len(r.entries) == 0 {
			continue
		}
		k := strings.ToLower(r.status)
		spelled[k] = r.status
		ids := map[string]bool{}
		for _, e := range r.entries {
			ids[e.id] = true
		}
		if c, ok := cand[k]; !ok {
			cand[k] = ids
		} else {
			for id := range c {
				if !ids[id] {
					delete(c, id)
				}
			}
		}
		if last[k] == nil {
			last[k] = map[string]int{}
		}
		last[k][r.entries[len(r.entries)-1].id]++
	}
	statuses := slices.Sorted(func(yield func(string) bool) {
		for k := range cand {
			if !yield(k) {
				return
			}
		}
	})
	free := func(k string) []string {
		var out []string
		for id := range cand[k] {
			if _, taken := b.name[id]; !taken {
				out = append(out, id)
			}
		}
		slices.Sort(out)
		return out
	}
	for changed := true; changed; {
		changed = false
		for _, k := range statuses {
			if named[k] {
				continue
			}
			if ids := free(k); len(ids) == 1 {
				b.name[ids[0]], named[k], changed = spelled[k], true, true
			}
		}
		if changed {
			continue
		}
		for _, k := range statuses {
			if named[k] {
				continue
			}
			ids := free(k)
			best, top, tie := "", 0, false
			for _, id := range ids {
				switch n := last[k][id]; {
				case n > top:
					best, top, tie = id, n, false
				case n == top:
					tie = true
				}
			}
			if best != "" && !tie {
				b.name[best], named[k], changed = spelled[k], true, true
			}
		}
	}
	// Categories: from the rows in each status, else the status's well-known name.
	for _, r := range rows {
		for id, n := range b.name {
			if r.category != "" && strings.EqualFold(n, r.status) {
				if _, ok := b.cat[id]; !ok {
					b.cat[id] = r.category
				}
			}
		}
	}
	for id, n := range b.name {
		if _, ok := b.cat[id]; !ok {
			b.cat[id] = ingest.KnownCategory(n)
		}
	}
	return b
}

// tisStep is one status of the reconstructed history.
type tisStep struct {
	status, category string
	at               time.Time
}

// tisHistory rebuilds an issue's history from its Time in Status cell. The
// field gives exact totals per status but not the order of visits: the
// history assumes the todo statuses came first, then the started ones, then
// the done ones, each in the cell's order, each visited once for its total,
// ending in the current status. When finish is the exact time the issue
// entered done (Resolved, Status Category Changed), the started and done
// steps are placed so that done is entered at finish: the cycle time is
// then the exact total time in started statuses. It reports the first id
// it cannot categorize ("" when all are known); the steps are nil then.
func tisHistory(created time.Time, status, category string, entries []tisEntry, b tisBook, finish time.Time) (steps []tisStep, unknown string, clamped bool) {
	cur := -1
	for i, e := range entries {
		if n, ok := b.name[e.id]; ok && strings.EqualFold(n, status) {
			cur = i
		}
	}
	if cur < 0 {
		cur = len(entries) - 1
	}
	var groups [3][]tisEntry // todo, started, done
	for i, e := range entries {
		if i == cur {
			continue
		}
		if _, ok := b.name[e.id]; !ok || b.cat[e.id] == "" {
			return nil, e.id, false
		}
		switch b.cat[e.id] {
		case "indeterminate":
			groups[1] = append(groups[1], e)
		case "done":
			groups[2] = append(groups[2], e)
		default:
			groups[0] = append(groups[0], e)
		}
	}
	t := created
	var firstStarted, firstDone = -1, -1
	for g, es := range groups {
		for _, e := range es {
			if g == 1 && firstStarted < 0 {
				firstStarted = len(steps)
			}
			if g == 2 && firstDone < 0 {
				firstDone = len(steps)
			}
			steps = append(steps, tisStep{status: b.name[e.id], category: b.cat[e.id], at: t})
			t = t.Add(time.Duration(e.ms) * time.Millisecond)
		}
	}
	if firstDone < 0 && category == "done" {
		firstDone = len(steps)
	}
	steps = append(steps, tisStep{status: status, category: category, at: t})
	if finish.IsZero() || firstDone < 0 {
		return steps, "", false
	}
	// Place done's entry at finish; the started steps before it keep their
	// lengths, the todo steps absorb the difference.
	from := firstDone
	if firstStarted >= 0 {
		from = firstStarted
	}
	shift := finish.Sub(steps[firstDone].at)
	for i := from; i < len(steps); i++ {
		steps[i].at = steps[i].at.Add(shift)
	}
	clamped = steps[from].at.Before(created)
	steps[0].at = created // the creation stays where it was
	floor := created
	for i := range steps {
		if i < from && i > 0 && steps[i].at.After(steps[from].at) {
			steps[i].at = steps[from].at // todo steps end where work starts
		}
		if steps[i].at.Before(floor) {
			steps[i].at, clamped = floor, true
		}
		floor = steps[i].at
	}
	return steps, "", clamped
}
