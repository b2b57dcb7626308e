package csv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// fileScan is what a byte-level pass over a CSV file found: whether DuckDB's
// read_csv reads it record for record as encoding/csv does (then the bulk
// path may hand it to the warehouse), and where each record starts.
type fileScan struct {
	fields      int     // the header's fields
	headerLines int     // lines the header takes
	records     int     // data records
	lines       []int32 // start line of each data record; nil when record i starts on headerLines+1+i
	maxRecord   int     // longest record, bytes
	padded      []bool  // by field index: some value may start or end with a space
	// unclean says why the file must go through encoding/csv (a record the
	// row-by-row path reports as a problem, or one the two readers would
	// read differently); "" when clean.
	unclean string
}

// scanCSV reads path once. It follows encoding/csv (comma, double quotes,
// no lazy quotes, blank lines skipped, CR LF as LF) and marks unclean what
// encoding/csv rejects or reads differently from DuckDB: a bare or stray
// quote, an unterminated quoted field, a record whose field count differs
// from the header's, a carriage return not ending a line or inside a quoted
// field, mixed line endings, invalid UTF-8, a header over several lines.
func scanCSV(path string) (fileScan, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileScan{}, fmt.Errorf("csv source: %w", err)
	}
	defer f.Close()
	var s scanner
	s.init()
	buf := make([]byte, 1<<20)
	var carry []byte // an incomplete UTF-8 sequence at the end of the last chunk
	for s.out.unclean == "" {
		n, err := f.Read(buf[len(carry):])
		chunk := buf[:len(carry)+n]
		if n > 0 {
			end := len(chunk)
			if err == nil {
				end = utf8Prefix(chunk)
			}
			if !utf8.Valid(chunk[:end]) {
				s.fail("invalid UTF-8")
				break
			}
			s.feed(chunk[len(carry):])
			carry = append(carry[:0], chunk[end:]...)
			copy(buf, carry)
		}
		if errors.Is(err, io.EOF) {
			if len(carry) > 0 {
				s.fail("invalid UTF-8")
			}
			break
		}
		if err != nil {
			return fileScan{}, fmt.Errorf("read %s: %w", path, err)
		}
	}
	s.finish()
	return s.out, nil
}

// utf8Prefix is the length of b without a rune cut at its end.
func utf8Prefix(b []byte) int {
	for i := 1; i <= 3 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < 0x80 {
			return len(b)
		}
		if c >= 0xC0 { // a leading byte: is its sequence complete?
			want := 2
			if c >= 0xF0 {
				want = 4
			} else if c >= 0xE0 {
				want = 3
			}
			if i < want {
				return len(b) - i
			}
			return len(b)
		}
	}
	return len(b)
}

type scanState uint8

const (
	fieldStart scanState = iota
	unquoted
	quoted
	quoteInQuoted // a quote inside a quoted field: escape or end
)

type scanner struct {
	out       fileScan
	state     scanState
	pendingCR bool
	line      int // current line
	recStart  int // line the current record starts on
	recFields int // fields ended in the current record
	recBytes  int
	recEmpty  bool // nothing but the line end so far
	fieldLen  int  // bytes of the current field's value
	first     byte // its first and last byte
	last      byte
	header    bool // the header is read
	crlf, lf  bool // line endings seen
}

func (s *scanner) init() {
	s.line, s.recStart, s.recEmpty = 1, 1, true
}

func (s *scanner) fail(why string) {
	if s.out.unclean == "" {
		s.out.unclean = why
	}
}

// plain marks the bytes that need no decision inside an unquoted field.
var plain = func() (t [256]bool) {
	for i := range t {
		t[i] = true
	}
	for _, c := range []byte{',', '\n', '\r', '"'} {
		t[c] = false
	}
	return t
}()

func (s *scanner) feed(b []byte) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if s.out.unclean != "" {
			return
		}
		if s.state == unquoted && plain[c] && !s.pendingCR {
			// Fast path: the rest of the field's plain bytes at once.
			j := i + 1
			for j < len(b) && plain[b[j]] {
				j++
			}
			s.recBytes += j - i
			s.fieldLen += j - i
			s.last = b[j-1]
			i = j - 1
			continue
		}
		s.recBytes++
		if s.pendingCR {
			s.pendingCR = false
			if c != '\n' {
				s.fail(fmt.Sprintf("line %d: carriage return without a line feed", s.line))
				return
			}
			if s.state == quoted {
				s.fail(fmt.Sprintf("line %d: CR LF inside a quoted field", s.line))
				return
			}
			s.crlf = true
			s.newline()
			continue
		}
		if s.state != quoted { // separators outside quotes
			switch c {
			case ',':
				s.endField()
				s.state, s.recEmpty = fieldStart, false
				continue
			case '\n':
				s.lf = true
				s.newline()
				continue
			case '\r':
				s.pendingCR = true
				continue
			}
		}
		switch s.state {
		case fieldStart:
			if c == '"' {
				s.state, s.recEmpty = quoted, false
			} else {
				s.state, s.recEmpty = unquoted, false
				s.content(c)
			}
		case unquoted:
			if c == '"' {
				s.fail(fmt.Sprintf("line %d: bare quote in an unquoted field", s.line))
			} else {
				s.content(c)
			}
		case quoted:
			switch c {
			case '"':
				s.state = quoteInQuoted
			case '\n':
				s.line++
				s.content(c)
			case '\r':
				s.pendingCR = true
			default:
				s.content(c)
			}
		case quoteInQuoted:
			if c == '"' {
				s.state = quoted
				s.content(c)
			} else {
				s.fail(fmt.Sprintf("line %d: extraneous quote in a quoted field", s.line))
			}
		}
	}
}

// content records a byte of the current field's value.
func (s *scanner) content(c byte) {
	if s.fieldLen == 0 {
		s.first = c
	}
	s.last = c
	s.fieldLen++
}

// endField ends the current field: a value that may start or end with a
// space strings.TrimSpace removes marks its column as padded.
func (s *scanner) endField() {
	if s.fieldLen > 0 && (padStart(s.first) || padEnd(s.last)) {
		for len(s.out.padded) <= s.recFields {
			s.out.padded = append(s.out.padded, false)
		}
		s.out.padded[s.recFields] = true
	}
	s.fieldLen = 0
	s.recFields++
}

func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// padStart: c may begin a space (ASCII, or the lead byte of U+0085,
// U+00A0, U+1680, U+2000–U+205F, U+3000).
func padStart(c byte) bool {
	return isASCIISpace(c) || c == 0xC2 || c == 0xE1 || c == 0xE2 || c == 0xE3
}

// padEnd: c may end a space (any byte of a multi-byte sequence counts).
func padEnd(c byte) bool { return isASCIISpace(c) || c >= 0x80 }

// newline ends a line outside quotes: a record, or a skipped blank line.
func (s *scanner) newline() {
	s.line++
	if s.recEmpty && s.recFields == 0 {
		s.recStart, s.recBytes = s.line, 0 // blank line, skipped
		return
	}
	s.endRecord()
}

func (s *scanner) endRecord() {
	if !s.header {
		s.fieldLen = 0 // the header's values are not data
	}
	s.endField()
	fields := s.recFields
	if !s.header {
		s.header = true
		s.out.fields = fields
		s.out.padded = nil
		s.out.headerLines = s.line - s.recStart
		if s.recStart != 1 || s.out.headerLines != 1 {
			s.fail("the header is not on line 1 alone")
		}
	} else {
		if fields != s.out.fields {
			s.fail(fmt.Sprintf("line %d: %d fields, header has %d", s.recStart, fields, s.out.fields))
		}
		want := s.out.headerLines + 1 + s.out.records
		if s.out.lines == nil && s.recStart != want {
			s.out.lines = make([]int32, s.out.records, s.out.records+1024)
			for i := range s.out.lines {
				s.out.lines[i] = int32(s.out.headerLines + 1 + i)
			}
		}
		if s.out.lines != nil {
			s.out.lines = append(s.out.lines, int32(s.recStart))
		}
		s.out.records++
	}
	s.out.maxRecord = max(s.out.maxRecord, s.recBytes)
	s.state, s.recFields, s.recBytes, s.recEmpty = fieldStart, 0, 0, true
	s.recStart = s.line
}

func (s *scanner) finish() {
	if s.out.unclean != "" {
		return
	}
	switch {
	case s.pendingCR:
		s.fail(fmt.Sprintf("line %d: carriage return at the end of the file", s.line))
	case s.state == quoted:
		s.fail(fmt.Sprintf("line %d: quoted field not closed", s.recStart))
	case !s.recEmpty || s.recFields > 0 || s.fieldLen > 0:
		s.line++ // the last record has no line end
		s.endRecord()
	}
	if s.crlf && s.lf {
		s.fail("mixed CR LF and LF line ends")
	}
	if !s.header {
		s.fail("empty file")
	}
}
