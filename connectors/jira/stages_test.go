package jira_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/throughline/throughline/connectors/jira/jiratest"
	"github.com/throughline/throughline/ingest"
)

// A pass that stops (here: the store refuses the first batch while the
// search and completion stages still have pages to deliver) returns the
// store's error, and its stages have ended by then: no goroutine of the
// pass outlives it.
func TestStoppedPassLeavesNoStage(t *testing.T) {
	srv := jiratest.NewTest(t, jiratest.Generate(jiratest.GenOptions{Issues: 600, Seed: 3}), jiratest.Options{})
	c := newConnector(t, srv, setup{email: jiratest.DefaultEmail, page: 50, batch: 50}, nil)
	refused := errors.New("store refused the batch")
	batches := 0
	err := c.Sync(t.Context(), "", func(context.Context, ingest.Batch) error {
		batches++
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("sync error = %v, want the store's", err)
	}
	if batches != 1 {
		t.Errorf("%d batches emitted after the first was refused, want 1", batches)
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if strings.Contains(stacks, "(*session).issuePass") {
		t.Errorf("a stage of the issue pass still runs after Sync returned:\n%s", stacks)
	}
}
