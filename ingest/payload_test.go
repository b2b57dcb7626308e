package ingest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRepairJSON(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in, out string
		repairs []Repair
	}{
		{"clean", `{"a":"x y","b":[1,"\u00e9"]}`, `{"a":"x y","b":[1,"\u00e9"]}`, nil},
		{"a valid pair stays", `{"s":"\ud83d\ude00"}`, `{"s":"\ud83d\ude00"}`, nil},
		{"escaped backslash before u is text", `{"s":"\\ud83d"}`, `{"s":"\\ud83d"}`, nil},
		{"lone high surrogate", `{"fields":{"summary":"x\ud83d y"}}`, `{"fields":{"summary":"x\ufffd y"}}`,
			[]Repair{{Path: "fields.summary", What: `lone UTF-16 surrogate \ud83d`}}},
		{"lone low surrogate, upper case", `{"a":["ok","\uDE00"]}`, `{"a":["ok","\ufffd"]}`,
			[]Repair{{Path: "a[1]", What: `lone UTF-16 surrogate \ude00`}}},
		{"high then not low", `{"s":"\ud83d\u0041"}`, `{"s":"\ufffd\u0041"}`,
			[]Repair{{Path: "s", What: `lone UTF-16 surrogate \ud83d`}}},
		{"nested path", `{"changelog":{"histories":[{"items":[{"toString":"ok"},{"toString":"\udc00"}]}]}}`,
			`{"changelog":{"histories":[{"items":[{"toString":"ok"},{"toString":"\ufffd"}]}]}}`,
			[]Repair{{Path: "changelog.histories[0].items[1].toString", What: `lone UTF-16 surrogate \udc00`}}},
		{"invalid UTF-8", "{\"t\":\"caf\xe9!\",\"u\":\"ok\"}", "{\"t\":\"caf\uFFFD!\",\"u\":\"ok\"}",
			[]Repair{{Path: "t", What: "invalid UTF-8"}}},
		{"both in one string", "{\"t\":\"\xff\\ud800\"}", "{\"t\":\"\uFFFD\\ufffd\"}",
			[]Repair{{Path: "t", What: "invalid UTF-8, lone UTF-16 surrogate \\ud800"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, reps := RepairJSON([]byte(tc.in))
			if string(out) != tc.out {
				t.Errorf("out = %s, want %s", out, tc.out)
			}
			if diff := cmp.Diff(tc.repairs, reps); diff != "" {
				t.Errorf("repairs (-want +got):\n%s", diff)
			}
			if !json.Valid(out) {
				t.Errorf("repaired payload is not JSON: %s", out)
			}
		})
	}
}

func TestRepairPayloadsKeepsTheConnectorsSlices(t *testing.T) {
	raw := []RawPayload{{Entity: "issue", ExternalID: "10001", Item: "AB-1", Payload: json.RawMessage(`{"fields":{"summary":"x\ud83d"}}`)},
		{Entity: "task", ExternalID: "42", Payload: json.RawMessage(`{"name":"fine"}`)}}
	b := Batch{Raw: raw}
	b.RepairPayloads()
	b.RepairPayloads() // idempotent: no second problem
	if string(raw[0].Payload) != `{"fields":{"summary":"x\ud83d"}}` {
		t.Errorf("the connector's payload changed in place: %s", raw[0].Payload)
	}
	if string(b.Raw[0].Payload) != `{"fields":{"summary":"x\ufffd"}}` {
		t.Errorf("repaired payload = %s", b.Raw[0].Payload)
	}
	want := []Problem{{Key: "AB-1", Column: "fields.summary", Reason: `lone UTF-16 surrogate \ud83d in the issue payload: stored as U+FFFD`}}
	if diff := cmp.Diff(want, b.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestHasSurrogateEscape checks the scan that jumps between backslashes
// against a byte-by-byte one, on every string of up to 7 bytes over the
// characters that matter (escapes, escaped backslashes, the string's end).
func TestHasSurrogateEscape(t *testing.T) {
	byByte := func(raw []byte) bool {
		for i := 0; i+5 < len(raw); i++ {
			if raw[i] == '\\' && raw[i+1] == 'u' && (raw[i+2] == 'd' || raw[i+2] == 'D') && strings.IndexByte("89abcdefABCDEF", raw[i+3]) >= 0 {
				return true
			}
			if raw[i] == '\\' {
				i++
			}
		}
		return false
	}
	const alphabet = `\uD8x0`
	var walk func(prefix []byte)
	n := 0
	walk = func(prefix []byte) {
		n++
		if got, want := hasSurrogateEscape(prefix), byByte(prefix); got != want {
			t.Fatalf("hasSurrogateEscape(%q) = %v, want %v", prefix, got, want)
		}
		if len(prefix) == 7 {
			return
		}
		for i := 0; i < len(alphabet); i++ {
			walk(append(prefix, alphabet[i]))
		}
	}
	walk(make([]byte, 0, 8))
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{`"\ud83d" `, true}, {`"\\ud83d" `, false}, {`"\\\ud83d" `, true}, {`x\uDE00y`, true}, {`\u00e9\u0041 `, false}, {`\ud8`, false},
	} {
		if got := hasSurrogateEscape([]byte(tc.in)); got != tc.want {
			t.Errorf("hasSurrogateEscape(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if n < 300000 {
		t.Fatalf("walked %d strings", n)
	}
}
