package asana_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/connectors/asana"
	"github.com/throughline/throughline/connectors/asana/asanatest"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/ingest/ingesttest"
	"github.com/throughline/throughline/internal/config"
)

// liveFields are the fields of the reconciliation's listings.
const liveFields = "gid,num_subtasks,actual_time_minutes"

const wantTaskFields = "name,resource_subtype,completed,completed_at,created_at,modified_at,due_on,due_at,assignee.name,assignee.email,memberships.project.name,memberships.section.name,parent.name,num_subtasks"

// sleeps records the waits the client asked for, without sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

func newConnector(t *testing.T, srv *asanatest.Server, opt asana.Options) *asana.Connector {
	t.Helper()
	if opt.Sleep == nil {
		opt.Sleep = (&sleeps{}).sleep
	}
	c, err := asana.New(asana.Config{
		BaseURL: srv.BaseURL(), Workspace: "1000000000000000", Projects: []string{asanatest.ProjectGID},
		TokenEnv: "ASANA_TOKEN", Token: asanatest.Token,
	}, opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func syncAll(t *testing.T, c ingest.Connector, from ingest.Cursor, st *ingesttest.MemStore) ([]ingest.Batch, error) {
	t.Helper()
	var bs []ingest.Batch
	err := c.Sync(t.Context(), from, func(ctx context.Context, b ingest.Batch) error {
		bs = append(bs, b)
		return st.Commit(ctx, "asana", b)
	})
	return bs, err
}

func TestContract(t *testing.T) {
	srv := asanatest.New(t)
	ingesttest.TestConnector(t, func(t *testing.T) ingest.Connector { return newConnector(t, srv, asana.Options{}) })
}

func TestSyncLandsEverything(t *testing.T) {
	srv := asanatest.New(t)
	st := ingesttest.NewMemStore()
	bs, err := syncAll(t, newConnector(t, srv, asana.Options{}), "", st)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 3 {
		t.Errorf("%d batches, want 3 (one per page of tasks, then the reconciliation)", len(bs))
	}
	snap := st.Snapshot()
	transitions := 0
	for _, h := range snap.Transitions {
		transitions += len(h)
	}
	counts := map[string]int{
		"items": len(snap.Items), "transitions": transitions, "worklogs": len(snap.Worklogs),
		"milestones": len(snap.Milestones), "people": len(snap.People), "projects": len(snap.Projects),
	}
	wantCounts := map[string]int{
		"items": asanatest.NumTasks + asanatest.NumSubtasks, "transitions": 265, "worklogs": 22,
		"milestones": 1, "people": 2, "projects": 1,
	}
	if diff := cmp.Diff(wantCounts, counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}

	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	at := func(s string) time.Time { d, _ := time.Parse(time.RFC3339, s); return d }
	const ada, greg = "1000000000000001", "1000000000000002"
	wantReopened := []ingest.Transition{
		{ItemKey: asanatest.ReopenedGID, At: at("2026-01-05T09:00:00Z"), To: "To Do"},
		{ItemKey: asanatest.ReopenedGID, At: at("2026-01-06T09:00:00Z"), From: "To Do", To: "In Progress", Author: ada},
		{ItemKey: asanatest.ReopenedGID, At: at("2026-01-07T09:00:00Z"), From: "In Progress", To: "Completed", ToCategory: "done", Author: ada},
		{ItemKey: asanatest.ReopenedGID, At: at("2026-01-08T09:00:00Z"), From: "Completed", FromCategory: "done", To: "In Progress", Author: greg},
		{ItemKey: asanatest.ReopenedGID, At: at("2026-01-09T09:00:00Z"), From: "In Progress", To: "Completed", ToCategory: "done", Author: ada},
	}
	if diff := cmp.Diff(wantReopened, snap.Transitions[asanatest.ReopenedGID]); diff != "" {
		t.Errorf("reopened task history (-want +got):\n%s", diff)
	}

	wantItems := map[string]ingest.Item{
		asanatest.MilestoneGID: {Key: asanatest.MilestoneGID, Project: asanatest.ProjectGID, Title: "Beta launch", Type: "Milestone",
			Status: "Completed", StatusCategory: "done", Assignee: ada,
			CreatedAt: at("2026-01-09T17:00:00Z"), ResolvedAt: at("2026-01-11T17:00:00Z"), UpdatedAt: at("2026-01-11T17:00:00Z"),
			DueDate: day("2026-03-31")},
		"1300000000000500": {Key: "1300000000000500", Project: asanatest.ProjectGID, Title: "Subtask 0 of task 5", Type: "Subtask",
			Status: "Completed", StatusCategory: "done", Parent: asanatest.ParentGID,
			CreatedAt: at("2026-01-05T15:00:00Z"), ResolvedAt: at("2026-01-06T15:00:00Z"), UpdatedAt: at("2026-01-06T15:00:00Z")},
		"1300000000000003": {Key: "1300000000000003", Project: asanatest.ProjectGID, Title: "Task 3", Type: "Task",
			Status: "In Progress", Assignee: greg,
			CreatedAt: at("2026-01-05T12:00:00Z"), UpdatedAt: at("2026-01-07T12:00:00Z"), DueDate: day("2026-02-20")},
	}
	for k, want := range wantItems {
		if diff := cmp.Diff(want, snap.Items[k]); diff != "" {
			t.Errorf("item %s (-want +got):\n%s", k, diff)
		}
	}
	// The milestone (created 01-09 17:00) got its due date 1 h later and
	// moved it a day later: the baseline is the first date the history shows.
	wantMilestone := ingest.Milestone{ExternalID: asanatest.MilestoneGID, Name: "Beta launch", Project: asanatest.ProjectGID, DueDate: day("2026-03-31"), CompletedAt: at("2026-01-11T17:00:00Z"),
		BaselineDueDate: day("2026-03-15"),
		DueChanges: []ingest.DueChange{
			{ObservedAt: at("2026-01-09T18:00:00Z"), New: day("2026-03-15"), Origin: "history"},
			{ObservedAt: at("2026-01-10T17:00:00Z"), Old: day("2026-03-15"), New: day("2026-03-31"), Origin: "history"},
		}}
	if diff := cmp.Diff(wantMilestone, snap.Milestones[asanatest.ProjectGID+"/Beta launch"]); diff != "" {
		t.Errorf("milestone (-want +got):\n%s", diff)
	}
	wantWorklog := ingest.Worklog{ID: "1500000000000002", ItemKey: asanatest.ReopenedGID, Person: greg, StartedAt: day("2026-01-06"), Seconds: 3600}
	if diff := cmp.Diff(wantWorklog, snap.Worklogs["1500000000000002"]); diff != "" {
		t.Errorf("worklog (-want +got):\n%s", diff)
	}
	if p := snap.People[ada]; p.Email != "ada@example.com" || p.DisplayName != "Ada Lovelace" {
		t.Errorf("person %s = %+v, want Ada Lovelace <ada@example.com>", ada, p)
	}
	if got := snap.Projects[asanatest.ProjectGID].Name; got != asanatest.ProjectName {
		t.Errorf("project name = %q, want %q", got, asanatest.ProjectName)
	}
	for _, k := range []string{"task/" + asanatest.ReopenedGID, "task/1300000000000500"} {
		if len(snap.Raw[k].Payload) == 0 {
			t.Errorf("raw payload %s missing", k)
		}
	}

	var taskPages, offsets, events int
	for _, r := range srv.Requests() {
		if r.Auth != "Bearer "+asanatest.Token {
			t.Errorf("%s sent Authorization %q", r.Path, r.Auth)
		}
		if r.Path == "/events" {
			events++
			if got := r.Query["sync"]; got != nil {
				t.Errorf("the first sync sent /events with sync %v, want none (a subscription)", got)
			}
			continue
		}
		if got := r.Query["limit"]; len(got) != 1 || got[0] != "100" {
			t.Errorf("%s sent limit %v, want 100", r.Path, got)
		}
		if f := strings.Join(r.Query["opt_fields"], ","); r.Path != "/tasks" || f == "gid" || f == liveFields {
			continue // the check of the listing and the reconciliation list gids
		}
		taskPages++
		if len(r.Query["offset"]) > 0 {
			offsets++
		}
		if got := strings.Join(r.Query["opt_fields"], ","); got != wantTaskFields {
			t.Errorf("/tasks opt_fields = %q, want %q", got, wantTaskFields)
		}
		if got := r.Query["modified_since"]; got != nil {
			t.Errorf("full sync sent modified_since %v", got)
		}
	}
	if taskPages != 2 || offsets != 1 {
		t.Errorf("%d task pages (%d with an offset), want 2 (1)", taskPages, offsets)
	}
	if events != 1 {
		t.Errorf("%d /events requests, want 1 (the subscription before listing the project)", events)
	}

	t.Run("incremental", func(t *testing.T) {
		// Nothing changed: the events (one call, with the stored token) say
		// so, and no task is listed or fetched.
		n := len(srv.Requests())
		if _, err := syncAll(t, newConnector(t, srv, asana.Options{}), bs[len(bs)-1].Cursor, st); err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, r := range srv.Requests()[n:] {
			paths = append(paths, r.Path)
			if r.Path == "/events" && len(r.Query["sync"]) != 1 {
				t.Errorf("incremental /events sent sync %v, want the stored token", r.Query["sync"])
			}
		}
		if diff := cmp.Diff([]string{"/events"}, paths); diff != "" {
			t.Errorf("incremental sync of unchanged data requested (-want +got):\n%s", diff)
		}
	})
}

func newestModified(srv *asanatest.Server) time.Time {
	var newest time.Time
	for _, t := range srv.Data().Tasks {
		m, _ := time.Parse(time.RFC3339Nano, t["modified_at"].(string))
		if m.After(newest) {
			newest = m
		}
	}
	return newest
}

func TestFaults(t *testing.T) {
	sectionsPath := "/projects/" + asanatest.ProjectGID + "/sections"
	tests := []struct {
		name       string
		setup      func(*asanatest.Server)
		wantSleeps []time.Duration
		wantStatus int      // 0: the sync succeeds
		wantText   []string // substrings of the error
	}{
		{"429 honours Retry-After", func(s *asanatest.Server) { s.Throttle("/tasks", 7) }, []time.Duration{7 * time.Second}, 0, nil},
		{"500 retried", func(s *asanatest.Server) { s.FailOnce(sectionsPath) }, nil, 0, nil},
		{"401 names the credential", func(s *asanatest.Server) { s.Unauthorized() }, nil, 401, []string{"$ASANA_TOKEN", "personal access token"}},
		{"expired offset", func(s *asanatest.Server) { s.ExpireOffsets() }, nil, 400, []string{"expired", "page 2"}},
		// The connector calls no premium-only endpoint; one answering 402
		// (here, as if the plan lost a feature) fails with a clear message.
		{"402 premium-only", func(s *asanatest.Server) { s.PaymentRequired(sectionsPath) }, nil, 402, []string{"premium-only feature", "HTTP 402", sectionsPath}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := asanatest.New(t)
			tt.setup(srv)
			sl := &sleeps{}
			st := ingesttest.NewMemStore()
			_, err := syncAll(t, newConnector(t, srv, asana.Options{Sleep: sl.sleep}), "", st)
			if tt.name == "500 retried" {
				// The shared policy's backoff: 1 s with full jitter, in [0.5 s, 1 s].
				if w := sl.got(); len(w) != 1 || w[0] < 500*time.Millisecond || w[0] > time.Second {
					t.Errorf("sleeps = %v, want one jittered wait of 0.5–1 s", w)
				}
			} else if diff := cmp.Diff(tt.wantSleeps, sl.got()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Sync: %v", err)
				}
				if n := len(st.Snapshot().Items); n != asanatest.NumTasks+asanatest.NumSubtasks {
					t.Errorf("%d items stored, want %d", n, asanatest.NumTasks+asanatest.NumSubtasks)
				}
				return
			}
			var ae *asana.APIError
			if !errors.As(err, &ae) || ae.Status != tt.wantStatus {
				t.Fatalf("Sync = %v, want an *asana.APIError with status %d", err, tt.wantStatus)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), asanatest.Token) {
				t.Errorf("error %q leaks the token", err)
			}
		})
	}
}

// roundTripper calls after with each response.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestCancelDuringRetryAfter(t *testing.T) {
	srv := asanatest.New(t)
	srv.Throttle("/tasks", 100) // within max_retry_after: waited, until canceled
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	hc := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil && resp.StatusCode == http.StatusTooManyRequests {
			cancel()
		}
		return resp, err
	})}
	// The real sleep: it must return as soon as the context is canceled.
	c, err := asana.New(asana.Config{BaseURL: srv.BaseURL(), Projects: []string{asanatest.ProjectGID}, Token: asanatest.Token}, asana.Options{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = c.Sync(ctx, "", func(context.Context, ingest.Batch) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Sync = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Sync took %v after cancel", d)
	}
}

func TestSampleConfig(t *testing.T) {
	cfg, err := config.Parse("throughline.yaml", []byte(asana.Sample))
	if err != nil {
		t.Fatalf("sample.yaml: %v", err)
	}
	if len(cfg.Sources) != 1 || cfg.Sources[0].Kind != "asana" {
		t.Fatalf("sample sources = %+v", cfg.Sources)
	}
	src := cfg.Sources[0]
	t.Setenv(src.TokenEnv, "")
	if _, err := asana.FromSource(src, asana.Options{}); err == nil || !strings.Contains(err.Error(), src.TokenEnv) {
		t.Errorf("FromSource with $%s empty = %v, want an error naming it", src.TokenEnv, err)
	}
	t.Setenv(src.TokenEnv, "secret")
	if _, err := asana.FromSource(src, asana.Options{}); err != nil {
		t.Errorf("FromSource: %v", err)
	}
}
