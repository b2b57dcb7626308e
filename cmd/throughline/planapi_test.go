package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/metrics/plan"
)

func TestPlanAPI(t *testing.T) {
	s := startAPIServer(t)
	in := s.p.planInputs()
	if in == nil || len(in.Teams) == 0 {
		t.Fatalf("the pages' model has no planner inputs after the first compute: %+v", in)
	}
	due := in.Today.AddDate(0, 0, 42).Format("2006-01-02")

	t.Run("answer", func(t *testing.T) {
		// The API answers what the planner answers in-process, and the CLI
		// (which asks the running server) prints the same JSON.
		body := `{"items": 40, "due": "` + due + `"}`
		code, h, b := s.do(t, "POST", "/api/v1/plan", body, "Content-Type", "application/json")
		if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Fatalf("POST /api/v1/plan: %d %s", code, b)
		}
		var got plan.Answer
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		d, _ := plan.ParseDate(due)
		want, err := in.Plan(plan.Request{Items: 40, Due: d})
		if err != nil {
			t.Fatal(err)
		}
		wantJSON, _ := json.Marshal(want)
		var norm plan.Answer
		json.Unmarshal(wantJSON, &norm) // the same round trip
		if diff := cmp.Diff(norm, got); diff != "" {
			t.Errorf("API answer differs from the planner's (-planner +api):\n%s", diff)
		}
		if len(got.Teams) != len(in.Teams) || got.Teams[0].Rank != 1 {
			t.Errorf("teams %d (first rank %d), want every configured team (%d), ranked", len(got.Teams), got.Teams[0].Rank, len(in.Teams))
		}
		t.Setenv("TL_API_TEST_TOKEN", apiTestToken)
		code, out, errs := runCmd(t, "plan", "--config", s.cfgPath, "--items", "40", "--due", due, "--format", "json")
		var cli plan.Answer
		if err := json.Unmarshal([]byte(out), &cli); code != 0 || err != nil {
			t.Fatalf("plan --format json: exit %d, %v\n%s\n%s", code, err, out, errs)
		}
		if diff := cmp.Diff(got, cli); diff != "" {
			t.Errorf("CLI answer differs from the API's (-api +cli):\n%s", diff)
		}
		code, out, _ = runCmd(t, "plan", "--config", s.cfgPath, "--items", "40", "--due", due)
		if code != 0 || !strings.Contains(out, "New work: 40 items, due "+due) || !strings.Contains(out, "allocation per week") {
			t.Errorf("plan table: exit %d\n%s", code, out)
		}
	})

	t.Run("refused", func(t *testing.T) {
		tests := []struct {
			name, body, auth string
			code             int
			want             string
		}{
			{"no token", `{"items": 4}`, "", http.StatusUnauthorized, `"code":"unauthorized"`},
			{"neither items nor hours", `{}`, "Bearer " + apiTestToken, http.StatusBadRequest, "give the new work as items or as hours"},
			{"unknown field", `{"items": 4, "teams": "x"}`, "Bearer " + apiTestToken, http.StatusBadRequest, `unknown field \"teams\"`},
			{"bad date", `{"items": 4, "due": "13/01/2027"}`, "Bearer " + apiTestToken, http.StatusBadRequest, "want a date like 2026-04-30"},
			{"unknown team", `{"items": 4, "team": "nobody"}`, "Bearer " + apiTestToken, http.StatusBadRequest, `no team \"nobody\" (configured teams: `},
			{"not JSON", `items=4`, "Bearer " + apiTestToken, http.StatusBadRequest, `want a JSON body like`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, _, b := s.do(t, "POST", "/api/v1/plan", tt.body, "Authorization", tt.auth)
				if code != tt.code || !strings.Contains(string(b), tt.want) {
					t.Errorf("%d %s, want %d containing %s", code, b, tt.code, tt.want)
				}
			})
		}
		if code, _, errs := runCmd(t, "plan", "--config", s.cfgPath, "--items", "4", "--team", "nobody"); code != exitUsage || !strings.Contains(errs, `no team "nobody"`) {
			t.Errorf("plan --team nobody: exit %d %q, want a usage error naming the team", code, errs)
		}
	})
}
