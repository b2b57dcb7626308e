package jira

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The decoders here read values that encoding/json has already checked (a
// json.RawMessage of a decoded reply) in the shapes Jira sends, without the
// second validity scan and the reflection that json.Unmarshal spends on
// each of the ~11 histories of an issue. They report !ok on anything out of
// the ordinary (a key in another case or repeated, a value of an unexpected
// type, a null array element) and the caller then hands the value to
// json.Unmarshal: the result is always json.Unmarshal's. Strings with
// escapes are unescaped by json.Unmarshal, one string at a time.
//
// Valid JSON is a precondition: on other input the fast path may accept
// what json.Unmarshal would refuse.

// unmarshal decodes raw into dst, a pointer to a zero value, as
// json.Unmarshal does: with the fast reader for the types fast handles
// (a fields map's values are then slices of raw, not copies), else, or
// when the fast reader gives up, with json.Unmarshal.
func unmarshal(raw []byte, dst any) error {
	if fast(raw, dst) {
		return nil
	}
	return json.Unmarshal(raw, dst)
}

type jsonReader struct {
	b []byte
	i int
}

// peek skips white space and returns the next byte (0 at the end).
func (r *jsonReader) peek() byte {
	for r.i < len(r.b) {
		switch c := r.b[r.i]; c {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return c
		}
	}
	return 0
}

func (r *jsonReader) eat(c byte) bool {
	if r.peek() == c {
		r.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (r *jsonReader) end() bool { return r.peek() == 0 && r.i == len(r.b) }

func (r *jsonReader) null() bool { return r.literal("null") }

// strToken consumes a string and returns it with its quotes and whether it
// holds an escape.
func (r *jsonReader) strToken() (tok []byte, escaped, ok bool) {
	if r.peek() != '"' {
		return nil, false, false
	}
	start := r.i
	for j := start + 1; j < len(r.b); j++ {
		switch r.b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			r.i = j + 1
			return r.b[start:r.i], escaped, true
		}
	}
	return nil, false, false
}

// str consumes a string value.
func (r *jsonReader) str() (string, bool) {
	tok, escaped, ok := r.strToken()
	if !ok {
		return "", false
	}
	in := tok[1 : len(tok)-1]
	if !escaped && plain(in) {
		return string(in), true
	}
	var s string
	if json.Unmarshal(tok, &s) != nil {
		return "", false
	}
	return s, true
}

// plain reports whether a string's bytes are its value for encoding/json:
// no control characters, valid UTF-8 (the caller has ruled out escapes).
func plain(s []byte) bool {
	ascii := true
	for _, c := range s {
		if c < 0x20 {
			return false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	return ascii || utf8.Valid(s)
}

// key consumes an object key and its colon. A key with an escape is left to
// json.Unmarshal.
func (r *jsonReader) key() ([]byte, bool) {
	tok, escaped, ok := r.strToken()
	if !ok || escaped || !plain(tok[1:len(tok)-1]) || !r.eat(':') {
		return nil, false
	}
	return tok[1 : len(tok)-1], true
}

// unknown reports whether key matches none of a struct's names, not even
// in another case (encoding/json matches keys case-insensitively, with
// Unicode folding: a key that is not ASCII is left to it).
func unknown(key []byte, names ...string) bool {
	for i := 0; i < len(key); i++ {
		if key[i] >= 0x80 {
			return false
		}
	}
	for _, n := range names {
		if len(n) == len(key) && asciiEqualFold(n, key) {
			return false
		}
	}
	return true
}

func asciiEqualFold(a string, b []byte) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// skip consumes any value.
func (r *jsonReader) skip() bool {
	switch r.peek() {
	case 0:
		return false
	case '"':
		_, _, ok := r.strToken()
		return ok
	case '{', '[':
		depth := 0
		for r.i < len(r.b) {
			switch r.b[r.i] {
			case '"':
				if _, _, ok := r.strToken(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					r.i++
					return true
				}
			}
			r.i++
		}
		return false
	default:
		start := r.i
		for r.i < len(r.b) {
			switch r.b[r.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return r.i > start
			}
			r.i++
		}
		return r.i > start
	}
}

// object calls field for each key of an object (field consumes the value)
// and fails on a repeated key.
func (r *jsonReader) object(field func(key []byte) bool) bool {
	if !r.eat('{') {
		return false
	}
	if r.eat('}') {
		return true
	}
	var buf [16][]byte
	seen := buf[:0]
	for {
		k, ok := r.key()
		if !ok {
			return false
		}
		for _, s := range seen {
			if bytes.Equal(s, k) {
				return false
			}
		}
		seen = append(seen, k)
		if !field(k) {
			return false
		}
		if r.eat(',') {
			continue
		}
		return r.eat('}')
	}
}

// optStr consumes a string or null into *string.
func (r *jsonReader) optStr(dst **string) bool {
	if r.null() {
		*dst = nil
		return true
	}
	s, ok := r.str()
	*dst = &s
	return ok
}

// strOrNull consumes a string, or null (which leaves dst as it is).
func (r *jsonReader) strOrNull(dst *string) bool {
	if r.null() {
		return true
	}
	s, ok := r.str()
	*dst = s
	return ok
}

func fastHistory(raw []byte) (history, bool) {
	r := jsonReader{b: raw}
	var h history
	ok := r.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return r.strOrNull(&h.ID)
		case "author":
			return optRef(&r, &h.Author, (*jsonReader).user)
		case "created":
			return r.time(&h.Created)
		case "items":
			if r.null() {
				h.Items = nil
				return true
			}
			return r.items(&h.Items)
		}
		return unknown(k, "id", "author", "created", "items") && r.skip()
	})
	return h, ok && r.end()
}

func (r *jsonReader) user(u *user) bool {
	return r.object(func(k []byte) bool {
		switch string(k) {
		case "accountId":
			return r.strOrNull(&u.AccountID)
		case "key":
			return r.strOrNull(&u.Key)
		case "name":
			return r.strOrNull(&u.Name)
		case "displayName":
			return r.strOrNull(&u.DisplayName)
		case "emailAddress":
			return r.strOrNull(&u.EmailAddress)
		}
		return unknown(k, "accountId", "key", "name", "displayName", "emailAddress") && r.skip()
	})
}

func (r *jsonReader) items(dst *[]historyItem) bool {
	return list(r, dst, 2, (*jsonReader).item)
}

func (r *jsonReader) item(x *historyItem) bool {
	return r.object(func(k []byte) bool {
		switch string(k) {
		case "field":
			return r.strOrNull(&x.Field)
		case "fieldtype":
			return r.strOrNull(&x.FieldType)
		case "fieldId":
			return r.strOrNull(&x.FieldID)
		case "from":
			return r.optStr(&x.From)
		case "fromString":
			return r.optStr(&x.FromString)
		case "to":
			return r.optStr(&x.To)
		case "toString":
			return r.optStr(&x.ToString)
		}
		return unknown(k, "field", "fieldtype", "fieldId", "from", "fromString", "to", "toString") && r.skip()
	})
}

// fastSplit has its own loop rather than object's: a fields object has
// ~60 keys, which object's check for repeated keys would compare pairwise
// (a map keeps the last of a repeated key, as encoding/json's does).
func fastSplit(raw []byte) (map[string]json.RawMessage, bool) {
	r := jsonReader{b: raw}
	if !r.eat('{') {
		return nil, false
	}
	m := make(map[string]json.RawMessage, 64)
	if !r.eat('}') {
		for {
			k, ok := r.key()
			if !ok {
				return nil, false
			}
			v, ok := r.raw()
			if !ok {
				return nil, false
			}
			m[string(k)] = v
			if r.eat(',') {
				continue
			}
			if !r.eat('}') {
				return nil, false
			}
			break
		}
	}
	return m, r.end()
}

// integer consumes an integer into dst; null leaves dst as it is. Another
// number (1.5, 1e3, too large) is left to json.Unmarshal.
func (r *jsonReader) integer(dst *int64) bool {
	if r.null() {
		return true
	}
	if c := r.peek(); c != '-' && (c < '0' || c > '9') {
		return false
	}
	start := r.i
	if !r.skip() {
		return false
	}
	n, err := strconv.ParseInt(string(r.b[start:r.i]), 10, 64)
	*dst = n
	return err == nil
}

func (r *jsonReader) intField(dst *int) bool {
	n := int64(*dst)
	ok := r.integer(&n)
	*dst = int(n)
	return ok && int64(int(n)) == n
}

// raw consumes any value and returns its bytes (a slice of the input).
func (r *jsonReader) raw() (json.RawMessage, bool) {
	r.peek()
	start := r.i
	if !r.skip() {
		return nil, false
	}
	return json.RawMessage(r.b[start:r.i:r.i]), true
}

func fastPage(b []byte) (searchPage, bool) {
	r := jsonReader{b: b}
	var p searchPage
	ok := r.object(func(k []byte) bool {
		switch string(k) {
		case "issues":
			if r.null() {
				p.Issues = nil
				return true
			}
			return r.issues(&p.Issues)
		case "nextPageToken":
			return r.optStr(&p.NextPageToken)
		case "isLast":
			if r.null() {
				p.IsLast = nil
				return true
			}
			p.IsLast = new(bool)
			return r.boolean(p.IsLast)
		case "startAt":
			return r.intField(&p.StartAt)
		case "maxResults":
			return r.intField(&p.MaxResults)
		case "total":
			return r.intField(&p.Total)
		}
		return unknown(k, "issues", "nextPageToken", "isLast", "startAt", "maxResults", "total") && r.skip()
	})
	return p, ok && r.end()
}

func (r *jsonReader) literal(s string) bool {
	if r.peek() == s[0] && bytes.HasPrefix(r.b[r.i:], []byte(s)) {
		r.i += len(s)
		return true
	}
	return false
}

// array calls elem for each element of an array (elem consumes it); a null
// element is left to json.Unmarshal.
func (r *jsonReader) array(elem func() bool) bool {
	if !r.eat('[') {
		return false
	}
	if r.eat(']') {
		return true
	}
	for {
		if r.peek() == 'n' || !elem() {
			return false
		}
		if r.eat(',') {
			continue
		}
		return r.eat(']')
	}
}

func (r *jsonReader) issues(dst *[]rawIssue) bool {
	return list(r, dst, 100, (*jsonReader).issue)
}

func (r *jsonReader) issue(ri *rawIssue) bool {
	return r.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return r.strOrNull(&ri.ID)
		case "key":
			return r.strOrNull(&ri.Key)
		case "fields":
			v, ok := r.raw()
			ri.Fields = v
			return ok
		case "changelog":
			return optRef(r, &ri.Changelog, (*jsonReader).changelog)
		}
		return unknown(k, "id", "key", "fields", "changelog") && r.skip()
	})
}

func (r *jsonReader) changelog(c *changelog) bool {
	return r.object(func(k []byte) bool {
		switch string(k) {
		case "startAt":
			return r.intField(&c.StartAt)
		case "maxResults":
			return r.intField(&c.MaxResults)
		case "total":
			return r.intField(&c.Total)
		case "histories":
			return r.rawList(&c.Histories, 16)
		}
		return unknown(k, "startAt", "maxResults", "total", "histories") && r.skip()
	})
}

func fastWorklog(raw []byte) (worklog, bool) {
	r := jsonReader{b: raw}
	var w worklog
	ok := r.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return r.strOrNull(&w.ID)
		case "issueId":
			return r.strOrNull(&w.IssueID)
		case "author":
			return optRef(&r, &w.Author, (*jsonReader).user)
		case "started":
			return r.time(&w.Started)
		case "timeSpentSeconds":
			return r.integer(&w.TimeSpentSeconds)
		}
		return unknown(k, "id", "issueId", "author", "started", "timeSpentSeconds") && r.skip()
	})
	return w, ok && r.end()
}

// fast decodes v as json.Unmarshal into dst, a pointer to a zero value,
// would; on false dst is untouched and left to json.Unmarshal. A null
// standard field is the caller's (decodeFields skips it).
func fast(v []byte, dst any) bool {
	r := jsonReader{b: v}
	switch d := dst.(type) {
	case *history:
		return fastInto(d, fastHistory, v)
	case *worklog:
		return fastInto(d, fastWorklog, v)
	case *map[string]json.RawMessage:
		return fastInto(d, fastSplit, v)
	case *string:
		s, ok := r.str()
		if ok = ok && r.end(); ok {
			*d = s
		}
		return ok
	case *jiraTime:
		tok, _, ok := r.strToken()
		var t jiraTime
		if ok = ok && r.end() && t.UnmarshalJSON(tok) == nil; ok {
			*d = t
		}
		return ok
	case **int64:
		var n int64
		if r.peek() == 'n' || !r.integer(&n) || !r.end() {
			return false
		}
		*d = &n
		return true
	case **user:
		return fastRef(&r, d, (*jsonReader).user)
	case **statusRef:
		return fastRef(&r, d, (*jsonReader).statusRef)
	case **issueTypeRef:
		return fastRef(&r, d, (*jsonReader).issueTypeRef)
	case **projectRef:
		return fastRef(&r, d, (*jsonReader).projectRef)
	case **nameRef:
		return fastRef(&r, d, (*jsonReader).nameRef)
	case **parentRef:
		return fastRef(&r, d, (*jsonReader).parentRef)
	case **worklogField:
		return fastRef(&r, d, (*jsonReader).worklogField)
	case *[]version:
		var vs []version
		ok := list(&r, &vs, 1, (*jsonReader).version) && r.end()
		if ok {
			*d = vs
		}
		return ok
	}
	return false
}

// fastInto stores what read makes of v in *dst when it succeeds.
func fastInto[T any](dst *T, read func([]byte) (T, bool), v []byte) bool {
	x, ok := read(v)
	if ok {
		*dst = x
	}
	return ok
}

// fastRef decodes an object into a new T and stores it in *dst.
func fastRef[T any](r *jsonReader, dst **T, read func(*jsonReader, *T) bool) bool {
	v := new(T)
	if !read(r, v) || !r.end() {
		return false
	}
	*dst = v
	return true
}

// optRef consumes null (*dst = nil) or an object read into a new T.
func optRef[T any](r *jsonReader, dst **T, read func(*jsonReader, *T) bool) bool {
	if r.null() {
		*dst = nil
		return true
	}
	*dst = new(T)
	return read(r, *dst)
}

// rawList consumes null (*dst = nil) or an array whose elements are kept
// raw (an empty array is an empty slice, as encoding/json makes it).
func (r *jsonReader) rawList(dst *[]json.RawMessage, size int) bool {
	if r.null() {
		*dst = nil
		return true
	}
	return list(r, dst, size, func(r *jsonReader, v *json.RawMessage) bool {
		var ok bool
		*v, ok = r.raw()
		return ok
	})
}

// list reads an array into a new slice of capacity size, each element by
// read, and stores it in *dst (an empty array is an empty slice, as
// encoding/json makes it). read is a method expression, as for fastRef: a
// method value would be allocated for every array read.
func list[T any](r *jsonReader, dst *[]T, size int, read func(*jsonReader, *T) bool) bool {
	out := make([]T, 0, size)
	ok := r.array(func() bool {
		// Read in place: a local passed to read would be allocated.
		var zero T
		out = append(out, zero)
		return read(r, &out[len(out)-1])
	})
	*dst = out
	return ok
}

// time consumes a timestamp string, or null (which leaves dst as it is);
// an epoch number is left to json.Unmarshal.
func (r *jsonReader) time(dst *jiraTime) bool {
	if r.null() {
		return true
	}
	tok, _, ok := r.strToken()
	return ok && dst.UnmarshalJSON(tok) == nil
}

// boolean consumes true, false or null (which leaves dst as it is).
func (r *jsonReader) boolean(dst *bool) bool {
	switch {
	case r.null():
	case r.literal("true"):
		*dst = true
	case r.literal("false"):
		*dst = false
	default:
		return false
	}
	return true
}

func (r *jsonReader) statusRef(s *statusRef) bool {
	return r.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return r.strOrNull(&s.ID)
		case "name":
			return r.strOrNull(&s.Name)
		case "statusCategory":
			if r.null() {
				return true
			}
			return r.object(func(k []byte) bool {
				if string(k) == "key" {
					return r.strOrNull(&s.StatusCategory.Key)
				}
				return unknown(k, "key") && r.skip()
			})
		}
		return unknown(k, "id", "name", "statusCategory") && r.skip()
	})
}

func (r *jsonReader) issueTypeRef(t *issueTypeRef) bool {
	return r.object(func(k []byte) bool {
		switch string(k) {
		case "name":
			return r.strOrNull(&t.Name)
		case "subtask":
			return r.boolean(&t.Subtask)
		case "hierarchyLevel":
			if r.null() {
				t.HierarchyLevel = nil
				return true
			}
			var n int
			t.HierarchyLevel = &n
			return r.intField(&n)
		}
		return unknown(k, "name", "subtask", "hierarchyLevel") && r.skip()
	})
}

func (r *jsonReader) projectRef(p *projectRef) bool {
	return r.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return r.strOrNull(&p.ID)
		case "key":
			return r.strOrNull(&p.Key)
		case "name":
			return r.strOrNull(&p.Name)
		}
		return unknown(k, "id", "key", "name") && r.skip()
	})
}

func (r *jsonReader) nameRef(n *nameRef) bool {
	return r.object(func(k []byte) bool {
		if string(k) == "name" {
			return r.strOrNull(&n.Name)
		}
		return unknown(k, "name") && r.skip()
	})
}

func (r *jsonReader) parentRef(p *parentRef) bool {
	return r.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return r.strOrNull(&p.ID)
		case "key":
			return r.strOrNull(&p.Key)
		case "fields":
			if r.null() {
				p.Fields = nil
				return true
			}
			p.Fields = &struct {
				IssueType *issueTypeRef `json:"issuetype"`
			}{}
			return r.object(func(k []byte) bool {
				if string(k) == "issuetype" {
					return optRef(r, &p.Fields.IssueType, (*jsonReader).issueTypeRef)
				}
				return unknown(k, "issuetype") && r.skip()
			})
		}
		return unknown(k, "id", "key", "fields") && r.skip()
	})
}

func (r *jsonReader) version(v *version) bool {
	return r.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return r.strOrNull(&v.ID)
		case "name":
			return r.strOrNull(&v.Name)
		case "released":
			return r.boolean(&v.Released)
		case "archived":
			return r.boolean(&v.Archived)
		case "releaseDate":
			return r.strOrNull(&v.ReleaseDate)
		case "startDate":
			return r.strOrNull(&v.StartDate)
		}
		return unknown(k, "id", "name", "released", "archived", "releaseDate", "startDate") && r.skip()
	})
}

func (r *jsonReader) worklogField(w *worklogField) bool {
	return r.object(func(k []byte) bool {
		switch string(k) {
		case "total":
			return r.intField(&w.Total)
		case "worklogs":
			return r.rawList(&w.Worklogs, 4)
		}
		return unknown(k, "total", "worklogs") && r.skip()
	})
}
