package jiratest

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// requestError is a problem with a request (often its JQL), reported as a
// 400 with its message.
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

func syntaxErr(format string, args ...any) error {
	return &requestError{"Error in the JQL Query: " + fmt.Sprintf(format, args...)}
}

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tString
	tOp
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	text string
	pos  int // 1-based character
}

func (t token) is(word string) bool { return t.kind == tWord && strings.EqualFold(t.text, word) }

func (t token) show() string {
	if t.kind == tEOF {
		return "end of the query"
	}
	return "'" + t.text + "'"
}

func lexJQL(src string) ([]token, error) {
	var toks []token
	rs := []rune(src)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			i++
		case r == '(':
			toks = append(toks, token{tLParen, "(", i + 1})
			i++
		case r == ')':
			toks = append(toks, token{tRParen, ")", i + 1})
			i++
		case r == ',':
			toks = append(toks, token{tComma, ",", i + 1})
			i++
		case r == '"' || r == '\'':
			j := i + 1
			var b strings.Builder
			for j < len(rs) && rs[j] != r {
				if rs[j] == '\\' && j+1 < len(rs) {
					j++
				}
				b.WriteRune(rs[j])
				j++
			}
			if j >= len(rs) {
				return nil, syntaxErr("The quoted string '%s' has not been completed. (line 1, character %d)", b.String(), i+1)
			}
			toks = append(toks, token{tString, b.String(), i + 1})
			i = j + 1
		case strings.ContainsRune("=!<>~", r):
			j := i + 1
			if j < len(rs) && rs[j] == '=' || (r == '!' && j < len(rs) && rs[j] == '~') {
				j++
			}
			op := string(rs[i:j])
			if op == "!" {
				return nil, syntaxErr("Expecting operator but got '!'. (line 1, character %d)", i+1)
			}
			toks = append(toks, token{tOp, op, i + 1})
			i = j
		default:
			j := i
			for j < len(rs) && !strings.ContainsRune(" \t\n\r(),\"'=!<>~", rs[j]) {
				j++
			}
			toks = append(toks, token{tWord, string(rs[i:j]), i + 1})
			i = j
		}
	}
	return append(toks, token{kind: tEOF, pos: len(rs) + 1}), nil
}

// jqlNode is a parsed JQL condition.
type jqlNode interface {
	match(is *Issue) bool
}

type andNode []jqlNode

func (n andNode) match(is *Issue) bool {
	for _, c := range n {
		if !c.match(is) {
			return false
		}
	}
	return true
}

type orNode []jqlNode

func (n orNode) match(is *Issue) bool {
	for _, c := range n {
		if c.match(is) {
			return true
		}
	}
	return false
}

type clause struct {
	field  string // canonical
	op     string // = != > >= < <= in notin is isnot
	values []string
	times  []time.Time // date fields
	nums   []int64     // id
	empty  bool        // IS EMPTY / = EMPTY
}

type sortKey struct {
	field string
	desc  bool
}

type jqlQuery struct {
	where jqlNode // nil: unbounded
	order []sortKey
}

var jqlFields = map[string]string{
	"project": "project", "key": "key", "issuekey": "key", "id": "id",
	"updated": "updated", "updateddate": "updated", "created": "created", "createddate": "created",
	"resolved": "resolutiondate", "resolutiondate": "resolutiondate",
	"status": "status", "issuetype": "issuetype", "type": "issuetype", "resolution": "resolution",
	"parent": "parent",
}

type jqlParser struct {
	toks []token
	i    int
	s    *Server
}

func (p *jqlParser) peek() token { return p.toks[p.i] }
func (p *jqlParser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// parseJQL parses src against the server's data.
func (s *Server) parseJQL(src string) (*jqlQuery, error) {
	toks, err := lexJQL(src)
	if err != nil {
		return nil, err
	}
	p := &jqlParser{toks: toks, s: s}
	q := &jqlQuery{}
	if !p.peek().is("order") && p.peek().kind != tEOF {
		if q.where, err = p.or(); err != nil {
			return nil, err
		}
	}
	if t := p.peek(); t.is("order") {
		p.next()
		if !p.next().is("by") {
			return nil, syntaxErr("Expecting 'BY' but got %s. (line 1, character %d)", p.toks[p.i-1].show(), p.toks[p.i-1].pos)
		}
		for {
			f := p.next()
			if f.kind != tWord && f.kind != tString {
				return nil, syntaxErr("Expecting a field name but got %s. (line 1, character %d)", f.show(), f.pos)
			}
			name := strings.ToLower(f.text)
			switch name {
			case "issuekey":
				name = "key"
			case "updateddate":
				name = "updated"
			case "createddate":
				name = "created"
			}
			if name != "updated" && name != "created" && name != "key" && name != "id" {
				return nil, &requestError{fmt.Sprintf("Not able to sort using field '%s'.", f.text)}
			}
			k := sortKey{field: name}
			if t := p.peek(); t.is("asc") || t.is("desc") {
				k.desc = p.next().is("desc")
			}
			q.order = append(q.order, k)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if t := p.peek(); t.kind != tEOF {
		if t.kind == tRParen {
			return nil, syntaxErr("Expecting either 'OR' or 'AND' but got ')'. (line 1, character %d)", t.pos)
		}
		return nil, syntaxErr("Expecting either 'OR' or 'AND' but got %s. (line 1, character %d)", t.show(), t.pos)
	}
	return q, nil
}

func (p *jqlParser) or() (jqlNode, error) {
	var nodes orNode
	for {
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
		if !p.peek().is("or") {
			break
		}
		p.next()
	}
	if len(nodes) == 1 {
		return nodes[0], nil
	}
	return nodes, nil
}

func (p *jqlParser) and() (jqlNode, error) {
	var nodes andNode
	for {
		n, err := p.term()
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
		if !p.peek().is("and") {
			break
		}
		p.next()
	}
	if len(nodes) == 1 {
		return nodes[0], nil
	}
	return nodes, nil
}

func (p *jqlParser) term() (jqlNode, error) {
	if p.peek().kind == tLParen {
		p.next()
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tRParen {
			if t.kind == tEOF {
				return nil, syntaxErr("Expecting ')' before the end of the query.")
			}
			return nil, syntaxErr("Expecting ')' but got %s. (line 1, character %d)", t.show(), t.pos)
		}
		return n, nil
	}
	return p.clause()
}

func (p *jqlParser) clause() (jqlNode, error) {
	f := p.next()
	if f.kind != tWord && f.kind != tString {
		if f.kind == tEOF {
			return nil, syntaxErr("Expecting a field name before the end of the query.")
		}
		return nil, syntaxErr("Expecting a field name but got %s. (line 1, character %d)", f.show(), f.pos)
	}
	field, known := jqlFields[strings.ToLower(f.text)]
	if !known {
		return nil, &requestError{fmt.Sprintf("Field '%s' does not exist or you do not have permission to view it.", f.text)}
	}
	c := &clause{field: field}
	opTok := p.next()
	switch {
	case opTok.kind == tOp && opTok.text != "~" && opTok.text != "!~":
		c.op = opTok.text
	case opTok.is("in"):
		c.op = "in"
	case opTok.is("not"):
		if !p.next().is("in") {
			return nil, syntaxErr("Expecting 'IN' after 'NOT'. (line 1, character %d)", opTok.pos)
		}
		c.op = "notin"
	case opTok.is("is"):
		c.op = "is"
		if p.peek().is("not") {
			p.next()
			c.op = "isnot"
		}
	default:
		if opTok.kind == tEOF {
			return nil, syntaxErr("Expecting operator before the end of the query. The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'.")
		}
		return nil, syntaxErr("Expecting operator but got %s. The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'. (line 1, character %d)", opTok.show(), opTok.pos)
	}
	if c.op == "in" || c.op == "notin" {
		if t := p.next(); t.kind != tLParen {
			return nil, syntaxErr("Expecting '(' but got %s. (line 1, character %d)", t.show(), t.pos)
		}
		for {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			c.values = append(c.values, v)
			t := p.next()
			if t.kind == tRParen {
				break
			}
			if t.kind != tComma {
				if t.kind == tEOF {
					return nil, syntaxErr("Expecting ')' before the end of the query.")
				}
				return nil, syntaxErr("Expecting ',' or ')' but got %s. (line 1, character %d)", t.show(), t.pos)
			}
		}
	} else {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		c.values = []string{v}
	}
	return c, p.check(c)
}

func (p *jqlParser) value() (string, error) {
	t := p.next()
	switch t.kind {
	case tWord, tString:
		if t.kind == tWord && p.peek().kind == tLParen {
			return "", &requestError{fmt.Sprintf("Unable to find JQL function '%s()'.", t.text)}
		}
		return t.text, nil
	case tEOF:
		return "", syntaxErr("Expecting either a value, list or function before the end of the query.")
	}
	return "", syntaxErr("Expecting either a value, list or function but got %s. (line 1, character %d)", t.show(), t.pos)
}

func isEmptyWord(v string) bool {
	return strings.EqualFold(v, "empty") || strings.EqualFold(v, "null")
}

// check validates a clause's operator and values, and pre-parses them.
func (p *jqlParser) check(c *clause) error {
	s := p.s
	ordered := c.op == ">" || c.op == ">=" || c.op == "<" || c.op == "<="
	if c.op == "is" || c.op == "isnot" {
		if !isEmptyWord(c.values[0]) {
			return syntaxErr("Expecting 'EMPTY' but got '%s'.", c.values[0])
		}
		c.empty = true
		return nil
	}
	if len(c.values) == 1 && isEmptyWord(c.values[0]) && (c.op == "=" || c.op == "!=") {
		c.empty = true
		return nil
	}
	switch c.field {
	case "updated", "created", "resolutiondate":
		for _, v := range c.values {
			t, ok := s.jqlDate(v)
			if !ok {
				return &requestError{fmt.Sprintf("Date value '%s' for field '%s' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.", v, c.field)}
			}
			c.times = append(c.times, t)
		}
	case "id":
		for _, v := range c.values {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return &requestError{fmt.Sprintf("The issue key '%s' for field 'id' is invalid.", v)}
			}
			c.nums = append(c.nums, n)
		}
	case "parent":
		if ordered {
			return syntaxErr("The operator '%s' is not supported by the 'parent' field.", c.op)
		}
		for _, v := range c.values {
			if s.lookup(v) == nil {
				return &requestError{fmt.Sprintf("An issue with key '%s' does not exist for field 'parent'.", v)}
			}
		}
	case "key":
		for _, v := range c.values {
			if _, _, ok := splitKey(v); !ok {
				if _, err := strconv.ParseInt(v, 10, 64); err != nil {
					return &requestError{fmt.Sprintf("The issue key '%s' for field 'key' is invalid.", v)}
				}
				continue
			}
			if !ordered && s.lookup(v) == nil {
				return &requestError{fmt.Sprintf("An issue with key '%s' does not exist for field 'key'.", v)}
			}
		}
	default:
		if ordered {
			return syntaxErr("The operator '%s' is not supported by the '%s' field.", c.op, c.field)
		}
		for _, v := range c.values {
			if !s.knownValue(c.field, v) {
				return &requestError{fmt.Sprintf("The value '%s' does not exist for the field '%s'.", v, c.field)}
			}
		}
	}
	return nil
}

func (s *Server) knownValue(field, v string) bool {
	var list []Object
	switch field {
	case "project":
		list = s.data.Projects
	case "status":
		list = s.data.Statuses
	case "resolution":
		if strings.EqualFold(v, "unresolved") {
			return true
		}
		list = s.data.Resolutions
	default:
		return true
	}
	if len(list) == 0 {
		return true
	}
	for _, o := range list {
		if nameMatches(o, v) {
			return true
		}
	}
	return false
}

// nameMatches reports whether v names o by id, key or name.
func nameMatches(o Object, v string) bool {
	for _, k := range []string{"id", "key", "name"} {
		if s, ok := o[k].(string); ok && strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

// jqlDate parses a JQL date literal in the server's JQL zone.
func (s *Server) jqlDate(v string) (time.Time, bool) {
	for _, l := range []string{"2006-01-02 15:04", "2006/01/02 15:04", "2006-01-02", "2006/01/02"} {
		if t, err := time.ParseInLocation(l, v, s.opt.JQLLocation); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(n), true
	}
	if len(v) >= 2 {
		units := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
		if u, ok := units[v[len(v)-1]]; ok {
			if n, err := strconv.Atoi(v[:len(v)-1]); err == nil {
				return s.opt.Now().Add(time.Duration(n) * u), true
			}
		}
	}
	return time.Time{}, false
}

// splitKey splits "ABC-12" into its project key and number.
func splitKey(k string) (string, int64, bool) {
	i := strings.LastIndexByte(k, '-')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.ParseInt(k[i+1:], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return strings.ToUpper(k[:i]), n, true
}

func cmpKey(a, b string) int {
	pa, na, _ := splitKey(a)
	pb, nb, _ := splitKey(b)
	return cmp.Or(strings.Compare(pa, pb), cmp.Compare(na, nb))
}

func fieldObj(is *Issue, f string) Object {
	o, _ := is.Fields[f].(Object)
	return o
}

func issueTime(is *Issue, f string) (time.Time, bool) { return parseTime(is.Fields[f]) }

func idNum(is *Issue) int64 {
	n, _ := strconv.ParseInt(is.ID, 10, 64)
	return n
}

func compare(c int, op string) bool {
	switch op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	}
	return false
}

func (c *clause) match(is *Issue) bool {
	if c.empty {
		var present bool
		switch c.field {
		case "updated", "created", "resolutiondate", "project", "status", "issuetype", "resolution", "parent":
			present = is.Fields[c.field] != nil
		default:
			present = true
		}
		if c.op == "is" || c.op == "=" {
			return !present
		}
		return present
	}
	var hit func(i int) int // 0 when equal, sign for ordering
	switch c.field {
	case "updated", "created", "resolutiondate":
		t, ok := issueTime(is, c.field)
		if !ok {
			return false
		}
		hit = func(i int) int { return t.Compare(c.times[i]) }
	case "id":
		n := idNum(is)
		hit = func(i int) int { return cmp.Compare(n, c.nums[i]) }
	case "key":
		hit = func(i int) int {
			v := c.values[i]
			if _, err := strconv.ParseInt(v, 10, 64); err == nil {
				n, _ := strconv.ParseInt(v, 10, 64)
				return cmp.Compare(idNum(is), n)
			}
			pa, _, _ := splitKey(is.Key)
			pb, _, _ := splitKey(v)
			if pa != pb && c.op != "=" && c.op != "!=" && c.op != "in" && c.op != "notin" {
				return 2 // different project: never in range
			}
			return cmpKey(is.Key, v)
		}
	case "parent":
		p := fieldObj(is, "parent")
		hit = func(i int) int {
			if p != nil && (strings.EqualFold(fmt.Sprint(p["key"]), c.values[i]) || fmt.Sprint(p["id"]) == c.values[i]) {
				return 0
			}
			return 1
		}
	case "resolution":
		o := fieldObj(is, c.field)
		hit = func(i int) int {
			if strings.EqualFold(c.values[i], "unresolved") {
				if o == nil {
					return 0
				}
				return 1
			}
			if o != nil && nameMatches(o, c.values[i]) {
				return 0
			}
			return 1
		}
	default: // project, status, issuetype
		o := fieldObj(is, c.field)
		hit = func(i int) int {
			if o != nil && nameMatches(o, c.values[i]) {
				return 0
			}
			return 1
		}
	}
	switch c.op {
	case "in", "notin":
		found := false
		for i := range c.values {
			if hit(i) == 0 {
				found = true
				break
			}
		}
		return found == (c.op == "in")
	case ">", ">=", "<", "<=":
		h := hit(0)
		return h != 2 && compare(h, c.op)
	}
	return compare(hit(0), c.op)
}

// keysetBound reports whether q is a keyset query: ordered by id ascending
// (or not ordered: id order is the default) with an id lower bound that
// every match must pass (an `id > N` or `id >= N` joined by AND at the top);
// after is the highest id excluded.
func (q *jqlQuery) keysetBound() (after int64, ok bool) {
	if len(q.order) > 1 || len(q.order) == 1 && (q.order[0].field != "id" || q.order[0].desc) {
		return 0, false
	}
	var walk func(n jqlNode)
	walk = func(n jqlNode) {
		switch n := n.(type) {
		case andNode:
			for _, c := range n {
				walk(c)
			}
		case *clause:
			if n.field != "id" || len(n.nums) != 1 {
				return
			}
			b := int64(-1)
			switch n.op {
			case ">":
				b = n.nums[0]
			case ">=":
				b = n.nums[0] - 1
			}
			if b >= 0 && (!ok || b > after) {
				after, ok = b, true
			}
		}
	}
	walk(q.where)
	return after, ok
}

// matchAfter returns the first n visible issues matching q with an id above
// after, in id order: a keyset page as an index serves it, reading only
// from the bound on.
func (s *Server) matchAfter(q *jqlQuery, after int64, n int) []*Issue {
	if s.idOrder == nil {
		s.idOrder = slices.Clone(s.data.Issues)
		slices.SortStableFunc(s.idOrder, func(a, b *Issue) int { return cmp.Compare(idNum(a), idNum(b)) })
	}
	i, _ := slices.BinarySearchFunc(s.idOrder, after+1, func(is *Issue, t int64) int { return cmp.Compare(idNum(is), t) })
	var out []*Issue
	for ; i < len(s.idOrder) && len(out) < n; i++ {
		if is := s.idOrder[i]; !is.Deleted && q.where.match(is) {
			out = append(out, is)
		}
	}
	return out
}

// matchAndSort returns the visible issues matching q, sorted.
func (s *Server) matchAndSort(q *jqlQuery) []*Issue {
	var out []*Issue
	for _, is := range s.data.Issues {
		if !is.Deleted && (q.where == nil || q.where.match(is)) {
			out = append(out, is)
		}
	}
	if len(q.order) == 0 {
		slices.SortStableFunc(out, func(a, b *Issue) int { return cmp.Compare(idNum(a), idNum(b)) })
		return out
	}
	type keyed struct {
		is         *Issue
		upd, creat time.Time
	}
	ks := make([]keyed, len(out))
	for i, is := range out {
		ks[i].is = is
		ks[i].upd, _ = issueTime(is, "updated")
		ks[i].creat, _ = issueTime(is, "created")
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		for _, k := range q.order {
			var c int
			switch k.field {
			case "updated":
				c = a.upd.Compare(b.upd)
			case "created":
				c = a.creat.Compare(b.creat)
			case "key":
				c = cmpKey(a.is.Key, b.is.Key)
			case "id":
				c = cmp.Compare(idNum(a.is), idNum(b.is))
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(idNum(a.is), idNum(b.is))
	})
	for i := range ks {
		out[i] = ks[i].is
	}
	return out
}
