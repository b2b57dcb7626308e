package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"testing"

	"github.com/throughline/throughline/connectors/asana"
	"github.com/throughline/throughline/connectors/asana/asanatest"
	"github.com/throughline/throughline/ingest"
)

// asanaBenchTasks is the fake project's size (THROUGHLINE_BENCH_TASKS, default 20,000).
func asanaBenchTasks() int {
	if s := os.Getenv("THROUGHLINE_BENCH_TASKS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 20_000
}

// BenchmarkAsanaSync syncs a fake project of 20,000 tasks (two subtasks,
// 0–4 stories and every tenth task two time entries) into an in-memory
// warehouse. The baseline, in the same run, is the ceiling: the same
// requests, one after another, with a plain http.Client, JSON-decoded and
// discarded.
func BenchmarkAsanaSync(b *testing.B) {
	srv := asanatest.NewWith(b, asanatest.GenerateProject(asanaBenchTasks()))
	ctx := context.Background()
	items := asanaBenchTasks() + asanatest.NumSubtasks
	b.Run("connector", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			db := openMem(b)
			c, err := asana.New(asana.Config{BaseURL: srv.BaseURL(), Projects: []string{asanatest.ProjectGID}, Token: asanatest.Token}, asana.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			run, err := ingest.Sync(ctx, db, db, "bench", c, ingest.SyncOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			var got int
			db.QueryRow("SELECT count(*) FROM work_items").Scan(&got)
			if got != items {
				b.Fatalf("work_items = %d, want %d (run %+v)", got, items, run)
			}
			db.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(asanaBenchTasks())*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
		reportPeakRSS(b)
	})
	b.Run("http_decode", func(b *testing.B) {
		hc := &http.Client{}
		for b.Loop() {
			n, err := fetchAsana(ctx, hc, srv.BaseURL())
			if err != nil {
				b.Fatal(err)
			}
			if n != items {
				b.Fatalf("fetched %d tasks, want %d", n, items)
			}
		}
		b.ReportMetric(float64(asanaBenchTasks())*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
		reportPeakRSS(b)
	})
}

// The connector's opt_fields, so both sides fetch the same bytes.
const (
	benchTaskFields  = "name,resource_subtype,completed,completed_at,created_at,modified_at,due_on,due_at,assignee.name,assignee.email,memberships.project.name,memberships.section.name,parent.name,num_subtasks"
	benchStoryFields = "created_at,created_by.name,created_by.email,resource_subtype,type,old_section.name,new_section.name,old_dates.due_on,new_dates.due_on"
	benchEntryFields = "duration_minutes,entered_on,created_at,created_by.name,created_by.email"
)

type asanaPage struct {
	Data     []map[string]any `json:"data"`
	NextPage *struct {
		Offset string `json:"offset"`
	} `json:"next_page"`
}

// fetchAsana makes the connector's requests (sections, task pages, and per
// task its subtasks when it has any, stories and time entries) and decodes
// them; it returns the number of tasks and subtasks seen.
func fetchAsana(ctx context.Context, hc *http.Client, base string) (int, error) {
	list := func(path string, q url.Values) ([]map[string]any, error) {
		var out []map[string]any
		q.Set("limit", "100")
		for {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path+"?"+q.Encode(), nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+asanatest.Token)
			resp, err := hc.Do(req)
			if err != nil {
				return nil, err
			}
			var p asanaPage
			err = json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			if err != nil {
				return nil, err
			}
			if resp.StatusCode != http.StatusOK {
				return nil, fmt.Errorf("%s: %s", path, resp.Status)
			}
			out = append(out, p.Data...)
			if p.NextPage == nil || p.NextPage.Offset == "" {
				return out, nil
			}
			q.Set("offset", p.NextPage.Offset)
		}
	}
	perTask := func(gid string) error {
		if _, err := list("/tasks/"+gid+"/stories", url.Values{"opt_fields": {benchStoryFields}}); err != nil {
			return err
		}
		_, err := list("/tasks/"+gid+"/time_tracking_entries", url.Values{"opt_fields": {benchEntryFields}})
		return err
	}
	if _, err := list("/projects/"+asanatest.ProjectGID+"/sections", url.Values{"opt_fields": {"name"}}); err != nil {
		return 0, err
	}
	// Page by page, as the connector does, not all task pages first.
	q := url.Values{"project": {asanatest.ProjectGID}, "opt_fields": {benchTaskFields}, "limit": {"100"}}
	n := 0
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/tasks?"+q.Encode(), nil)
		if err != nil {
			return n, err
		}
		req.Header.Set("Authorization", "Bearer "+asanatest.Token)
		resp, err := hc.Do(req)
		if err != nil {
			return n, err
		}
		var p asanaPage
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if err != nil {
			return n, err
		}
		for _, t := range p.Data {
			gid, _ := t["gid"].(string)
			n++
			if err := perTask(gid); err != nil {
				return n, err
			}
			if ns, _ := t["num_subtasks"].(float64); ns > 0 {
				subs, err := list("/tasks/"+gid+"/subtasks", url.Values{"opt_fields": {benchTaskFields}})
				if err != nil {
					return n, err
				}
				for _, s := range subs {
					sg, _ := s["gid"].(string)
					n++
					if err := perTask(sg); err != nil {
						return n, err
					}
				}
			}
		}
		if p.NextPage == nil || p.NextPage.Offset == "" {
			return n, nil
		}
		q.Set("offset", p.NextPage.Offset)
	}
}
