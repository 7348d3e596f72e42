package jsonscan

import (
	"encoding/json"
	"errors"
	"strconv"
)

// Scanner is a pull-style reader over one JSON document. It reads only the
// values its caller asks for and skips everything else without allocating,
// which is what makes tables of thousands of large stored objects cheap:
// encoding/json would build every field of every object first.
//
// Usage:
//
//	s := jsonscan.NewScanner(data)
//	if s.BeginObject() {
//		for key, ok := s.NextKey(); ok; key, ok = s.NextKey() {
//			switch string(key) { case "name": name = s.Str(); default: s.Skip() }
//		}
//	}
//	return s.Err()
//
// Every value-reading method consumes exactly one value; a value of an
// unexpected type is skipped and reads as the zero value. The first syntax
// error is kept (Err) and ends the scan.
type Scanner struct {
	b   []byte
	i   int
	err error
}

// NewScanner returns a Scanner at the start of b.
func NewScanner(b []byte) Scanner { return Scanner{b: b} }

// Err is the first syntax error met, or nil.
func (s *Scanner) Err() error { return s.err }

// Offset is the index in the input of the next byte to read.
func (s *Scanner) Offset() int { return s.i }

// Input is the document being scanned.
func (s *Scanner) Input() []byte { return s.b }

var errUnexpectedEnd = errors.New("unexpected end of JSON input")

func (s *Scanner) fail(err error) {
	if s.err == nil {
		s.err = err
	}
	s.i = len(s.b)
}

func (s *Scanner) failAt(msg string) {
	s.fail(errors.New("invalid JSON: " + msg + " at offset " + strconv.Itoa(s.i)))
}

// SkipSpace moves past whitespace, so that Offset is where the next value
// starts.
func (s *Scanner) SkipSpace() { s.i = skipWS(s.b, s.i) }

// peek returns the next non-space byte (0 at the end).
func (s *Scanner) peek() byte {
	s.SkipSpace()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// BeginObject consumes '{' and reports true; for null or any other value it
// consumes that value and reports false.
func (s *Scanner) BeginObject() bool {
	if s.peek() == '{' {
		s.i++
		return true
	}
	s.Skip()
	return false
}

// NextKey returns the next member name of the current object and consumes
// the ':' after it; it reports false (consuming '}') at the end of the object.
func (s *Scanner) NextKey() ([]byte, bool) {
	c := s.peek()
	if c == ',' {
		s.i++
		c = s.peek()
	}
	switch c {
	case '}':
		s.i++
		return nil, false
	case '"':
	default:
		if s.err == nil {
			if s.i >= len(s.b) {
				s.fail(errUnexpectedEnd)
			} else {
				s.failAt("expected object key")
			}
		}
		return nil, false
	}
	key := s.StrBytes()
	if s.peek() != ':' {
		s.failAt("expected ':'")
		return nil, false
	}
	s.i++
	return key, true
}

// BeginArray consumes '[' and reports true; for null or any other value it
// consumes that value and reports false.
func (s *Scanner) BeginArray() bool {
	if s.peek() == '[' {
		s.i++
		return true
	}
	s.Skip()
	return false
}

// NextElem reports whether another array element follows (the caller must
// then consume it), consuming ']' at the end.
func (s *Scanner) NextElem() bool {
	c := s.peek()
	if c == ',' {
		s.i++
		c = s.peek()
	}
	switch c {
	case ']':
		s.i++
		return false
	case 0:
		s.fail(errUnexpectedEnd)
		return false
	}
	return true
}

// strEnd returns the index of the closing quote of the string whose opening
// quote is at s.b[start-1], or -1. Most strings in objects are short, where a
// plain loop beats bytes.IndexByte's call overhead.
func (s *Scanner) strEnd(start int) int {
	b := s.b
	for i := start; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i
		case '\\':
			i++
		}
	}
	return -1
}

// StrBytes reads a string value. Without escapes the result aliases the
// input. null and non-strings read as nil.
func (s *Scanner) StrBytes() []byte {
	if s.peek() != '"' {
		s.Skip()
		return nil
	}
	start := s.i + 1
	end := s.strEnd(start)
	if end < 0 {
		s.fail(errUnexpectedEnd)
		return nil
	}
	s.i = end + 1
	if !hasEscape(s.b[start:end]) {
		return s.b[start:end]
	}
	var out string
	if err := json.Unmarshal(s.b[start-1:end+1], &out); err != nil {
		s.fail(err)
		return nil
	}
	return []byte(out)
}

// Str reads a string value; null and non-strings read as "".
func (s *Scanner) Str() string {
	b := s.StrBytes()
	if len(b) == 0 {
		return ""
	}
	return string(b)
}

// Number returns the raw bytes of a number value (nil for anything else).
func (s *Scanner) Number() []byte {
	c := s.peek()
	if c != '-' && (c < '0' || c > '9') {
		s.Skip()
		return nil
	}
	start := s.i
	s.skipScalar()
	return s.b[start:s.i]
}

// Int reads an integer; floats are truncated, anything else reads as 0.
func (s *Scanner) Int() int64 {
	n := s.Number()
	if n == nil {
		return 0
	}
	if v, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return v
	}
	if f, err := strconv.ParseFloat(string(n), 64); err == nil {
		return int64(f)
	}
	return 0
}

// Bool reads true/false; anything else reads as false.
func (s *Scanner) Bool() bool {
	switch s.peek() {
	case 't':
		s.skipScalar()
		return true
	default:
		s.Skip()
		return false
	}
}

// IsNull consumes a null and reports true, or reports false consuming
// nothing.
func (s *Scanner) IsNull() bool {
	if s.peek() == 'n' {
		s.skipScalar()
		return true
	}
	return false
}

// Raw consumes one value and returns its byte span in the input.
func (s *Scanner) Raw() (start, end int) {
	s.SkipSpace()
	start = s.i
	s.Skip()
	return start, s.i
}

func (s *Scanner) skipScalar() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\n', '\t', '\r', ':':
			return
		}
		s.i++
	}
}

// Skip consumes one value of any type.
func (s *Scanner) Skip() {
	switch s.peek() {
	case 0:
		if s.i >= len(s.b) {
			s.fail(errUnexpectedEnd)
		}
	case '"':
		end := s.strEnd(s.i + 1)
		if end < 0 {
			s.fail(errUnexpectedEnd)
			return
		}
		s.i = end + 1
	case '{', '[':
		s.skipContainer()
	case '}', ']', ',', ':':
		s.failAt("unexpected character")
	default:
		start := s.i
		s.skipScalar()
		if s.i == start {
			s.failAt("unexpected character")
		}
	}
}

func (s *Scanner) skipContainer() {
	depth := 0
	b := s.b
	for i := s.i; i < len(b); i++ {
		switch b[i] {
		case '"':
			end := s.strEnd(i + 1)
			if end < 0 {
				s.fail(errUnexpectedEnd)
				return
			}
			i = end
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.i = i + 1
				return
			}
		}
	}
	s.fail(errUnexpectedEnd)
}

// CountMembers consumes an object and returns how many members it has
// (0 for null or a non-object).
func (s *Scanner) CountMembers() int {
	n := 0
	if s.BeginObject() {
		for _, ok := s.NextKey(); ok; _, ok = s.NextKey() {
			s.Skip()
			n++
		}
	}
	return n
}

// CountElems consumes an array and returns its length (0 for null or a
// non-array).
func (s *Scanner) CountElems() int {
	n := 0
	if s.BeginArray() {
		for s.NextElem() {
			s.Skip()
			n++
		}
	}
	return n
}

func hasEscape(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}
