package jsonscan

import (
	"encoding/json"
	"testing"
)

func TestField(t *testing.T) {
	for _, c := range []struct {
		in, name, want string
		ok             bool
	}{
		{`{"a":1,"metadata":{"name":"x"},"z":[]}`, "metadata", `{"name":"x"}`, true},
		{` { "a" : "}" , "b" : [ 1 ] } `, "b", `[ 1 ]`, true},
		{`{"k\u0041":2}`, "kA", `2`, true},
		{`{"a":1}`, "b", ``, false},
		{`{}`, "a", ``, false},
		{`[1]`, "a", ``, false},
		{`{"a":1,`, "b", ``, false},
		{`{"a" 1}`, "a", ``, false},
	} {
		got, ok := Field([]byte(c.in), c.name)
		if ok != c.ok || string(got) != c.want {
			t.Errorf("Field(%s, %q) = %q, %v; want %q, %v", c.in, c.name, got, ok, c.want, c.ok)
		}
	}
}

func FuzzField(f *testing.F) {
	f.Add([]byte(`{"a":1,"metadata":{"name":"x"}}`), "metadata")
	f.Add([]byte(`{"a\"":{"b":"\\"},"c":null}`), `a"`)
	f.Fuzz(func(t *testing.T, b []byte, name string) {
		got, ok := Field(b, name)
		var m map[string]json.RawMessage
		if !json.Valid(b) || json.Unmarshal(b, &m) != nil || m == nil {
			return
		}
		// encoding/json keeps the last of duplicate keys; Field the first.
		if first, dup := firstMember(b, name); !dup {
			want, has := m[name]
			if ok != has || (ok && string(got) != string(first)) || (ok && string(want) != string(first)) {
				t.Fatalf("Field(%q, %q) = %q, %v; want %q, %v", b, name, got, ok, want, has)
			}
		}
	})
}

// firstMember is Field through Members, and whether name occurs twice.
func firstMember(b []byte, name string) ([]byte, bool) {
	var first []byte
	n := 0
	_ = Members(b, func(k string, v []byte) error {
		if k == name {
			if n == 0 {
				first = v
			}
			n++
		}
		return nil
	})
	return first, n > 1
}

func TestSetResourceVersion(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"kind":"Pod","metadata":{"name":"a","resourceVersion":"5"},"spec":{}}`, `{"kind":"Pod","metadata":{"name":"a","resourceVersion":"9"},"spec":{}}`},
		{`{"metadata":{"resourceVersion":"a\"b"}}`, `{"metadata":{"resourceVersion":"9"}}`},
		{`{"metadata":{"resourceVersion":5}}`, `{"metadata":{"resourceVersion":"9"}}`},
		{`{"kind":"Pod","metadata":{"name":"a"}}`, `{"kind":"Pod","metadata":{"resourceVersion":"9","name":"a"}}`},
		{`{"kind":"Pod","metadata":{}}`, `{"kind":"Pod","metadata":{"resourceVersion":"9"}}`},
		{`{"kind":"Pod"}`, `{"kind":"Pod","metadata":{"resourceVersion":"9"}}`},
		{`{"metadata":"x"}`, `{"metadata":{"resourceVersion":"9"}}`},
	} {
		got, err := SetResourceVersion([]byte(c.in), 9)
		if err != nil || string(got) != c.want {
			t.Errorf("%s → %s (%v), want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`null`, `[1]`, `{"a":`} {
		if got, err := SetResourceVersion([]byte(bad), 9); err == nil {
			t.Errorf("%s → %s, want an error", bad, got)
		}
	}
}
