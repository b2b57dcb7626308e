package listing

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLive(t *testing.T) {
	listings := []map[string]string{
		{"1": "A-1", "2": "A-2", "3": "A-3", "5": "A-5"}, // 4 missed (a flaky page); 5 deleted after this listing
		{"1": "A-1", "2": "B-7", "3": "A-3", "4": "A-4"}, // 2 moved to B-7 between the listings
	}
	n := 0
	list := func(context.Context) (map[string]string, error) { n++; return listings[n-1], nil }
	var asked []string
	confirm := func(_ context.Context, ids []string) (map[string]string, error) {
		asked = ids
		return map[string]string{"4": "A-4"}, nil // 5 answers 404
	}
	live, odd, err := Live(context.Background(), list, confirm)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"1": "A-1", "2": "B-7", "3": "A-3", "4": "A-4"}, live); d != "" {
		t.Errorf("live (-want +got):\n%s", d)
	}
	if odd != 2 || !cmp.Equal(asked, []string{"4", "5"}) {
		t.Errorf("odd = %d, asked %v; want 2, [4 5]", odd, asked)
	}
}
