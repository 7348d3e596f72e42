package checker

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestHysteresis feeds results (s = success, f = failure, 4 = a 403 from the
// server, 5 = a 503, c = canceled) and checks the state after each.
func TestHysteresis(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "x", errors.New("no"))
	unavailable := apierrors.NewServiceUnavailable("down")
	cases := []struct {
		name, results, states string
	}{
		{"first result decides at once (online)", "s", "1"},
		{"first result decides at once (offline)", "f", "0"},
		{"three failures go offline", "sfff", "1110"},
		{"a success resets the failure count", "sffsff", "111111"},
		{"two successes come back", "sfffss", "111001"},
		{"a 403 is the server answering", "s444", "1111"},
		{"503s are failures", "s555", "1110"},
		{"cancellation says nothing", "fccs", "0000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			c, err := New(Config{}, func(context.Context) error { return nil }, reg)
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for _, r := range tc.results {
				switch r {
				case 's':
					c.Report(nil)
				case 'f':
					c.Report(errors.New("connection refused"))
				case '4':
					c.Report(forbidden)
				case '5':
					c.Report(unavailable)
				case 'c':
					c.Report(context.Canceled)
				}
				if c.Online() {
					got.WriteByte('1')
				} else {
					got.WriteByte('0')
				}
			}
			if got.String() != tc.states {
				t.Fatalf("states %s, want %s", got.String(), tc.states)
			}
			want := 0.0
			if c.Online() {
				want = 1
			}
			var m dto.Metric
			if err := c.onlineGauge.Write(&m); err != nil {
				t.Fatal(err)
			}
			if v := m.GetGauge().GetValue(); v != want {
				t.Fatalf("edgecore_uplink_online = %v, want %v", v, want)
			}
		})
	}
}

// TestChanged: the channel of a state is closed at the next transition.
func TestChanged(t *testing.T) {
	c, err := New(Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := c.Changed()
	c.Report(nil)
	select {
	case <-ch:
	default:
		t.Fatal("first result did not signal")
	}
	ch = c.Changed()
	c.Report(nil)
	select {
	case <-ch:
		t.Fatal("no transition, but signalled")
	default:
	}
}
