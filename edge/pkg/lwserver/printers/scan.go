package printers

import (
	"encoding/json"
	"errors"
	"strconv"
)

// scanner is a minimal pull-style JSON reader over stored object bytes. It
// reads only the fields a printer asks for and skips everything else without
// allocating, which is what makes tables of thousands of large objects cheap:
// encoding/json would build every field of every object first.
//
// Usage:
//
//	if s.beginObject() {
//		for key, ok := s.nextKey(); ok; key, ok = s.nextKey() {
//			switch string(key) { case "name": name = s.str(); default: s.skip() }
//		}
//	}
//
// Every value-reading method consumes exactly one value; a value of an
// unexpected type is skipped and reads as the zero value. The first syntax
// error is kept in err and ends the scan.
type scanner struct {
	b   []byte
	i   int
	err error
}

var errUnexpectedEnd = errors.New("unexpected end of JSON input")

func (s *scanner) fail(err error) {
	if s.err == nil {
		s.err = err
	}
	s.i = len(s.b)
}

func (s *scanner) failAt(msg string) {
	s.fail(errors.New("invalid JSON: " + msg + " at offset " + strconv.Itoa(s.i)))
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\n', '\t', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end).
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// beginObject consumes '{' and reports true; for null or any other value it
// consumes that value and reports false.
func (s *scanner) beginObject() bool {
	if s.peek() == '{' {
		s.i++
		return true
	}
	s.skip()
	return false
}

// nextKey returns the next member name of the current object and consumes the
// ':' after it; it reports false (consuming '}') at the end of the object.
func (s *scanner) nextKey() ([]byte, bool) {
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
	key := s.strBytes()
	if s.peek() != ':' {
		s.failAt("expected ':'")
		return nil, false
	}
	s.i++
	return key, true
}

// beginArray consumes '[' and reports true; for null or any other value it
// consumes that value and reports false.
func (s *scanner) beginArray() bool {
	if s.peek() == '[' {
		s.i++
		return true
	}
	s.skip()
	return false
}

// nextElem reports whether another array element follows (the caller must then
// consume it), consuming ']' at the end.
func (s *scanner) nextElem() bool {
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
func (s *scanner) strEnd(start int) int {
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

// strBytes reads a string value. Without escapes the result aliases the input.
// null and non-strings read as nil.
func (s *scanner) strBytes() []byte {
	if s.peek() != '"' {
		s.skip()
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

// str reads a string value; null and non-strings read as "".
func (s *scanner) str() string {
	b := s.strBytes()
	if len(b) == 0 {
		return ""
	}
	return string(b)
}

// number returns the raw bytes of a number value (nil for anything else).
func (s *scanner) number() []byte {
	c := s.peek()
	if c != '-' && (c < '0' || c > '9') {
		s.skip()
		return nil
	}
	start := s.i
	s.skipScalar()
	return s.b[start:s.i]
}

// int reads an integer; floats are truncated, anything else reads as 0.
func (s *scanner) int() int64 {
	n := s.number()
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

// boolean reads true/false; anything else reads as false.
func (s *scanner) boolean() bool {
	switch s.peek() {
	case 't':
		s.skipScalar()
		return true
	default:
		s.skip()
		return false
	}
}

// isNull consumes a null and reports true, or reports false consuming nothing.
func (s *scanner) isNull() bool {
	if s.peek() == 'n' {
		s.skipScalar()
		return true
	}
	return false
}

// raw consumes one value and returns its byte span.
func (s *scanner) raw() (int, int) {
	s.ws()
	start := s.i
	s.skip()
	return start, s.i
}

func (s *scanner) skipScalar() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\n', '\t', '\r', ':':
			return
		}
		s.i++
	}
}

// skip consumes one value of any type.
func (s *scanner) skip() {
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

func (s *scanner) skipContainer() {
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

// countMembers consumes an object and returns how many members it has
// (0 for null or a non-object).
func (s *scanner) countMembers() int {
	n := 0
	if s.beginObject() {
		for _, ok := s.nextKey(); ok; _, ok = s.nextKey() {
			s.skip()
			n++
		}
	}
	return n
}

// countElems consumes an array and returns its length (0 for null or a
// non-array).
func (s *scanner) countElems() int {
	n := 0
	if s.beginArray() {
		for s.nextElem() {
			s.skip()
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
