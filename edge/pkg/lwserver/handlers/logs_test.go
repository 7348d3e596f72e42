package handlers

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseCRI(t *testing.T) {
	for _, tc := range []struct {
		line, text string
		full, bad  bool
	}{
		{line: "2026-01-02T03:04:05.123456789Z stdout F hello world", text: "hello world", full: true},
		{line: "2026-01-02T03:04:05Z stderr P part", text: "part"},
		{line: "2026-01-02T03:04:05Z stdout F ", text: "", full: true},
		{line: "2026-01-02T03:04:05Z stdout F", text: "", full: true},
		{line: "not-a-time stdout F x", bad: true},
		{line: "2026-01-02T03:04:05Z stdin F x", bad: true},
		{line: "", bad: true},
	} {
		rec, err := parseCRI([]byte(tc.line))
		if (err != nil) != tc.bad || (!tc.bad && (string(rec.text) != tc.text || rec.full != tc.full)) {
			t.Fatalf("%q: %+v %v", tc.line, rec, err)
		}
	}
}

func FuzzParseCRI(f *testing.F) {
	f.Add([]byte("2026-01-02T03:04:05.123456789Z stdout F hello"))
	f.Add([]byte("2026-01-02T03:04:05Z stderr P "))
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := parseCRI(line)
		if err == nil && len(rec.text) > len(line) {
			t.Fatalf("text longer than the line")
		}
	})
}

func TestTailOffset(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		content string
		n       int64
		want    string
	}{
		{"a\nb\nc\n", 1, "c\n"},
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc\n", 5, "a\nb\nc\n"},
		{"a\nb\nc\n", 0, ""},
		{"a\nb\nc\n", -1, "a\nb\nc\n"},
		{"a\nb\npartial", 1, "partial"},
		{strings.Repeat("x", 70000) + "\n" + "y\n", 1, "y\n"},
	} {
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		f, _ := os.Open(p)
		off, err := tailOffset(f, tc.n)
		f.Close()
		if err != nil || tc.content[off:] != tc.want {
			t.Fatalf("tail %d of %.20q: %q %v, want %q", tc.n, tc.content, tc.content[off:], err, tc.want)
		}
	}
}

func TestParseLogOptions(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		query string
		bad   string
	}{
		{query: "container=a&follow=true&previous=false&timestamps=1&tailLines=3&limitBytes=10&sinceSeconds=60"},
		{query: "sinceTime=2026-01-01T11:00:00Z"},
		{query: "follow=maybe", bad: "invalid follow"},
		{query: "tailLines=-2", bad: "invalid tailLines"},
		{query: "limitBytes=0", bad: "invalid limitBytes"},
		{query: "sinceTime=yesterday", bad: "invalid sinceTime"},
		{query: "sinceSeconds=5&sinceTime=2026-01-01T11:00:00Z", bad: "at most one of sinceTime or sinceSeconds"},
	} {
		o, err := parseLogOptions(httptest.NewRequest("GET", "/x?"+tc.query, nil), now)
		if tc.bad != "" {
			if err == nil || !strings.Contains(err.Error(), tc.bad) {
				t.Fatalf("%s: %v, want %q", tc.query, err, tc.bad)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if tc.query[0] == 'c' && (o.container != "a" || !o.follow || o.previous || !o.timestamps || o.tailLines != 3 || o.limitBytes != 10 || !o.since.Equal(now.Add(-time.Minute))) {
			t.Fatalf("%s: %+v", tc.query, o)
		}
	}
}
