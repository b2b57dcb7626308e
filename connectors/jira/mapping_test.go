package jira

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{`"2024-03-12T15:45:00.000+0000"`, time.Date(2024, 3, 12, 15, 45, 0, 0, time.UTC)},
		{`"2020-06-12T08:13:13.360+0800"`, time.Date(2020, 6, 12, 0, 13, 13, 360e6, time.UTC)},
		{`"2015-04-11T15:22:00.000+10:00"`, time.Date(2015, 4, 11, 5, 22, 0, 0, time.UTC)},
		{`"2020-11-15T05:39:24.463Z"`, time.Date(2020, 11, 15, 5, 39, 24, 463e6, time.UTC)},
		{`1492070429`, time.Date(2017, 4, 13, 8, 0, 29, 0, time.UTC)},
		{`1438013671562`, time.Date(2015, 7, 27, 16, 14, 31, 562e6, time.UTC)},
		{`null`, time.Time{}},
	}
	for _, tt := range tests {
		var jt jiraTime
		if err := json.Unmarshal([]byte(tt.in), &jt); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if !jt.Equal(tt.want) {
			t.Errorf("%s = %v, want %v", tt.in, jt.UTC(), tt.want)
		}
	}
	var jt jiraTime
	if err := json.Unmarshal([]byte(`"12/Mar/24 3:45 PM"`), &jt); err == nil {
		t.Error("a display date parsed as a timestamp")
	}
}

func TestParseSprintField(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want []string // id|board|name|state|start|complete
	}{
		{"null", `null`, nil},
		{"empty", `[]`, nil},
		{"cloud objects", `[{"id":7354,"name":"Sprint 26-31","state":"closed","boardId":52,"goal":"","startDate":"2026-07-29T16:00:35.925Z","endDate":"2026-08-12T18:00:00.000Z","completeDate":"2026-08-12T17:55:00.000Z"},{"id":7355,"name":"Sprint 26-33","state":"active","boardId":52,"goal":"","startDate":"2026-08-12T15:24:38.877Z","endDate":"2026-08-26T18:00:00.000Z"}]`,
			[]string{"sprint:7354|52|Sprint 26-31|closed|2026-07-29T16:00:35Z|2026-08-12T17:55:00Z", "sprint:7355|52|Sprint 26-33|active|2026-08-12T15:24:38Z|"}},
		{"data center strings", `["com.atlassian.greenhopper.service.sprint.Sprint@77c19629[id=266,rapidViewId=174,state=CLOSED,name=GSC Sprint 26,startDate=2018-03-06T09:10:57.810-08:00,endDate=2018-03-19T09:10:00.000-07:00,completeDate=2018-03-20T07:07:14.478-07:00,sequence=266,goal=<null>]"]`,
			[]string{"sprint:266|174|GSC Sprint 26|closed|2018-03-06T17:10:57Z|2018-03-20T14:07:14Z"}},
		{"commas and brackets in name and goal", `["com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=37,rapidViewId=5,state=ACTIVE,name=Q3, part [a],startDate=2015-04-11T15:22:00.000+10:00,endDate=<null>,completeDate=<null>,sequence=37,goal=ship it, then rest]"]`,
			[]string{"sprint:37|5|Q3, part [a]|active|2015-04-11T05:22:00Z|"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSprintField(json.RawMessage(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d sprints, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, sp := range got {
				f := func(t time.Time) string {
					if t.IsZero() {
						return ""
					}
					return t.UTC().Truncate(time.Second).Format(time.RFC3339)
				}
				s := sp.ID + "|" + sp.Board + "|" + sp.Name + "|" + sp.State + "|" + f(sp.StartAt) + "|" + f(sp.CompleteAt)
				if s != tt.want[i] {
					t.Errorf("sprint %d = %s, want %s", i, s, tt.want[i])
				}
			}
		})
	}
	if _, err := parseSprintField(json.RawMessage(`["Sprint 1"]`)); err == nil {
		t.Error("a bare sprint name parsed")
	}
}

func TestStatusBook(t *testing.T) {
	var list []status
	if err := json.Unmarshal([]byte(`[
		{"id":"1","name":"Open","statusCategory":{"key":"new"}},
		{"id":"3","name":"In Progress","statusCategory":{"key":"indeterminate"}},
		{"id":"10068","name":"已完成","statusCategory":{"key":"done"}},
		{"id":"20","name":"Review","statusCategory":{"key":"indeterminate"}},
		{"id":"21","name":"Review","statusCategory":{"key":"done"}}]`), &list); err != nil {
		t.Fatal(err)
	}
	b := newStatusBook(list)
	tests := []struct{ id, name, wantName, wantCat string }{
		{"3", "In Development", "In Progress", "indeterminate"}, // renamed since: the site's name wins
		{"10068", "已完成", "已完成", "done"},
		{"5", "Resolved", "Resolved", "done"},       // no longer listed: well-known name
		{"99", "open", "open", "new"},               // unknown id, listed name
		{"98", "Review", "Review", "indeterminate"}, // ambiguous on the site: the well-known name decides
		{"97", "Triage", "Triage", ""},
	}
	for _, tt := range tests {
		n, c := b.resolve(tt.id, tt.name)
		if n != tt.wantName || c != tt.wantCat {
			t.Errorf("resolve(%s, %s) = %s, %s; want %s, %s", tt.id, tt.name, n, c, tt.wantName, tt.wantCat)
		}
	}
}

func TestMapIssue(t *testing.T) {
	book := newStatusBook([]status{
		{ID: "1", Name: "To Do", StatusCategory: struct {
			Key string `json:"key"`
		}{"new"}},
		{ID: "3", Name: "In Progress", StatusCategory: struct {
			Key string `json:"key"`
		}{"indeterminate"}},
		{ID: "6", Name: "Done", StatusCategory: struct {
			Key string `json:"key"`
		}{"done"}},
	})
	fields := fieldIDs{StoryPoints: []string{"customfield_10024", "customfield_10016"}, Sprint: "customfield_10020"}
	ri := rawIssue{ID: "10002", Key: "WEB-7", Fields: json.RawMessage(`{
		"summary":"Checkout","project":{"id":"1","key":"WEB","name":"Web"},
		"issuetype":{"name":"Epic","hierarchyLevel":1},
		"status":{"id":"6","name":"Done","statusCategory":{"key":"new"}},
		"created":"2024-01-01T09:00:00.000+0000","updated":"2024-02-01T10:00:00.000+0000",
		"resolution":{"name":"Fixed"},"resolutiondate":"2024-01-20T12:00:00.000+0000",
		"duedate":"2024-01-31","assignee":{"accountId":"a1","displayName":"Ada","emailAddress":"Ada@Example.com"},
		"customfield_10024":null,"customfield_10016":5.0,"customfield_10020":null,
		"timeoriginalestimate":7200,
		"worklog":{"startAt":0,"maxResults":20,"total":1,"worklogs":[{"id":"100","issueId":"10002","author":{"accountId":"b2","displayName":"Bo"},"started":"2024-01-10T08:00:00.000+0000","timeSpentSeconds":3600}]}}`)}
	hs := []history{
		{ID: "11", Created: jiraTime{time.Date(2024, 1, 2, 9, 0, 0, 0, time.UTC)}, Author: &user{AccountID: "a1"},
			Items: []historyItem{{Field: "duedate", FieldID: "duedate", From: ptr("2024-01-15"), To: ptr("2024-01-31")}}},
		{ID: "12", Created: jiraTime{time.Date(2024, 1, 5, 9, 0, 0, 0, time.UTC)}, Author: &user{AccountID: "a1"},
			Items: []historyItem{{Field: "status", FieldID: "status", From: ptr("1"), FromString: ptr("To Do"), To: ptr("3"), ToString: ptr("In Progress")}}},
		{ID: "13", Created: jiraTime{time.Date(2024, 1, 20, 12, 0, 0, 0, time.UTC)}, Author: &user{AccountID: "a1"},
			Items: []historyItem{{Field: "status", FieldID: "status", From: ptr("3"), FromString: ptr("In Progress"), To: ptr("6"), ToString: ptr("Done")}}},
	}
	m, err := mapIssue(ri, hs, book, fields)
	if err != nil {
		t.Fatal(err)
	}
	it := m.item
	if it.Key != "WEB-7" || it.ExternalID != "10002" || it.Project != "WEB" || it.Status != "Done" || it.StatusCategory != "done" ||
		it.Resolution != "Fixed" || it.Assignee != "a1" || it.Type != "Epic" {
		t.Errorf("item = %+v", it)
	}
	if it.StoryPoints == nil || *it.StoryPoints != 5 || it.EstimateSeconds == nil || *it.EstimateSeconds != 7200 {
		t.Errorf("estimates = %v, %v", it.StoryPoints, it.EstimateSeconds)
	}
	if !it.DueDate.Equal(time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)) || !it.ResolvedAt.Equal(time.Date(2024, 1, 20, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("dates = %v, %v", it.DueDate, it.ResolvedAt)
	}
	if len(m.transitions) != 3 || m.transitions[0].From != "" || m.transitions[0].To != "To Do" || !m.transitions[0].At.Equal(it.CreatedAt) ||
		m.transitions[2].To != "Done" || m.transitions[2].ToCategory != "done" || m.transitions[1].FromCategory != "new" {
		t.Errorf("transitions = %+v", m.transitions)
	}
	ms := m.milestone
	if ms == nil || ms.Name != "WEB-7" || !ms.BaselineDueDate.Equal(time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)) || len(ms.DueChanges) != 1 ||
		ms.DueChanges[0].Origin != "history" || !ms.CompletedAt.Equal(it.ResolvedAt) {
		t.Errorf("epic milestone = %+v", ms)
	}
	if len(m.worklogs) != 1 || m.worklogs[0].ID != "worklog:100" || m.worklogs[0].Seconds != 3600 || m.worklogs[0].Person != "b2" {
		t.Errorf("worklogs = %+v", m.worklogs)
	}
	if len(m.people) != 2 || m.people[0].Email != "ada@example.com" {
		t.Errorf("people = %+v", m.people)
	}
	if m.membership == nil || len(m.membership.Sprints) != 0 {
		t.Errorf("membership = %+v (want an empty one: the field is null)", m.membership)
	}

	// A child of the epic with a fix version: the version wins.
	child := rawIssue{ID: "10003", Key: "WEB-8", Fields: json.RawMessage(`{"summary":"x","project":{"key":"WEB"},
		"status":{"id":"1","name":"To Do"},"created":"2024-01-03T09:00:00.000+0000",
		"parent":{"id":"10002","key":"WEB-7","fields":{"issuetype":{"name":"Epic","hierarchyLevel":1}}},
		"fixVersions":[{"id":"1","name":"1.0"},{"id":"2","name":"1.1"}],
		"worklog":{"startAt":0,"maxResults":20,"total":25,"worklogs":[]}}`)}
	m, err = mapIssue(child, nil, book, fields)
	if err != nil {
		t.Fatal(err)
	}
	if m.item.Parent != "WEB-7" || m.item.Milestone != "1.0" || len(m.transitions) != 1 || m.transitions[0].To != "To Do" || len(m.worklogs) != 0 {
		t.Errorf("child = %+v %+v", m.item, m.transitions)
	}
	if !worklogsIncomplete(&child) {
		t.Error("25 worklogs with none embedded is not incomplete")
	}
}

func ptr(s string) *string { return &s }
