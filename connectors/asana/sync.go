package asana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/throughline/throughline/connectors/internal/listing"
	"github.com/throughline/throughline/ingest"
)

// cursor is the resume point.
//
// ModifiedSince is the watermark: the server time when the last completed
// polling pass began, or of the first events call of the last completed
// events sync. While a polling pass is in progress, Pass is set, Done lists
// the projects it finished and PassStart is the server time it began
// (cursors of earlier versions hold Newest, the newest modified_at seen,
// instead). Sync holds each project's events sync token (tokens are
// resumable; offsets, which expire, are never stored). Reconciled is when
// the last reconciliation (the list of every live task gid) was stored.
type cursor struct {
	ModifiedSince string            `json:"modified_since,omitempty"`
	Pass          bool              `json:"pass,omitempty"`
	Done          []string          `json:"done,omitempty"`
	PassStart     string            `json:"pass_start,omitempty"`
	Newest        string            `json:"newest,omitempty"`
	Sync          map[string]string `json:"sync,omitempty"`
	Reconciled    string            `json:"reconciled,omitempty"`
	Version       int               `json:"v"`
}

func (c cursor) inPass() bool {
	return c.Pass || len(c.Done) > 0 || c.Newest != "" || c.PassStart != ""
}

func parseCursor(c ingest.Cursor) (cursor, time.Time, error) {
	var cur cursor
	if c == "" {
		return cur, time.Time{}, nil
	}
	if err := json.Unmarshal([]byte(c), &cur); err != nil {
		return cur, time.Time{}, fmt.Errorf("asana cursor %.40q: %w", string(c), err)
	}
	if cur.Version != 1 {
		return cur, time.Time{}, fmt.Errorf("asana cursor %.40q: version %d unknown", string(c), cur.Version)
	}
	var since time.Time
	if cur.ModifiedSince != "" {
		t, err := time.Parse(time.RFC3339Nano, cur.ModifiedSince)
		if err != nil {
			return cur, time.Time{}, fmt.Errorf("asana cursor modified_since: %w", err)
		}
		since = t
	}
	return cur, since, nil
}

func (c cursor) encode() ingest.Cursor {
	c.Version = 1
	if len(c.Sync) == 0 {
		c.Sync = nil
	}
	b, _ := json.Marshal(c)
	return ingest.Cursor(b)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// run emits a sync's batches one behind, so that a batch with no records
// (only a newer cursor) folds into the one before it, and the last batch
// carries the final cursor.
type run struct {
	emit    func(context.Context, ingest.Batch) error
	pending *ingest.Batch
	failed  bool // emit returned an error: it is never called again
}

func (r *run) send(ctx context.Context, b ingest.Batch) error {
	if r.pending != nil && b.Len() == 0 && len(b.Raw) == 0 && len(b.Problems) == 0 && len(b.WorklogsOf) == 0 && b.Live == nil {
		r.pending.Cursor = b.Cursor
		return nil
	}
	if err := r.flush(ctx); err != nil {
		return err
	}
	r.pending = &b
	return nil
}

func (r *run) flush(ctx context.Context) error {
	if r.pending == nil || r.failed {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b := *r.pending
	r.pending = nil
	if err := r.emit(ctx, b); err != nil {
		r.failed = true
		return err
	}
	return nil
}

// Sync runs one of two modes. A polling pass (the first sync, a pass in
// progress, or when events are unavailable) lists each project's tasks,
// modified since the watermark minus Overlap when there is one, one batch
// per page of tasks; it subscribes each project to the events API before
// listing it. Later syncs read each project's events since its sync token,
// fetch the tasks they name (one batch per page of events), and fall back
// to polling a project from the watermark when its token expired (412).
// Either ends with a reconciliation when one is due (ReconcileEvery, or a
// deletion among the events).
func (c *Connector) Sync(ctx context.Context, from ingest.Cursor, emit func(context.Context, ingest.Batch) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cur, since, err := parseCursor(from)
	if err != nil {
		return err
	}
	c.secs = nil // sections are read afresh by each sync
	r := &run{emit: emit}
	if cur.inPass() || len(cur.Sync) == 0 {
		err = c.pass(ctx, r, cur, since)
	} else {
		err = c.incremental(ctx, r, cur, since)
	}
	if err != nil {
		// The batches read before a source error are stored: the next
		// sync resumes after them.
		if !r.failed && ctx.Err() == nil {
			if ferr := r.flush(ctx); ferr != nil {
				return errors.Join(err, ferr)
			}
		}
		return err
	}
	return r.flush(ctx)
}

// pass is a polling pass over every project not done yet. Its watermark
// is the server's time when it began: a task changed after the pass read
// it is read again by the next, whatever the modified_at of the tasks read
// after it.
func (c *Connector) pass(ctx context.Context, r *run, cur cursor, since time.Time) error {
	passStart := cur.PassStart
	if passStart == "" {
		passStart = cur.Newest // a pass begun by an earlier version
	}
	c.c.date = time.Time{}
	done := map[string]bool{}
	for _, p := range cur.Done {
		done[p] = true
	}
	tokens := c.configuredTokens(cur.Sync)
	reconcile := false
	for _, proj := range c.cfg.Projects {
		if done[proj] {
			continue
		}
		if tokens[proj] == "" {
			// Subscribe before listing: the events after the token cover
			// every change the listing might miss.
			tok, err := c.subscribe(ctx, proj)
			if err != nil {
				return err
			}
			if tok != "" {
				tokens[proj] = tok
			}
		}
		if passStart == "" {
			// The server's clock at the pass's first request, before any task was read.
			at := c.c.date
			if at.IsZero() {
				at = c.now()
			}
			passStart = formatTime(at)
		}
		err := c.listProject(ctx, proj, since, func(bt *batcher, last bool) error {
			reconcile = reconcile || bt.outOfScope
			b := bt.b
			next := cursor{ModifiedSince: cur.ModifiedSince, Pass: true, Done: cur.Done, PassStart: passStart, Sync: tokens, Reconciled: cur.Reconciled}
			if last {
				next.Done = append(append([]string(nil), cur.Done...), proj)
			}
			b.Cursor = next.encode()
			if err := r.send(ctx, b); err != nil {
				return err
			}
			if last {
				cur.Done = next.Done
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if passStart == "" { // every project was done already
		passStart = formatTime(c.now())
	}
	return c.finish(ctx, r, cursor{ModifiedSince: passStart, Sync: tokens, Reconciled: cur.Reconciled}, reconcile)
}

// incremental reads each project's events since its token and fetches the
// tasks they name; a project without a usable token is polled from the
// watermark.
func (c *Connector) incremental(ctx context.Context, r *run, cur cursor, since time.Time) error {
	tokens := c.configuredTokens(cur.Sync)
	c.c.date = time.Time{}
	var watermark time.Time // server time of the first events reply
	reconcile := false
	state := func() cursor {
		return cursor{ModifiedSince: cur.ModifiedSince, Sync: tokens, Reconciled: cur.Reconciled}
	}
	start := c.now()
	first := true
	// The watermark is the server's clock at the first request (nothing
	// later: a project polled earlier in this sync is not read again).
	mark := func() {
		if first {
			first = false
			watermark = c.c.date
		}
	}
	for _, proj := range c.cfg.Projects {
		tok := tokens[proj]
		if tok == "" || c.eventsOff {
			newTok, err := c.subscribe(ctx, proj)
			if err != nil {
				return err
			}
			mark()
			from := since
			if newTok != "" {
				// Events work but the project had no token: it is new in
				// the config, so it is listed in full.
				from = time.Time{}
			}
			if err := c.poll(ctx, r, proj, from, tokens, newTok, state, &reconcile); err != nil {
				return err
			}
			continue
		}
		for {
			ev, err := c.c.events(ctx, proj, tok)
			mark()
			var expired *errSyncExpired
			var ae *APIError
			switch {
			case errors.As(err, &expired):
				c.logger.Info("asana events sync token expired: polling the project from the watermark",
					"project", proj, "modified_since", formatTime(since.Add(-Overlap)))
				if err := c.poll(ctx, r, proj, since, tokens, expired.Token, state, &reconcile); err != nil {
					return err
				}
			case errors.As(err, &ae) && ae.Status == http.StatusPaymentRequired:
				c.disableEvents(ae)
				if err := c.poll(ctx, r, proj, since, tokens, "", state, &reconcile); err != nil {
					return err
				}
			case err != nil:
				return fmt.Errorf("project %s events: %w", proj, err)
			}
			if err != nil {
				break
			}
			bt, recon, err := c.applyEvents(ctx, proj, ev.Data)
			if err != nil {
				return fmt.Errorf("project %s events: %w", proj, err)
			}
			reconcile = reconcile || recon
			tokens[proj] = ev.Sync
			b := bt.b
			b.Cursor = state().encode()
			if err := r.send(ctx, b); err != nil {
				return err
			}
			tok = ev.Sync
			if !ev.HasMore {
				break
			}
		}
	}
	if watermark.IsZero() {
		watermark = start
	}
	final := state()
	final.ModifiedSince = formatTime(watermark)
	return c.finish(ctx, r, final, reconcile)
}

// configuredTokens copies the sync tokens of the configured projects (a
// project dropped from the config loses its token).
func (c *Connector) configuredTokens(stored map[string]string) map[string]string {
	out := make(map[string]string, len(stored))
	for _, p := range c.cfg.Projects {
		if tok := stored[p]; tok != "" {
			out[p] = tok
		}
	}
	return out
}

// poll lists proj's tasks modified since the watermark (all of them when
// there is none). Until its last page the cursor keeps proj's old token, so
// an interrupted poll is redone; the last page stores newTok (none: the
// project is polled again next time). A task found out of scope sets
// *reconcile.
func (c *Connector) poll(ctx context.Context, r *run, proj string, since time.Time, tokens map[string]string, newTok string, state func() cursor, reconcile *bool) error {
	return c.listProject(ctx, proj, since, func(bt *batcher, last bool) error {
		*reconcile = *reconcile || bt.outOfScope
		if last {
			if newTok != "" {
				tokens[proj] = newTok
			} else {
				delete(tokens, proj)
			}
		}
		b := bt.b
		b.Cursor = state().encode()
		return r.send(ctx, b)
	})
}

// finish ends a sync: with a reconciliation when forced or due, and with
// the final cursor.
func (c *Connector) finish(ctx context.Context, r *run, final cursor, force bool) error {
	now := c.now()
	due := force
	if t, err := time.Parse(time.RFC3339Nano, final.Reconciled); err != nil || now.Sub(t) >= ReconcileEvery {
		due = true
	}
	var b ingest.Batch
	if due {
		bt, keys, err := c.reconcile(ctx)
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			b = bt.b
			b.Live = &ingest.Live{Keys: keys}
			final.Reconciled = formatTime(now)
		} else {
			// An empty scope more likely means lost access than every task
			// deleted: nothing is marked deleted.
			c.logger.Warn("asana reconciliation found no task in the configured projects: nothing marked deleted", "projects", c.cfg.Projects)
		}
	}
	b.Cursor = final.encode()
	return r.send(ctx, b)
}

// subscribe returns a fresh events sync token for proj ("" when the events
// API is unavailable).
func (c *Connector) subscribe(ctx context.Context, proj string) (string, error) {
	if c.eventsOff {
		return "", nil
	}
	ev, err := c.c.events(ctx, proj, "")
	var expired *errSyncExpired
	var ae *APIError
	switch {
	case errors.As(err, &expired):
		return expired.Token, nil
	case errors.As(err, &ae) && ae.Status == http.StatusPaymentRequired:
		c.disableEvents(ae)
		return "", nil
	case err != nil:
		return "", fmt.Errorf("project %s events subscription: %w", proj, err)
	}
	return ev.Sync, nil
}

// disableEvents turns the events API off for this connector, logging why once.
func (c *Connector) disableEvents(ae *APIError) {
	if c.eventsOff {
		return
	}
	c.eventsOff = true
	c.logger.Warn("asana events API unavailable (HTTP 402, premium-only on this plan): polling with modified_since instead", "err", ae.Message)
}

// verifyRounds bounds the listings of gids that check a project listing
// missed no task.
const verifyRounds = 3

// listProject lists proj's tasks (modified since since minus Overlap, all
// of them when since is zero), calling fn with each page mapped. A
// project's task list is in its own (priority) order and paged by
// position, so a task moved up between two page requests is skipped: the
// listing is then checked against a listing of gids (one page of up to
// 100 a request), and the tasks it missed are read one by one, in a last
// batch (fn with last set; possibly empty).
func (c *Connector) listProject(ctx context.Context, proj string, since time.Time, fn func(bt *batcher, last bool) error) error {
	q := url.Values{"project": {proj}, "opt_fields": {c.taskFields}}
	ids := url.Values{"project": {proj}, "opt_fields": {"gid"}}
	if !since.IsZero() {
		ms := since.Add(-Overlap).UTC().Format(time.RFC3339)
		q.Set("modified_since", ms)
		ids.Set("modified_since", ms)
	}
	read := map[string]bool{}
	page := 0
	err := c.c.list(ctx, "/tasks", q, func(data []json.RawMessage, _ bool) error {
		page++
		bt, err := c.page(ctx, proj, data)
		if err != nil {
			return fmt.Errorf("project %s tasks page %d: %w", proj, page, err)
		}
		for _, raw := range data {
			var t ref
			if json.Unmarshal(raw, &t) == nil {
				read[t.GID] = true
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(bt, false)
	})
	if err != nil {
		return err
	}
	bt := newBatcher()
	for range verifyRounds {
		var missing []string
		err := c.c.list(ctx, "/tasks", ids, func(data []json.RawMessage, _ bool) error {
			for _, raw := range data {
				var t ref
				if err := json.Unmarshal(raw, &t); err != nil {
					return fmt.Errorf("project %s: decode task gid: %w", proj, err)
				}
				if t.GID != "" && !read[t.GID] {
					missing = append(missing, t.GID)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("project %s: check the listing: %w", proj, err)
		}
		if len(missing) == 0 {
			break
		}
		c.logger.Debug("asana listing missed tasks, reading them", "project", proj, "tasks", len(missing))
		for _, gid := range missing {
			read[gid] = true
			raw, err := c.c.one(ctx, "/tasks/"+gid, url.Values{"opt_fields": {c.taskFields}})
			var ae *APIError
			if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
				continue // deleted since: the reconciliation's
			}
			if err != nil {
				return fmt.Errorf("task %s: %w", gid, err)
			}
			if _, err := c.mapRaw(ctx, bt, proj, raw, "", true); err != nil {
				return err
			}
		}
	}
	return fn(bt, true)
}

// applyEvents maps the tasks one page of proj's events names: tasks
// changed, added, undeleted or with a story added, and the parent of each
// subtask among them. It reports whether a reconciliation is needed: a task
// was deleted or removed from the project, or is gone.
func (c *Connector) applyEvents(ctx context.Context, proj string, evs []event) (*batcher, bool, error) {
	bt := newBatcher()
	var order []string
	want := map[string]bool{}
	withSubtasks := map[string]bool{}
	deleted := map[string]bool{}
	reconcile := false
	add := func(gid string) {
		if gid != "" && !want[gid] {
			want[gid] = true
			order = append(order, gid)
		}
	}
	for _, e := range evs {
		switch {
		case e.Type == "task" || e.Resource.ResourceType == "task":
			gid := e.Resource.GID
			switch e.Action {
			case "deleted":
				deleted[gid] = true
				reconcile = true
			case "removed":
				if e.Parent != nil && e.Parent.ResourceType == "project" {
					reconcile = true // out of the project: the reconciliation decides
				} else {
					add(gid) // a subtask taken off its parent
				}
			case "added":
				delete(deleted, gid)
				add(gid)
				withSubtasks[gid] = true // new here: its subtasks are too
			default: // changed, undeleted
				delete(deleted, gid)
				add(gid)
			}
		case e.Type == "story" || e.Resource.ResourceType == "story":
			if e.Parent != nil && e.Parent.ResourceType == "task" {
				add(e.Parent.GID)
			}
		}
	}
	if len(order) == 0 {
		return bt, reconcile, nil
	}
	q := url.Values{"opt_fields": {c.taskFields}}
	for i := 0; i < len(order); i++ { // order grows with parents
		gid := order[i]
		if deleted[gid] {
			continue
		}
		raw, err := c.c.one(ctx, "/tasks/"+gid, q)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			reconcile = true // deleted since the event
			continue
		}
		if err != nil {
			return nil, false, fmt.Errorf("task %s: %w", gid, err)
		}
		t, err := c.mapRaw(ctx, bt, proj, raw, "", withSubtasks[gid])
		if err != nil {
			return nil, false, err
		}
		reconcile = reconcile || bt.outOfScope
		if t.Parent != nil {
			add(t.Parent.GID)
		}
	}
	return bt, reconcile, nil
}

// listed is a task as a reconciliation listing gives it.
type listed struct {
	GID         string   `json:"gid"`
	NumSubtasks int      `json:"num_subtasks"`
	ActualTime  *float64 `json:"actual_time_minutes"`
	Memberships []struct {
		Project ref `json:"project"`
	} `json:"memberships"`
}

// listTop lists the top-level tasks of every configured project.
func (c *Connector) listTop(ctx context.Context) (map[string]listed, error) {
	out := map[string]listed{}
	for _, proj := range c.cfg.Projects {
		err := c.c.list(ctx, "/tasks", url.Values{"project": {proj}, "opt_fields": {liveFields}}, func(data []json.RawMessage, _ bool) error {
			for _, raw := range data {
				var t listed
				if err := json.Unmarshal(raw, &t); err != nil {
					return fmt.Errorf("decode task: %w", err)
				}
				if t.GID != "" {
					out[t.GID] = t
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reconciliation of project %s: %w", proj, err)
		}
	}
	return out, nil
}

// reconcile lists the live tasks: the top-level tasks two listings agree
// on, and of those only one holds, the ones a direct look finds (404:
// deleted) still in a configured project; then their subtasks
// (maxSubtaskDepth levels). A task is marked deleted only when both
// listings miss it or Asana confirms it gone or out of scope. It also
// re-reads the time tracking entries of every live task that has tracked
// time (actual_time_minutes), so an entry deleted without a change to its
// task goes within a day; a task with none loses any stored.
func (c *Connector) reconcile(ctx context.Context) (*batcher, []string, error) {
	live, _, err := listing.Live(ctx, c.listTop, c.confirmLive)
	if err != nil {
		return nil, nil, err
	}
	tops := slices.Sorted(maps.Keys(live))
	var keys []string
	bt := newBatcher()
	seen := map[string]bool{}
	var walk func(t listed, depth int) error
	walk = func(t listed, depth int) error {
		if seen[t.GID] {
			return nil
		}
		seen[t.GID] = true
		keys = append(keys, t.GID)
		switch {
		case t.ActualTime == nil: // time tracking not reported: nothing to compare
		case *t.ActualTime == 0:
			bt.b.WorklogsOf = append(bt.b.WorklogsOf, t.GID)
		default:
			if err := c.entries(ctx, bt, t.GID); err != nil {
				return fmt.Errorf("reconciliation: %w", err)
			}
		}
		if t.NumSubtasks == 0 || depth >= maxSubtaskDepth {
			return nil
		}
		subs, err := c.c.listAll(ctx, "/tasks/"+t.GID+"/subtasks", url.Values{"opt_fields": {liveFields}})
		if err != nil {
			return fmt.Errorf("reconciliation: task %s subtasks: %w", t.GID, err)
		}
		for _, raw := range subs {
			var s listed
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("reconciliation: decode subtask of %s: %w", t.GID, err)
			}
			if s.GID != "" {
				if err := walk(s, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, gid := range tops {
		if err := walk(live[gid], 0); err != nil {
			return nil, nil, err
		}
	}
	return bt, keys, nil
}

// confirmLive looks up each gid directly: a task still there (not 404) and
// in a configured project is live.
func (c *Connector) confirmLive(ctx context.Context, gids []string) (map[string]listed, error) {
	out := map[string]listed{}
	for _, gid := range gids {
		raw, err := c.c.one(ctx, "/tasks/"+gid, url.Values{"opt_fields": {liveFields + ",memberships.project"}})
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reconciliation: task %s: %w", gid, err)
		}
		var t listed
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, fmt.Errorf("reconciliation: decode task %s: %w", gid, err)
		}
		for _, m := range t.Memberships {
			if slices.Contains(c.cfg.Projects, m.Project.GID) {
				out[gid] = t
			}
		}
	}
	return out, nil
}

// sectionsOf maps a project's section gids to their names, read once per sync.
func (c *Connector) sectionsOf(ctx context.Context, proj string) (map[string]string, error) {
	if m, ok := c.secs[proj]; ok {
		return m, nil
	}
	m, err := c.sections(ctx, proj)
	if err != nil {
		return nil, err
	}
	if c.secs == nil {
		c.secs = map[string]map[string]string{}
	}
	c.secs[proj] = m
	return m, nil
}

// sections maps a project's section gids to their names.
func (c *Connector) sections(ctx context.Context, proj string) (map[string]string, error) {
	data, err := c.c.listAll(ctx, "/projects/"+proj+"/sections", url.Values{"opt_fields": {sectionFields}})
	if err != nil {
		return nil, fmt.Errorf("project %s sections: %w", proj, err)
	}
	out := make(map[string]string, len(data))
	for _, d := range data {
		var s ref
		if err := json.Unmarshal(d, &s); err != nil {
			return nil, fmt.Errorf("project %s sections: decode: %w", proj, err)
		}
		out[s.GID] = s.Name
	}
	return out, nil
}
