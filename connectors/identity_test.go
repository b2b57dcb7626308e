package connectors_test

import (
	"context"
	"testing"
	"time"

	"github.com/throughline/throughline/connectors/asana"
	"github.com/throughline/throughline/connectors/asana/asanatest"
	"github.com/throughline/throughline/connectors/jira"
	"github.com/throughline/throughline/connectors/jira/jiratest"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

// TestPersonInJiraAndAsanaIsOnePerson syncs a Jira site and an Asana
// workspace where Ada has an account in both with the same email (in other
// letter cases): the warehouse holds one person with two accounts, and the
// items and worklogs of both sources point to that person.
func TestPersonInJiraAndAsanaIsOnePerson(t *testing.T) {
	ctx := context.Background()
	d := jiratest.Generate(jiratest.GenOptions{Issues: 120, Seed: 4})
	// The generated site has an Ada Lovelace with ada@example.com; Asana's
	// fake has one too. Write the Jira one's email in other letter cases.
	jiraItems := 0
	for _, is := range d.Issues {
		if a, ok := is.Fields["assignee"].(jiratest.Object); ok && a["displayName"] == "Ada Lovelace" {
			a["emailAddress"] = "Ada@Example.com"
			jiraItems++
		}
	}
	if jiraItems == 0 {
		t.Fatal("no issue assigned to Ada Lovelace in the generated data")
	}
	jsrv := jiratest.NewTest(t, d, jiratest.Options{})
	asrv := asanatest.New(t)

	db := warehousetest.Open(t, "UTC")
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	jc, err := jira.New(jira.Config{BaseURL: jsrv.BaseURL(), Email: jiratest.DefaultEmail, Token: jiratest.DefaultToken, JQL: "project in (WEB, OPS)"}, jira.Options{Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	ac, err := asana.New(asana.Config{BaseURL: asrv.BaseURL(), Projects: []string{asanatest.ProjectGID}, Token: asanatest.Token}, asana.Options{Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]ingest.Connector{"jira": jc, "asana": ac} {
		if err := db.RegisterSource(ctx, name, name, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := ingest.Sync(ctx, db, db, name, c, ingest.SyncOptions{}); err != nil {
			t.Fatalf("sync %s: %v", name, err)
		}
	}
	q := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	if n := q("SELECT count(*) FROM people WHERE lower(email) = 'ada@example.com'"); n != 1 {
		t.Errorf("people rows for ada@example.com = %d, want 1", n)
	}
	if n := q("SELECT count(DISTINCT source_id) FROM person_accounts WHERE person_id = 'person:ada@example.com'"); n != 2 {
		t.Errorf("sources with an account of Ada = %d, want 2 (jira, asana)", n)
	}
	if n := q("SELECT count(*) FROM work_items WHERE source_id = 'jira' AND assignee_id = 'person:ada@example.com'"); n != jiraItems {
		t.Errorf("jira items assigned to Ada = %d, want %d", n, jiraItems)
	}
	if n := q("SELECT count(*) FROM work_items WHERE source_id = 'asana' AND assignee_id = 'person:ada@example.com'"); n == 0 {
		t.Error("no asana item assigned to Ada")
	}
	if n := q("SELECT count(*) FROM work_items w WHERE assignee_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM people p WHERE p.person_id = w.assignee_id)"); n != 0 {
		t.Errorf("%d items assigned to no person row", n)
	}
	if n := q("SELECT count(*) FROM worklogs l WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.person_id = l.person_id)"); n != 0 {
		t.Errorf("%d worklogs by no person row", n)
	}
	// Greg has no Jira account: he stays one person, from Asana alone.
	if n := q("SELECT count(*) FROM people WHERE email = 'greg@example.com' AND source_id = 'asana'"); n != 1 {
		t.Errorf("people rows for greg@example.com = %d, want 1", n)
	}
}
