package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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
}

// setup detects the deployment and reads statuses, fields and boards.
func (c *Connector) setup(ctx context.Context) (*session, error) {
	s := &session{Connector: c, zone: time.UTC, keys: map[string]string{}}
	var info struct {
		DeploymentType string `json:"deploymentType"`
		Version        string `json:"version"`
	}
	if err := c.c.get(ctx, "/rest/api/2/serverInfo", nil, &info); err != nil {
		return nil, fmt.Errorf("read server info: %w", err)
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

// scopeJQL is the configured scope, updated since the watermark when set.
func (s *session) scopeJQL(since time.Time) string {
	q := "(" + s.cfg.JQL + ")"
	if !since.IsZero() {
		q += fmt.Sprintf(` AND updated >= "%s"`, s.jqlTime(since.Add(-Overlap)))
	}
	return q + " ORDER BY updated ASC, key ASC"
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

// search walks every page of jql, sending each page to pages in order. It
// restarts Data Center searches from the watermark before offsets get deep
// (Data Center 10 refuses startAt+maxResults past 10,000).
func (s *session) search(ctx context.Context, jql string, fields []string, expand string, pageSize int, pages chan<- searchPage) error {
	if !s.dc {
		var token string
		for {
			body := map[string]any{"jql": jql, "fields": fields, "maxResults": pageSize}
			if expand != "" {
				body["expand"] = expand
			}
			if token != "" {
				body["nextPageToken"] = token
			}
			var p searchPage
			if err := s.c.post(ctx, "/rest/api/3/search/jql", body, &p); err != nil {
				return fmt.Errorf("search issues (%s): %w", jql, err)
			}
			last := p.NextPageToken == nil || *p.NextPageToken == "" || len(p.Issues) == 0
			select {
			case pages <- p:
			case <-ctx.Done():
				return ctx.Err()
			}
			if last {
				return nil
			}
			token = *p.NextPageToken
		}
	}
	start := 0
	for {
		q := url.Values{"jql": {jql}, "startAt": {strconv.Itoa(start)}, "maxResults": {strconv.Itoa(pageSize)}, "fields": {strings.Join(fields, ",")}}
		if expand != "" {
			q.Set("expand", expand)
		}
		var p searchPage
		if err := s.c.get(ctx, "/rest/api/2/search", q, &p); err != nil {
			return fmt.Errorf("search issues (%s) at %d: %w", jql, start, err)
		}
		select {
		case pages <- p:
		case <-ctx.Done():
			return ctx.Err()
		}
		start += len(p.Issues)
		if len(p.Issues) == 0 || start >= p.Total {
			return nil
		}
	}
}

// completedPage is a search page with every issue's full changelog and
// worklogs fetched.
type completedPage struct {
	issues []rawIssue
	hs     [][]json.RawMessage // complete changelog per issue
	extra  [][]json.RawMessage // worklogs beyond the embedded ones
}

// issuePass reads every issue updated since the watermark. Three stages
// overlap: searching the next page, completing changelogs and worklogs of
// the page before, and mapping and committing (one batch per ~500 issues).
func (s *session) issuePass(ctx context.Context, cur *cursor, emit func(context.Context, ingest.Batch) error) error {
	// The fetching stages stop when the pass ends or a stage fails; what
	// they delivered before a failure is still committed.
	fetchCtx, stopFetch := context.WithCancel(ctx)
	defer stopFetch()
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
	jql := s.scopeJQL(timeOf(cur.Updated))
	go func() {
		defer close(pages)
		if err := s.search(fetchCtx, jql, s.issueFieldList(), "changelog", s.cfg.PageSize, pages); err != nil {
			fail(err)
		}
	}()
	go func() {
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
	}()
	var acc ingest.Batch
	flush := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(acc.Items) == 0 {
			return nil
		}
		for _, it := range acc.Items {
			if it.Project != "" && !slices.Contains(cur.Projects, it.Project) {
				cur.Projects = append(cur.Projects, it.Project)
				slices.Sort(cur.Projects)
			}
		}
		acc.Cursor = cur.encode()
		b := acc
		acc = ingest.Batch{}
		return emit(ctx, b)
	}
	var err error
	for c := range done {
		b, newest, merr := s.mapPage(c)
		if merr != nil {
			err = merr
			break
		}
		if newest.After(timeOf(cur.Updated)) {
			cur.Updated = newest.UTC().Format(time.RFC3339Nano)
		}
		mergeBatch(&acc, b)
		if len(acc.Items) >= s.cfg.BatchSize {
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

func mergeBatch(dst *ingest.Batch, b ingest.Batch) {
	dst.Items = append(dst.Items, b.Items...)
	dst.Transitions = append(dst.Transitions, b.Transitions...)
	dst.People = append(dst.People, b.People...)
	dst.Worklogs = append(dst.Worklogs, b.Worklogs...)
	dst.Sprints = append(dst.Sprints, b.Sprints...)
	dst.Memberships = append(dst.Memberships, b.Memberships...)
	dst.Milestones = append(dst.Milestones, b.Milestones...)
	dst.Raw = append(dst.Raw, b.Raw...)
}

// complete fetches what the search page left out: truncated changelogs and
// worklogs.
func (s *session) complete(ctx context.Context, p searchPage) (completedPage, error) {
	c := completedPage{issues: p.Issues, hs: make([][]json.RawMessage, len(p.Issues)), extra: make([][]json.RawMessage, len(p.Issues))}
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
			c.extra[i] = ws
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

// mapPage turns a completed page into a batch.
func (s *session) mapPage(c completedPage) (ingest.Batch, time.Time, error) {
	var b ingest.Batch
	var newest time.Time
	people := map[string]ingest.Person{}
	sprints := map[string]ingest.Sprint{}
	for i, ri := range c.issues {
		list := make([]history, 0, len(c.hs[i]))
		for _, raw := range c.hs[i] {
			var h history
			if err := json.Unmarshal(raw, &h); err != nil {
				return b, newest, fmt.Errorf("issue %s: changelog: %w", ri.Key, err)
			}
			list = append(list, h)
		}
		sortHistories(list)
		m, err := mapIssue(ri, list, s.book, s.fields)
		if err != nil {
			return b, newest, err
		}
		for _, raw := range c.extra[i] {
			w, u, err := mapWorklog(raw, ri.Key)
			if err != nil {
				return b, newest, fmt.Errorf("issue %s: %w", ri.Key, err)
			}
			m.worklogs = append(m.worklogs, w)
			if u != nil && u.id() != "" {
				m.people = append(m.people, u.person())
			}
		}
		s.mu.Lock()
		s.keys[ri.ID] = ri.Key
		s.mu.Unlock()
		if m.item.UpdatedAt.After(newest) {
			newest = m.item.UpdatedAt
		}
		b.Items = append(b.Items, m.item)
		b.Transitions = append(b.Transitions, m.transitions...)
		b.Worklogs = append(b.Worklogs, m.worklogs...)
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
		b.Raw = append(b.Raw, ingest.RawPayload{Entity: "issue", ExternalID: ri.ID, Payload: issuePayload(ri, c.hs[i], c.extra[i])})
	}
	for _, k := range sortedKeys(people) {
		b.People = append(b.People, people[k])
	}
	for _, k := range sortedKeys(sprints) {
		b.Sprints = append(b.Sprints, sprints[k])
	}
	return b, newest, nil
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
				m := ingest.Milestone{Name: v.Name, Project: key, Released: v.Released}
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
		jql := fmt.Sprintf("(%s) AND id in (%s) ORDER BY key ASC", s.cfg.JQL, strings.Join(chunk, ", "))
		pages := make(chan searchPage, 1)
		errc := make(chan error, 1)
		go func() {
			defer close(pages)
			errc <- s.search(ctx, jql, []string{"id"}, "", 100, pages)
		}()
		for p := range pages {
			for _, ri := range p.Issues {
				s.keys[ri.ID] = ri.Key
			}
		}
		if err := <-errc; err != nil {
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

// reconcile lists every issue key in scope and commits it as the live set.
func (s *session) reconcile(ctx context.Context, cur *cursor, emit func(context.Context, ingest.Batch) error) error {
	started := s.now()
	pages := make(chan searchPage, 1)
	errc := make(chan error, 1)
	jql := "(" + s.cfg.JQL + ") ORDER BY key ASC"
	size := 5000
	if s.dc {
		size = 1000
	}
	go func() {
		defer close(pages)
		errc <- s.search(ctx, jql, []string{"id"}, "", size, pages)
	}()
	var keys []string
	for p := range pages {
		for _, ri := range p.Issues {
			keys = append(keys, ri.Key)
		}
	}
	if err := <-errc; err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	cur.Reconciled = started.UTC().Format(time.RFC3339Nano)
	s.logger.Info("jira reconciliation", "issues_in_scope", len(keys))
	if err := ctx.Err(); err != nil {
		return err
	}
	return emit(ctx, ingest.Batch{Live: &ingest.Live{Keys: keys}, Cursor: cur.encode()})
}
