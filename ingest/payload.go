package ingest

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Repair is one string of a JSON payload that RepairJSON changed.
type Repair struct {
	Path string // JSON path of the string: fields.summary, changelog.histories[2].items[0].toString
	What string // what was wrong: `lone UTF-16 surrogate \ud83d`, `invalid UTF-8`
}

// RepairJSON returns raw with every lone UTF-16 surrogate escape (a
// \ud800–\udfff that is not half of a pair: valid JSON text that Jira does
// emit, but not Unicode, which the warehouse's JSON type rejects) written
// as \ufffd, and every invalid UTF-8 sequence as U+FFFD, with one Repair
// per string changed. It returns raw itself, and no repairs, when there is
// nothing to repair (the common case costs one scan).
func RepairJSON(raw []byte) ([]byte, []Repair) {
	if utf8.Valid(raw) && !hasSurrogateEscape(raw) {
		return raw, nil
	}
	r := repairer{in: raw, out: make([]byte, 0, len(raw)+16)}
	r.run()
	if len(r.repairs) == 0 {
		return raw, nil
	}
	return r.out, r.repairs
}

// RepairPayloads repairs the raw payloads of b (RepairJSON) and adds one
// problem per repaired string, naming the item and the field. It is
// idempotent, and never changes the slices b was given in place.
func (b *Batch) RepairPayloads() {
	var fixed []RawPayload
	for i, p := range b.Raw {
		out, reps := RepairJSON(p.Payload)
		if len(reps) == 0 {
			continue
		}
		if fixed == nil {
			fixed = append([]RawPayload(nil), b.Raw...)
			b.Problems = append([]Problem(nil), b.Problems...)
		}
		fixed[i].Payload = out
		key := p.Item
		if key == "" {
			key = p.ExternalID
		}
		for _, rp := range reps {
			b.Problems = append(b.Problems, Problem{Key: key, Column: rp.Path,
				Reason: fmt.Sprintf("%s in the %s payload: stored as U+FFFD", rp.What, p.Entity)})
		}
	}
	if fixed != nil {
		b.Raw = fixed
	}
}

// hasSurrogateEscape reports whether raw holds a \uD800–\uDFFF escape.
func hasSurrogateEscape(raw []byte) bool {
	for i := 0; ; i += 2 { // past the backslash and the character it escapes (a backslash included)
		j := bytes.IndexByte(raw[i:], '\\') // most payloads hold few escapes: jump to the next
		if j < 0 {
			return false
		}
		i += j
		if i+5 >= len(raw) {
			return false
		}
		if raw[i+1] == 'u' && (raw[i+2] == 'd' || raw[i+2] == 'D') && strings.IndexByte("89abcdefABCDEF", raw[i+3]) >= 0 {
			return true
		}
	}
}

// frame is one open container while scanning: an object (with the key
// being read) or an array (with the index).
type frame struct {
	array   bool
	idx     int
	key     string
	wantKey bool
}

type repairer struct {
	in      []byte
	out     []byte
	stack   []frame
	repairs []Repair
}

func (r *repairer) path() string {
	var b strings.Builder
	for _, f := range r.stack {
		if f.array {
			b.WriteString("[" + strconv.Itoa(f.idx) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(f.key)
	}
	return b.String()
}

// run copies in to out, tracking where it is, and repairs strings.
func (r *repairer) run() {
	for i := 0; i < len(r.in); {
		c := r.in[i]
		top := len(r.stack) - 1
		switch c {
		case '{':
			r.stack = append(r.stack, frame{wantKey: true})
		case '[':
			r.stack = append(r.stack, frame{array: true})
		case '}', ']':
			if top >= 0 {
				r.stack = r.stack[:top]
			}
		case ',':
			if top >= 0 {
				if r.stack[top].array {
					r.stack[top].idx++
				} else {
					r.stack[top].wantKey = true
				}
			}
		case ':':
			if top >= 0 {
				r.stack[top].wantKey = false
			}
		case '"':
			isKey := top >= 0 && !r.stack[top].array && r.stack[top].wantKey
			i = r.str(i, isKey)
			continue
		default:
			if c >= utf8.RuneSelf { // stray bytes outside strings: not JSON, repaired all the same
				i = r.bytes(i)
				continue
			}
		}
		r.out = append(r.out, c)
		i++
	}
}

// str copies the string starting at in[i] (the quote) and returns the
// index after it; a key is remembered for the path.
func (r *repairer) str(i int, isKey bool) int {
	start := len(r.out)
	r.out = append(r.out, '"')
	i++
	var what []string
	note := func(w string) {
		for _, x := range what {
			if x == w {
				return
			}
		}
		what = append(what, w)
	}
	for i < len(r.in) {
		c := r.in[i]
		switch {
		case c == '"':
			r.out = append(r.out, '"')
			i++
			if isKey {
				r.stack[len(r.stack)-1].key = string(r.out[start+1 : len(r.out)-1])
			}
			if len(what) > 0 {
				p := r.path()
				if isKey {
					p += " (a key)"
				}
				r.repairs = append(r.repairs, Repair{Path: p, What: strings.Join(what, ", ")})
			}
			return i
		case c == '\\' && i+1 < len(r.in) && r.in[i+1] == 'u' && i+6 <= len(r.in):
			u, ok := hex4(r.in[i+2 : i+6])
			switch {
			case !ok:
				r.out = append(r.out, r.in[i:i+2]...)
				i += 2
			case u >= 0xD800 && u < 0xDC00:
				if i+12 <= len(r.in) && r.in[i+6] == '\\' && r.in[i+7] == 'u' {
					if lo, ok := hex4(r.in[i+8 : i+12]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
						r.out = append(r.out, r.in[i:i+12]...)
						i += 12
						continue
					}
				}
				note(`lone UTF-16 surrogate \u` + strings.ToLower(string(r.in[i+2:i+6])))
				r.out = append(r.out, `\ufffd`...)
				i += 6
			case u >= 0xDC00 && u <= 0xDFFF:
				note(`lone UTF-16 surrogate \u` + strings.ToLower(string(r.in[i+2:i+6])))
				r.out = append(r.out, `\ufffd`...)
				i += 6
			default:
				r.out = append(r.out, r.in[i:i+6]...)
				i += 6
			}
		case c == '\\' && i+1 < len(r.in):
			r.out = append(r.out, c, r.in[i+1])
			i += 2
		case c < utf8.RuneSelf:
			r.out = append(r.out, c)
			i++
		default:
			rn, size := utf8.DecodeRune(r.in[i:])
			if rn == utf8.RuneError && size <= 1 {
				note("invalid UTF-8")
				r.out = append(r.out, "\uFFFD"...)
				i++
				continue
			}
			r.out = append(r.out, r.in[i:i+size]...)
			i += size
		}
	}
	return i // unterminated: copied as it is
}

// bytes copies non-ASCII bytes outside a string, repairing invalid UTF-8.
func (r *repairer) bytes(i int) int {
	rn, size := utf8.DecodeRune(r.in[i:])
	if rn == utf8.RuneError && size <= 1 {
		r.repairs = append(r.repairs, Repair{Path: r.path(), What: "invalid UTF-8"})
		r.out = append(r.out, "\uFFFD"...)
		return i + 1
	}
	r.out = append(r.out, r.in[i:i+size]...)
	return i + size
}

func hex4(b []byte) (rune, bool) {
	n, err := strconv.ParseUint(string(b), 16, 16)
	return rune(n), err == nil
}
