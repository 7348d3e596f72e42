package metamanager

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/util/validation"
)

// ClusterScope is the namespace part of a resource string for cluster-scoped
// objects ("null/node/edge-1").
const ClusterScope = "null"

// Resource is a parsed route.resource: "<namespace>/<restype>/<name>". Name
// is empty for collections ("default/pod" or "default/pod/").
type Resource struct {
	Namespace string // as written; ClusterScope for cluster-scoped objects
	Restype   string // lower-case kind (or lower-case list kind)
	Name      string
}

// String gives the resource back in wire form.
func (r Resource) String() string {
	if r.Name == "" {
		return r.Namespace + "/" + r.Restype
	}
	return r.Namespace + "/" + r.Restype + "/" + r.Name
}

// maxResourceLen bounds a resource string: a namespace (63) + a restype + a
// name (253) fit comfortably.
const maxResourceLen = 1024

// ParseResource parses a message's route.resource. The namespace must be a
// DNS label or "null", the restype a non-empty lower-case identifier, and the
// name (optional) a valid path segment without '/'.
func ParseResource(s string) (Resource, error) {
	if s == "" {
		return Resource{}, fmt.Errorf("empty resource: want <namespace>/<restype>/<name>")
	}
	if len(s) > maxResourceLen {
		return Resource{}, fmt.Errorf("resource is %d bytes, longer than %d", len(s), maxResourceLen)
	}
	parts := strings.SplitN(s, "/", 3)
	if len(parts) < 2 {
		return Resource{}, fmt.Errorf("resource %q: want <namespace>/<restype>/<name>", printable(s))
	}
	r := Resource{Namespace: parts[0], Restype: parts[1]}
	if len(parts) == 3 {
		r.Name = parts[2]
	}
	if r.Namespace == "" {
		return Resource{}, fmt.Errorf("resource %q: empty namespace (cluster-scoped objects use %q)", printable(s), ClusterScope)
	}
	if r.Namespace != ClusterScope {
		if errs := validation.IsDNS1123Label(r.Namespace); len(errs) > 0 {
			return Resource{}, fmt.Errorf("resource %q: invalid namespace: %s", printable(s), errs[0])
		}
	}
	if r.Restype == "" {
		return Resource{}, fmt.Errorf("resource %q: empty restype", printable(s))
	}
	for _, c := range r.Restype {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return Resource{}, fmt.Errorf("resource %q: restype must be the lower-case kind", printable(s))
		}
	}
	if r.Name != "" {
		if err := validateName(r.Name); err != nil {
			return Resource{}, fmt.Errorf("resource %q: %v", printable(s), err)
		}
	}
	return r, nil
}

// validateName accepts what kube-apiserver accepts as an object name in a
// path: non-empty, at most 253 bytes, no '/' or '%', not "." or "..".
func validateName(name string) error {
	if name == "" {
		return fmt.Errorf("empty name")
	}
	if len(name) > validation.DNS1123SubdomainMaxLength {
		return fmt.Errorf("invalid name: longer than %d characters", validation.DNS1123SubdomainMaxLength)
	}
	if msgs := path.IsValidPathSegmentName(name); len(msgs) > 0 {
		return fmt.Errorf("invalid name %q: %s", printable(name), msgs[0])
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("invalid name %q: control character", printable(name))
		}
	}
	return nil
}

// printable shortens and sanitises s for a one-line error message.
func printable(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
