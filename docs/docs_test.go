package docs

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCookbook(t *testing.T) {
	md := "# Title\n\n```sql\nSELECT 0\n```\n\n## First question\n\nWhy it matters.\nMore text.\n\n```sql\nSELECT 1\nFROM t\n```\n\n## Second\n\n```sql\nSELECT 2\n```\n"
	want := []Query{
		{Heading: "First question", Text: "Why it matters.", SQL: "SELECT 1\nFROM t\n"},
		{Heading: "Second", SQL: "SELECT 2\n"},
	}
	if diff := cmp.Diff(want, ParseCookbook(md)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := len(Cookbook()); n < 15 {
		t.Errorf("the embedded cookbook has %d queries", n)
	}
}
