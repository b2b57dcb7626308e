package asanatest

import (
	"encoding/json"
	"net/http"
	"testing"
)

// NewServer serves a project with its own gid, name and sections and the
// token SetToken gives; the defaults of NewWith are unchanged.
func TestNewServerOwnProjectAndToken(t *testing.T) {
	p := Project{GID: "1299", Name: "Help Desk", Sections: []Object{{"gid": "1", "resource_type": "section", "name": "Blocked"}},
		Tasks: []Object{{"gid": "7", "resource_type": "task", "name": "t", "modified_at": "2026-01-01T00:00:00.000Z"}}}
	s := NewServer(p)
	defer s.Close()
	s.SetToken("secret")
	get := func(path, token string) (int, Object) {
		req, _ := http.NewRequest(http.MethodGet, s.BaseURL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var o Object
		_ = json.NewDecoder(resp.Body).Decode(&o)
		return resp.StatusCode, o
	}
	if code, _ := get("/projects/1299/sections", Token); code != http.StatusUnauthorized {
		t.Errorf("default token after SetToken: %d", code)
	}
	if code, o := get("/projects/1299/sections", "secret"); code != 200 || len(o["data"].([]any)) != 1 {
		t.Errorf("sections: %d %v", code, o)
	}
	if code, _ := get("/projects/"+ProjectGID+"/sections", "secret"); code != http.StatusNotFound {
		t.Errorf("default project gid served: %d", code)
	}
	if code, o := get("/tasks?project=1299&modified_since=2025-01-01T00:00:00Z", "secret"); code != 200 || len(o["data"].([]any)) != 1 {
		t.Errorf("tasks: %d %v", code, o)
	}
	if code, o := get("/events?resource=1299", "secret"); code != http.StatusPreconditionFailed || o["sync"] == nil {
		t.Errorf("events: %d %v", code, o)
	}
	if code, _ := get("/tasks/7/stories", "secret"); code != 200 {
		t.Errorf("stories of a project without maps: %d", code)
	}
	s.AddTask(Object{"gid": "8", "resource_type": "task", "name": "u", "modified_at": "2026-01-02T00:00:00.000Z"}, "")
	if s.Events() != 1 {
		t.Errorf("events recorded: %d", s.Events())
	}
}

// actual_time_minutes is the sum of the task's entries, whatever integer
// type their durations were built with.
func TestActualTimeMinutes(t *testing.T) {
	p := Project{Tasks: []Object{{"gid": "7", "resource_type": "task", "name": "t", "modified_at": "2026-01-01T00:00:00.000Z"}},
		Entries: map[string][]Object{"7": {{"gid": "1", "duration_minutes": int64(30)}, {"gid": "2", "duration_minutes": 15}, {"gid": "3", "duration_minutes": 4.5}}}}
	s := NewWith(t, p)
	req, _ := http.NewRequest(http.MethodGet, s.BaseURL()+"/tasks/7?opt_fields=actual_time_minutes", nil)
	req.Header.Set("Authorization", "Bearer "+Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var o struct {
		Data struct {
			Minutes float64 `json:"actual_time_minutes"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil || o.Data.Minutes != 49.5 {
		t.Errorf("actual_time_minutes = %v (%v), want 49.5", o.Data.Minutes, err)
	}
}
