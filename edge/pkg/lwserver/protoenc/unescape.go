package protoenc

import (
	"unicode/utf16"
	"unicode/utf8"
)

// unescape appends the content of a JSON string (without its quotes) to
// dst, decoded as encoding/json decodes it: escapes resolved, UTF-16
// surrogate pairs joined, and invalid UTF-8 or lone surrogates replaced by
// U+FFFD. ok is false for a malformed escape.
func unescape(dst, s []byte) ([]byte, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return dst, false
			}
			if r := simpleEscape(s[i+1]); r != 0 {
				dst = append(dst, r)
				i += 2
				continue
			}
			if s[i+1] != 'u' {
				return dst, false
			}
			r, n := unicodeEscape(s[i:])
			if n == 0 {
				return dst, false
			}
			dst = utf8.AppendRune(dst, r)
			i += n
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, r) // RuneError for invalid bytes
			i += size
		}
	}
	return dst, true
}

func simpleEscape(c byte) byte {
	switch c {
	case '"', '\\', '/':
		return c
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return 0
}

// unicodeEscape decodes \uXXXX (and a following low surrogate) at s; n is
// the bytes used, 0 if malformed.
func unicodeEscape(s []byte) (rune, int) {
	r := hex4(s)
	if r < 0 {
		return 0, 0
	}
	if !utf16.IsSurrogate(r) {
		return r, 6
	}
	if r2 := hex4(s[6:]); r2 >= 0 && len(s) >= 12 && s[6] == '\\' {
		if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
			return dec, 12
		}
	}
	return utf8.RuneError, 6
}

// hex4 reads the XXXX of \uXXXX at s (-1 if malformed).
func hex4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
