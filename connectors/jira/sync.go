package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/throughline/throughline/connectors/internal/listing"
	"github.com/throughline/throughline/ingest"
)

// session is what one sync learned about the site before reading issues.
type session struct {
	*Connector
	dc     bool   // Data Center (REST v2) rather than Cloud (v3)
	api    string // /rest/api/3 or /rest/api/2
	zone   *time.Location
	book   statusBook
	fields fieldIDs
	keys   map[string]string // issue id → key, for the issues read this run
	mu     sync.Mutex
	// serverNow is the site's clock when the sync began (serverInfo), else ours.
	serverNow time.Time
}

// setup detects the deployment and reads statuses, fields and boards.
func (c *Connector) setup(ctx context.Context) (*session, error) {
	s := &session{Connector: c, zone: time.UTC, keys: map[string]string{}}
	var info struct {
		DeploymentType string   `json:"deploymentType"`
		Version        string   `json:"version"`
		ServerTime     jiraTime `json:"serverTime"`
	}
	if err := c.c.get(ctx, "/rest/api/2/serverInfo", nil, &info); err != nil {
		return nil, fmt.Errorf("read server info: %w", err)
	}
	s.serverNow = info.ServerTime.Time
	if s.serverNow.IsZero() {
		s.serverNow = c.now()
	}
	s.dc = !strings.EqualFold(info.DeploymentType, "Cloud")
	s.api = "/rest/api/3"
	if s.dc {
		s.api = "/rest/api/2"
	}
	c.logger.Debug("jira site", "deployment", info.DeploymentType, "version", info.Version)

	// JQL date literals are read in the account's time zone.
	var me struct {
		TimeZone string `json:"timeZone"`
	}
	if err := c.c.get(ctx, s.api+"/myself", nil, &me); err != nil {
		return nil, fmt.Errorf("read the account (myself): %w", err)
	}
	if me.TimeZone != "" {
		if loc, err := time.LoadLocation(me.TimeZone); err == nil {
			s.zone = loc
		} else {
			c.logger.Warn("jira account time zone unknown, using UTC for JQL dates", "zone", me.TimeZone)
		}
	}

	var sts []status
	if err := c.c.get(ctx, s.api+"/status", nil, &sts); err != nil {
		return nil, fmt.Errorf("read statuses: %w", err)
	}
	s.book = newStatusBook(sts)

	var fs []struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Schema struct {
			Type   string `json:"type"`
			Custom string `json:"custom"`
		} `json:"schema"`
	}
	if err := c.c.get(ctx, s.api+"/field", nil, &fs); err != nil {
		return nil, fmt.Errorf("read fields: %w", err)
	}
	// Story points: the boards' estimation fields first, then Cloud's
	// "Story point estimate", then a float field named "Story Points".
	var est []string
	for _, id := range c.cfg.Boards {
		var bc struct {
			Estimation struct {
				Type  string `json:"type"`
				Field struct {
					FieldID string `json:"fieldId"`
				} `json:"field"`
			} `json:"estimation"`
		}
		if err := c.c.get(ctx, fmt.Sprintf("/rest/agile/1.0/board/%d/configuration", id), nil, &bc); err != nil {
			return nil, fmt.Errorf("read board %d configuration: %w", id, err)
		}
		if bc.Estimation.Type == "field" && bc.Estimation.Field.FieldID != "" && !slices.Contains(est, bc.Estimation.Field.FieldID) {
			est = append(est, bc.Estimation.Field.FieldID)
		}
	}
	var jsw, named []string
	for _, f := range fs {
		switch {
		case f.Schema.Custom == "com.pyxis.greenhopper.jira:jsw-story-points":
			jsw = append(jsw, f.ID)
		case strings.EqualFold(f.Name, "Story Points") && (f.Schema.Type == "number" || strings.HasSuffix(f.Schema.Custom, ":float")):
			named = append(named, f.ID)
		case f.Schema.Custom == "com.pyxis.greenhopper.jira:gh-sprint" && s.fields.Sprint == "":
			s.fields.Sprint = f.ID
		case f.Schema.Custom == "com.pyxis.greenhopper.jira:gh-epic-link" && s.fields.EpicLink == "":
			s.fields.EpicLink = f.ID
		}
	}
	for _, id := range slices.Concat(jsw, named) {
		if !slices.Contains(est, id) {
			est = append(est, id)
		}
	}
	s.fields.StoryPoints = est
	return s, nil
}

// issueFieldList is the fields requested with every issue.
func (s *session) issueFieldList() []string {
	f := []string{"summary", "status", "issuetype", "project", "created", "updated", "resolution", "resolutiondate",
		"duedate", "assignee", "fixVersions", "parent", "timeoriginalestimate", "worklog"}
	f = append(f, s.fields.StoryPoints...)
	if s.fields.Sprint != "" {
		f = append(f, s.fields.Sprint)
	}
	if s.fields.EpicLink != "" {
		f = append(f, s.fields.EpicLink)
	}
	return f
}

// jqlTime formats t as a JQL date literal in the account's zone, rounded
// down to the minute (JQL's precision).
func (s *session) jqlTime(t time.Time) string {
	return t.In(s.zone).Format("2006-01-02 15:04")
}

// scopeCond is the configured scope, updated since the watermark when set
// (a JQL condition, without ORDER BY).
func (s *session) scopeCond(since time.Time) string {
	q := "(" + s.cfg.JQL + ")"
	if !since.IsZero() {
		q += fmt.Sprintf(` AND updated >= "%s"`, s.jqlTime(since.Add(-Overlap)))
	}
	return q
}

// searchPage is one page of issues, in either deployment's shape.
type searchPage struct {
	Issues        []rawIssue `json:"issues"`
	NextPageToken *string    `json:"nextPageToken"`
	IsLast        *bool      `json:"isLast"`
	StartAt       int        `json:"startAt"`
	MaxResults    int        `json:"maxResults"`
	Total         int        `json:"total"`
}

// decodePage decodes a search reply: json.Valid checks it once and the
// fast reader of decode.go reads it (the issues' fields and histories are
// slices of b, which httpretry allocates for each reply). A reply that is not JSON, or a
// page of another shape, is left to encoding/json (and its errors). A
// json.Unmarshal of a type with an UnmarshalJSON method would scan the
// reply twice before the method runs.
func decodePage(b []byte, p *searchPage) error {
	if json.Valid(b) {
		if fp, ok := fastPage(b); ok {
			*p = fp
			return nil
		}
	}
	return json.Unmarshal(b, p)
}

// claimsMore reports whether the page says more issues follow it.
func (p searchPage) claimsMore() bool {
	return p.NextPageToken != nil && *p.NextPageToken != "" || p.IsLast != nil && !*p.IsLast || p.Total > p.StartAt+len(p.Issues)
}

// searchOnce asks for the first page of jql: POST /rest/api/3/search/jql
// on Cloud, GET /rest/api/2/search at startAt 0 on Data Center.
func (s *session) searchOnce(ctx context.Context, jql string, fields []string, expand string, pageSize int) (searchPage, error) {
	var p searchPage
	if !s.dc {
		body := map[string]any{"jql": jql, "fields": fields, "maxResults": pageSize}
		if expand != "" {
			body["expand"] = expand
		}
		err := s.c.post(ctx, "/rest/api/3/search/jql", body, &p)
		return p, err
	}
	q := url.Values{"jql": {jql}, "startAt": {"0"}, "maxResults": {strconv.Itoa(pageSize)}, "fields": {strings.Join(fields, ",")}}
	if expand != "" {
		q.Set("expand", expand)
	}
	err := s.c.get(ctx, "/rest/api/2/search", q, &p)
	return p, err
}

// emptyPageRetries is how often a page with no issues that says more follow
// is asked again before the walk fails.
const emptyPageRetries = 3

// keyset walks every issue matching cond (a JQL condition) in ascending id
// order, one fresh query per page: `cond AND id > <last id seen> ORDER BY id
// ASC`. No page token or offset is carried from page to page, so an issue
// edited, moved or deleted between two requests cannot shift another out
// of the walk, and the position to resume from is an id. The walk ends
// with a page that has no issues; one that has none yet says more follow
// is asked again, then fails the walk. page gets each page and the highest
// id on it.
func (s *session) keyset(ctx context.Context, cond string, after int64, fields []string, expand string, pageSize int,
	page func(p searchPage, top int64) error) error {
	empties := 0
	for {
		jql := cond
		if after > 0 {
			jql += fmt.Sprintf(" AND id > %d", after)
		}
		jql += " ORDER BY id ASC"
		p, err := s.searchOnce(ctx, jql, fields, expand, pageSize)
		if err != nil {
			return fmt.Errorf("search issues (%s): %w", jql, err)
		}
		// An issue at or below the bound was served already (a page
		// boundary repeating it): the first copy stands, and a later
		// edit is the next pass's.
		fresh := p.Issues[:0:0]
		top := after
		for _, ri := range p.Issues {
			n, err := strconv.ParseInt(ri.ID, 10, 64)
			if err != nil {
				return fmt.Errorf("search issues (%s): issue %s has id %q, not a number", jql, ri.Key, ri.ID)
			}
			if n <= after {
				continue
			}
			// The next page starts after this one's last id: only sound
			// when the site returned the page in id order.
			if n <= top {
				return fmt.Errorf("search issues (%s): issue %s (id %d) comes after id %d: the page is not in id order, so the next page's start is unknown",
					jql, ri.Key, n, top)
			}
			fresh = append(fresh, ri)
			top = n
		}
		p.Issues = fresh
		if len(p.Issues) == 0 {
			if !p.claimsMore() {
				return nil
			}
			if empties >= emptyPageRetries {
				return fmt.Errorf("search issues (%s): %d replies had no issues but said more follow: the listing is incomplete, so nothing after id %d is taken as read",
					jql, empties+1, after)
			}
			empties++
			s.logger.Debug("jira search page empty but not last, asking again", "jql", jql, "attempt", empties)
			if err := s.sleep(ctx, time.Duration(empties)*time.Second); err != nil {
				return err
			}
			continue
		}
		empties = 0
		s.logger.Debug("jira search page", "issues", len(p.Issues), "after", after, "top", top)
		if err := page(p, top); err != nil {
			return err
		}
		after = top
	}
}

// completedPage is a search page with every issue's full changelog and
// worklogs fetched.
type completedPage struct {
	issues  []rawIssue
	hs      [][]json.RawMessage // complete changelog per issue
	extra   [][]json.RawMessage // worklogs beyond the embedded ones
	fetched []bool              // extra holds the issue's complete worklog list
}

// issuePass reads every issue updated since the watermark (all of them
// without one), after the id the pass in progress committed, in id order.
// Three stages overlap: searching the next page, completing changelogs and
// worklogs of the page before, and mapping and committing (one batch per
// BatchSize issues, each issue once: a later copy of an issue replaces an
// earlier one).
func (s *session) issuePass(ctx context.Context, cur *cursor, emit func(context.Context, ingest.Batch) error) error {
	// The fetching stages stop when the pass ends or a stage fails; what
	// they delivered before a failure is still committed. They have ended
	// when the pass returns.
	fetchCtx, stopFetch := context.WithCancel(ctx)
	var stages sync.WaitGroup
	defer func() {
		stopFetch()
		stages.Wait()
	}()
	pages := make(chan searchPage, 2)
	done := make(chan completedPage, 2)
	var (
		errMu    sync.Mutex
		stageErr error
	)
	fail := func(err error) {
		errMu.Lock()
		if stageErr == nil {
			stageErr = err
		}
		errMu.Unlock()
		stopFetch()
	}
	cond := s.scopeCond(timeOf(cur.Updated))
	stages.Go(func() {
		defer close(pages)
		err := s.keyset(fetchCtx, cond, cur.AfterID, s.issueFieldList(), "changelog", s.cfg.PageSize, func(p searchPage, _ int64) error {
			select {
			case pages <- p:
				return nil
			case <-fetchCtx.Done():
				return fetchCtx.Err()
			}
		})
		if err != nil {
			fail(err)
		}
	})
	stages.Go(func() {
		defer close(done)
		n := 0
		for p := range pages {
			n++
			c, err := s.complete(fetchCtx, p)
			if err != nil {
				fail(fmt.Errorf("issues page %d: %w", n, err))
				return
			}
			select {
			case done <- c:
			case <-fetchCtx.Done():
				return
			}
		}
	})
	var recs []issueRec
	distinct := map[int64]bool{}
	// A move since the pass's start (or its watermark) changes the key
	// the issue's children name, and Jira does not touch the children.
	movedSince := timeOf(cur.Updated)
	if movedSince.IsZero() {
		movedSince = timeOf(cur.PassStart)
	}
	movedSince = movedSince.Add(-Overlap)
	flush := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		_, top := buildBatch(recs)
		kids, err := s.children(ctx, recs, movedSince)
		if err != nil {
			return err
		}
		b, _ := buildBatch(append(recs, kids...))
		for _, it := range b.Items {
			if it.Project != "" && !slices.Contains(cur.Projects, it.Project) {
				cur.Projects = append(cur.Projects, it.Project)
				slices.Sort(cur.Projects)
			}
		}
		cur.AfterID = max(cur.AfterID, top)
		b.Cursor = cur.encode()
		recs, distinct = nil, map[int64]bool{}
		return emit(ctx, b)
	}
	var err error
	for c := range done {
		rs, merr := s.mapPage(c)
		if merr != nil {
			err = merr
			break
		}
		recs = append(recs, rs...)
		for _, r := range rs {
			distinct[r.id] = true
		}
		if len(distinct) >= s.cfg.BatchSize {
			if err = flush(); err != nil {
				break
			}
		}
	}
	if err != nil {
		stopFetch()
		for range done { // let the stages end
		}
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// Pages delivered before a fetch failure are whole: commit them.
	if err := flush(); err != nil {
		return err
	}
	errMu.Lock()
	defer errMu.Unlock()
	return stageErr
}

// children reads again, whole, the children of the issues among recs that
// moved (changed key) since `since`: Jira renders their parent field with
// the new key but does not bump their updated, so no later pass would
// read them. They are in the scope, searched with `parent in (...)`.
func (s *session) children(ctx context.Context, recs []issueRec, since time.Time) ([]issueRec, error) {
	var moved []string
	for _, r := range recs {
		if r.m.movedAt.After(since) {
			moved = append(moved, strconv.FormatInt(r.id, 10)) // ids: a parent may move again meanwhile
		}
	}
	var out []issueRec
	read := func(ids []string) error {
		cond := fmt.Sprintf("(%s) AND parent in (%s)", s.cfg.JQL, strings.Join(ids, ", "))
		return s.keyset(ctx, cond, 0, s.issueFieldList(), "changelog", s.cfg.PageSize, func(p searchPage, _ int64) error {
			c, err := s.complete(ctx, p)
			if err != nil {
				return err
			}
			rs, err := s.mapPage(c)
			out = append(out, rs...)
			return err
		})
	}
	for len(moved) > 0 {
		chunk := moved[:min(len(moved), 100)]
		moved = moved[len(chunk):]
		err := read(chunk)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
			// Jira rejects the search when a parent no longer exists
			// (deleted since it was read): ask for each parent alone.
			for _, id := range chunk {
				if err := read([]string{id}); err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusBadRequest) {
					return nil, fmt.Errorf("children of moved issue %s: %w", id, err)
				}
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("children of moved issues: %w", err)
		}
	}
	return out, nil
}

// issueRec is one issue as mapped from one page.
type issueRec struct {
	id  int64
	m   mapped
	raw ingest.RawPayload
}

// buildBatch turns records into one batch holding each issue once (its
// last record) and returns the highest issue id among them.
func buildBatch(recs []issueRec) (ingest.Batch, int64) {
	var b ingest.Batch
	var top int64
	last := make(map[int64]int, len(recs))
	for i, r := range recs {
		last[r.id] = i
		top = max(top, r.id)
	}
	// Sized first: a batch holds ~1,000 issues' transitions and worklogs
	// (grown by appending, they were a tenth of the sync's allocations).
	var nItems, nTrans, nWork int
	for i, r := range recs {
		if last[r.id] == i {
			nItems++
			nTrans += len(r.m.transitions)
			nWork += len(r.m.worklogs)
		}
	}
	b.Items = make([]ingest.Item, 0, nItems)
	b.Raw = make([]ingest.RawPayload, 0, nItems)
	b.Transitions = make([]ingest.Transition, 0, nTrans)
	b.Worklogs = make([]ingest.Worklog, 0, nWork)
	people := map[string]ingest.Person{}
	sprints := map[string]ingest.Sprint{}
	for i, r := range recs {
		if last[r.id] != i {
			continue
		}
		m := r.m
		b.Items = append(b.Items, m.item)
		b.Transitions = append(b.Transitions, m.transitions...)
		b.Worklogs = append(b.Worklogs, m.worklogs...)
		if m.worklogsComplete {
			b.WorklogsOf = append(b.WorklogsOf, m.item.Key)
		}
		for _, p := range m.people {
			if old, ok := people[p.ExternalID]; ok && p.Email == "" {
				p.Email = old.Email
			}
			people[p.ExternalID] = p
		}
		for _, sp := range m.sprints {
			sprints[sp.ID] = sp
		}
		if m.membership != nil {
			b.Memberships = append(b.Memberships, *m.membership)
		}
		if m.milestone != nil {
			b.Milestones = append(b.Milestones, *m.milestone)
		}
		b.Problems = append(b.Problems, m.problems...)
		b.Raw = append(b.Raw, r.raw)
	}
	for _, k := range sortedKeys(people) {
		b.People = append(b.People, people[k])
	}
	for _, k := range sortedKeys(sprints) {
		b.Sprints = append(b.Sprints, sprints[k])
	}
	return b, top
}

// complete fetches what the search page left out: truncated changelogs and
// worklogs.
func (s *session) complete(ctx context.Context, p searchPage) (completedPage, error) {
	c := completedPage{issues: p.Issues, hs: make([][]json.RawMessage, len(p.Issues)), extra: make([][]json.RawMessage, len(p.Issues)),
		fetched: make([]bool, len(p.Issues))}
	var incomplete []int
	for i, ri := range p.Issues {
		if ri.Changelog == nil || ri.Changelog.Total > len(ri.Changelog.Histories) {
			incomplete = append(incomplete, i)
			continue
		}
		c.hs[i] = ri.Changelog.Histories
	}
	if len(incomplete) > 0 {
		if err := s.fullChangelogs(ctx, p.Issues, incomplete, c.hs); err != nil {
			return c, err
		}
	}
	// Worklogs beyond the embedded 20, per issue, in parallel.
	var wg sync.WaitGroup
	errs := make([]error, len(p.Issues))
	for i := range p.Issues {
		ri := &p.Issues[i]
		if !worklogsIncomplete(ri) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws, err := s.issueWorklogs(ctx, ri.ID)
			if err != nil {
				errs[i] = fmt.Errorf("issue %s: %w", ri.Key, err)
				return
			}
			c.extra[i], c.fetched[i] = ws, true
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

// mapPage maps a completed page, one record per issue.
func (s *session) mapPage(c completedPage) ([]issueRec, error) {
	out := make([]issueRec, 0, len(c.issues))
	for i, ri := range c.issues {
		id, err := strconv.ParseInt(ri.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("issue %s: id %q is not a number", ri.Key, ri.ID)
		}
		list := make([]history, 0, len(c.hs[i]))
		var bad []ingest.Problem
		for _, raw := range c.hs[i] {
			var h history
			if err := unmarshal(raw, &h); err != nil {
				bad = append(bad, ingest.Problem{Key: ri.Key, Column: "changelog",
					Reason: fmt.Sprintf("history %s: %v: left out of the status history", preview(raw), err)})
				continue
			}
			list = append(list, h)
		}
		sortHistories(list)
		m, err := mapIssue(ri, list, s.book, s.fields)
		if err != nil {
			return nil, err
		}
		m.problems = append(m.problems, bad...)
		for _, raw := range c.extra[i] {
			w, u, err := mapWorklog(raw, ri.Key)
			if err != nil {
				m.problems = append(m.problems, ingest.Problem{Key: ri.Key, Column: "worklog", Reason: fmt.Sprintf("%v: %s: not stored", err, preview(raw))})
				continue
			}
			m.worklogs = append(m.worklogs, w)
			if u != nil && u.id() != "" {
				m.people = append(m.people, u.person())
			}
		}
		if c.fetched[i] {
			m.worklogsComplete = true
		}
		s.mu.Lock()
		s.keys[ri.ID] = ri.Key
		s.mu.Unlock()
		out = append(out, issueRec{id: id, m: m,
			raw: ingest.RawPayload{Entity: "issue", ExternalID: ri.ID, Item: ri.Key, Payload: issuePayload(ri, c.hs[i], c.extra[i])}})
	}
	return out, nil
}

// issuePayload is the issue as fetched with its complete changelog (and
// the worklogs fetched beyond the embedded ones), assembled from the raw
// bytes without re-encoding them.
func issuePayload(ri rawIssue, hs, worklogs []json.RawMessage) json.RawMessage {
	size := len(ri.Fields) + 128
	for _, h := range hs {
		size += len(h) + 1
	}
	for _, w := range worklogs {
		size += len(w) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, `{"id":`...)
	b = strconv.AppendQuote(b, ri.ID)
	b = append(b, `,"key":`...)
	b = strconv.AppendQuote(b, ri.Key)
	b = append(b, `,"fields":`...)
	if len(ri.Fields) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, ri.Fields...)
	}
	b = append(b, `,"changelog":{"total":`...)
	b = strconv.AppendInt(b, int64(len(hs)), 10)
	b = append(b, `,"histories":`...)
	b = appendArray(b, hs)
	b = append(b, '}')
	if len(worklogs) > 0 {
		b = append(b, `,"worklogs":`...)
		b = appendArray(b, worklogs)
	}
	return append(b, '}')
}

func appendArray(b []byte, elems []json.RawMessage) []byte {
	b = append(b, '[')
	for i, e := range elems {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e...)
	}
	return append(b, ']')
}

// fullChangelogs fetches the complete history of the issues at idx: one
// bulk request per page on Cloud, the paged per-issue endpoint otherwise.
func (s *session) fullChangelogs(ctx context.Context, issues []rawIssue, idx []int, out [][]json.RawMessage) error {
	if !s.dc {
		ids := make([]string, len(idx))
		pos := map[string]int{}
		for n, i := range idx {
			ids[n] = issues[i].ID
			pos[issues[i].ID] = i
			out[i] = nil
		}
		var token string
		for {
			body := map[string]any{"issueIdsOrKeys": ids, "maxResults": 1000}
			if token != "" {
				body["nextPageToken"] = token
			}
			var r struct {
				IssueChangeLogs []struct {
					IssueID         string            `json:"issueId"`
					ChangeHistories []json.RawMessage `json:"changeHistories"`
				} `json:"issueChangeLogs"`
				NextPageToken *string `json:"nextPageToken"`
			}
			if err := s.c.post(ctx, "/rest/api/3/changelog/bulkfetch", body, &r); err != nil {
				return fmt.Errorf("bulk changelog of %d issues: %w", len(ids), err)
			}
			for _, l := range r.IssueChangeLogs {
				if i, ok := pos[l.IssueID]; ok {
					out[i] = append(out[i], l.ChangeHistories...)
				}
			}
			if r.NextPageToken == nil || *r.NextPageToken == "" {
				return nil
			}
			token = *r.NextPageToken
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(idx))
	for n, i := range idx {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hs, err := s.issueChangelog(ctx, issues[i].ID)
			if err != nil {
				errs[n] = fmt.Errorf("issue %s changelog: %w", issues[i].Key, err)
				return
			}
			out[i] = hs
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// issueChangelog pages /issue/{id}/changelog (oldest first).
func (s *session) issueChangelog(ctx context.Context, id string) ([]json.RawMessage, error) {
	var all []json.RawMessage
	for start := 0; ; {
		var p struct {
			Values []json.RawMessage `json:"values"`
			Total  int               `json:"total"`
			IsLast *bool             `json:"isLast"`
		}
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {"100"}}
		if err := s.c.get(ctx, s.api+"/issue/"+url.PathEscape(id)+"/changelog", q, &p); err != nil {
			return nil, err
		}
		all = append(all, p.Values...)
		start += len(p.Values)
		if len(p.Values) == 0 || (p.IsLast != nil && *p.IsLast) || (p.IsLast == nil && start >= p.Total) {
			return all, nil
		}
	}
}

// issueWorklogs pages /issue/{id}/worklog.
func (s *session) issueWorklogs(ctx context.Context, id string) ([]json.RawMessage, error) {
	var all []json.RawMessage
	for start := 0; ; {
		var p struct {
			Worklogs []json.RawMessage `json:"worklogs"`
			Total    int               `json:"total"`
		}
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {"5000"}}
		if err := s.c.get(ctx, s.api+"/issue/"+url.PathEscape(id)+"/worklog", q, &p); err != nil {
			return nil, fmt.Errorf("worklogs: %w", err)
		}
		all = append(all, p.Worklogs...)
		start += len(p.Worklogs)
		if len(p.Worklogs) == 0 || start >= p.Total {
			return all, nil
		}
	}
}

// versions reads the fix versions of projects as milestones.
func (s *session) versions(ctx context.Context, projects []string, b *ingest.Batch) error {
	for _, key := range projects {
		for start := 0; ; {
			var p struct {
				Values []version `json:"values"`
				Total  int       `json:"total"`
				IsLast *bool     `json:"isLast"`
			}
			q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {"50"}}
			if err := s.c.get(ctx, s.api+"/project/"+url.PathEscape(key)+"/version", q, &p); err != nil {
				return fmt.Errorf("project %s versions: %w", key, err)
			}
			for _, v := range p.Values {
				m := ingest.Milestone{ExternalID: "version:" + v.ID, Name: v.Name, Project: key, Released: v.Released}
				if d, ok := parseDate(v.StartDate); ok {
					m.StartDate = d
				}
				if d, ok := parseDate(v.ReleaseDate); ok {
					m.DueDate = d
					if v.Released {
						m.CompletedAt = d
					}
				}
				b.Milestones = append(b.Milestones, m)
			}
			start += len(p.Values)
			if len(p.Values) == 0 || (p.IsLast != nil && *p.IsLast) || (p.IsLast == nil && start >= p.Total) {
				break
			}
		}
	}
	return nil
}

// boardSprints reads every sprint of the configured boards.
func (s *session) boardSprints(ctx context.Context, b *ingest.Batch) error {
	seen := map[string]bool{}
	for _, id := range s.cfg.Boards {
		for start := 0; ; {
			var p struct {
				Values []sprintObject `json:"values"`
				IsLast bool           `json:"isLast"`
			}
			q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {"50"}}
			if err := s.c.get(ctx, fmt.Sprintf("/rest/agile/1.0/board/%d/sprint", id), q, &p); err != nil {
				return fmt.Errorf("board %d sprints: %w", id, err)
			}
			for _, so := range p.Values {
				sp := so.sprint()
				if sp.Board == "" {
					sp.Board = strconv.Itoa(id)
				}
				if !seen[sp.ID] {
					seen[sp.ID] = true
					b.Sprints = append(b.Sprints, sp)
				}
			}
			start += len(p.Values)
			if p.IsLast || len(p.Values) == 0 {
				break
			}
		}
	}
	return nil
}

// worklogFeeds applies the worklogs changed and deleted since the
// checkpoints, one batch per feed page.
func (s *session) worklogFeeds(ctx context.Context, cur *cursor, emit func(context.Context, ingest.Batch) error) error {
	type feedPage struct {
		Values []struct {
			WorklogID int64 `json:"worklogId"`
		} `json:"values"`
		Until    int64 `json:"until"`
		LastPage bool  `json:"lastPage"`
	}
	for since := cur.WorklogsSince; ; {
		var p feedPage
		if err := s.c.get(ctx, s.api+"/worklog/updated", url.Values{"since": {strconv.FormatInt(since, 10)}}, &p); err != nil {
			return fmt.Errorf("worklogs updated since %d: %w", since, err)
		}
		var b ingest.Batch
		if len(p.Values) > 0 {
			ids := make([]int64, len(p.Values))
			for i, v := range p.Values {
				ids[i] = v.WorklogID
			}
			var ws []json.RawMessage
			if err := s.c.post(ctx, s.api+"/worklog/list", map[string]any{"ids": ids}, &ws); err != nil {
				return fmt.Errorf("worklogs by id: %w", err)
			}
			if err := s.scopedWorklogs(ctx, ws, &b); err != nil {
				return err
			}
		}
		if p.Until > cur.WorklogsSince {
			cur.WorklogsSince = p.Until
		}
		b.Cursor = cur.encode()
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(ctx, b); err != nil {
			return err
		}
		if p.LastPage || len(p.Values) == 0 || p.Until <= since {
			break
		}
		since = p.Until
	}
	for since := cur.DeletedSince; ; {
		var p feedPage
		if err := s.c.get(ctx, s.api+"/worklog/deleted", url.Values{"since": {strconv.FormatInt(since, 10)}}, &p); err != nil {
			return fmt.Errorf("worklogs deleted since %d: %w", since, err)
		}
		var b ingest.Batch
		for _, v := range p.Values {
			b.Worklogs = append(b.Worklogs, ingest.Worklog{ID: "worklog:" + strconv.FormatInt(v.WorklogID, 10), Deleted: true})
		}
		if p.Until > cur.DeletedSince {
			cur.DeletedSince = p.Until
		}
		b.Cursor = cur.encode()
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(ctx, b); err != nil {
			return err
		}
		if p.LastPage || len(p.Values) == 0 || p.Until <= since {
			return nil
		}
		since = p.Until
	}
}

// scopedWorklogs keeps the worklogs of issues in scope: issues read this run
// are known; the others are looked up with the scope JQL.
func (s *session) scopedWorklogs(ctx context.Context, ws []json.RawMessage, b *ingest.Batch) error {
	type wl struct {
		raw     json.RawMessage
		issueID string
	}
	var list []wl
	var unknown []string
	for _, raw := range ws {
		var w worklog
		if err := json.Unmarshal(raw, &w); err != nil {
			return fmt.Errorf("worklog: %w", err)
		}
		list = append(list, wl{raw, w.IssueID})
		if _, ok := s.keys[w.IssueID]; !ok && !slices.Contains(unknown, w.IssueID) {
			unknown = append(unknown, w.IssueID)
		}
	}
	for len(unknown) > 0 {
		chunk := unknown[:min(len(unknown), 100)]
		unknown = unknown[len(chunk):]
		cond := fmt.Sprintf("(%s) AND id in (%s)", s.cfg.JQL, strings.Join(chunk, ", "))
		err := s.keyset(ctx, cond, 0, []string{"id"}, "", 100, func(p searchPage, _ int64) error {
			for _, ri := range p.Issues {
				s.keys[ri.ID] = ri.Key
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("scope of worklog issues: %w", err)
		}
		for _, id := range chunk {
			if _, ok := s.keys[id]; !ok {
				s.keys[id] = "" // out of scope
			}
		}
	}
	seen := map[string]bool{}
	for _, w := range list {
		key := s.keys[w.issueID]
		if key == "" {
			continue
		}
		m, u, err := mapWorklog(w.raw, key)
		if err != nil {
			return err
		}
		b.Worklogs = append(b.Worklogs, m)
		if id := u.id(); id != "" && !seen[id] {
			seen[id] = true
			b.People = append(b.People, u.person())
		}
	}
	return nil
}

// listScope lists the id and key of every issue in scope (keyset paged).
func (s *session) listScope(ctx context.Context) (map[string]string, error) {
	size := 5000
	if s.dc {
		size = 1000
	}
	out := map[string]string{}
	err := s.keyset(ctx, "("+s.cfg.JQL+")", 0, []string{"id"}, "", size, func(p searchPage, _ int64) error {
		for _, ri := range p.Issues {
			out[ri.ID] = ri.Key
		}
		return nil
	})
	return out, err
}

// reconcile commits the live set of the scope: the issues two listings
// agree on, and of those only one listing holds, the ones a direct look
// finds (GET /issue/{id}: 404 means deleted) still in scope. An issue is
// marked deleted only when both listings miss it or the site confirms it
// is gone or out of scope; one deleted while the second listing ran after
// its place stays live until the next reconciliation.
func (s *session) reconcile(ctx context.Context, cur *cursor, emit func(context.Context, ingest.Batch) error) error {
	started := s.now()
	live, odd, err := listing.Live(ctx, s.listScope, s.confirmLive)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	keys := make([]string, 0, len(live))
	for _, k := range live {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	cur.Reconciled = started.UTC().Format(time.RFC3339Nano)
	s.logger.Debug("jira reconciliation", "issues_in_scope", len(keys), "listings_disagreed_on", odd)
	if err := ctx.Err(); err != nil {
		return err
	}
	return emit(ctx, ingest.Batch{Live: &ingest.Live{Keys: keys}, Cursor: cur.encode()})
}

// confirmLive looks up each id directly: those the site still has (not
// 404) are searched with the scope; it returns the ones in scope, id → key.
func (s *session) confirmLive(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	var exist []string
	for _, id := range ids {
		var ri struct {
			ID string `json:"id"`
		}
		err := s.c.get(ctx, s.api+"/issue/"+url.PathEscape(id), url.Values{"fields": {"id"}}, &ri)
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
			continue // deleted (or no longer visible to this account)
		case err != nil:
			return nil, fmt.Errorf("issue %s: %w", id, err)
		}
		exist = append(exist, id)
	}
	for len(exist) > 0 {
		chunk := exist[:min(len(exist), 100)]
		exist = exist[len(chunk):]
		cond := fmt.Sprintf("(%s) AND id in (%s)", s.cfg.JQL, strings.Join(chunk, ", "))
		err := s.keyset(ctx, cond, 0, []string{"id"}, "", 100, func(p searchPage, _ int64) error {
			for _, ri := range p.Issues {
				out[ri.ID] = ri.Key
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
