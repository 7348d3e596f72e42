// Package checker is the uplink's server checker: it decides whether the
// cloud's kube-apiserver is reachable from /readyz probes (every Interval)
// and from the outcome of every call the uplink makes, with hysteresis, and
// publishes the state in the log and on /metrics. lwserver asks it before
// forwarding a write; reads never depend on it (docs/uplink.md).
package checker

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
)

// Config tunes the checker. Zero values take the defaults.
type Config struct {
	// Interval between /readyz probes. Zero: 5 s.
	Interval time.Duration
	// FailureThreshold consecutive failures go offline. Zero: 3.
	FailureThreshold int
	// SuccessThreshold consecutive successes come back online. Zero: 2.
	SuccessThreshold int
	// Timeout bounds one probe. Zero: 3 s.
	Timeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = 5 * time.Second
	}
	if c.FailureThreshold <= 0 {
		c.FailureThreshold = 3
	}
	if c.SuccessThreshold <= 0 {
		c.SuccessThreshold = 2
	}
	if c.Timeout <= 0 {
		c.Timeout = 3 * time.Second
	}
	return c
}

// Probe checks the server once (GET /readyz); nil = ready.
type Probe func(ctx context.Context) error

// Checker holds the online state. The state starts unknown (offline for
// writes) and the first result, probe or call, decides it at once.
type Checker struct {
	cfg   Config
	probe Probe

	mu        sync.Mutex
	online    bool
	known     bool
	fails     int
	successes int
	since     time.Time
	lastErr   error
	changed   chan struct{} // closed and replaced at every transition

	onlineGauge prometheus.Gauge
	transitions *prometheus.CounterVec
	failures    prometheus.Counter
}

// New builds a checker; its metrics are registered on reg when not nil.
func New(cfg Config, probe Probe, reg prometheus.Registerer) (*Checker, error) {
	c := &Checker{cfg: cfg.withDefaults(), probe: probe, changed: make(chan struct{}), since: time.Now()}
	c.onlineGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "edgecore_uplink_online",
		Help: "1 while the server checker takes the cloud's kube-apiserver as reachable, else 0.",
	})
	c.transitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edgecore_uplink_transitions_total",
		Help: "Transitions of the server checker's state, by the state entered.",
	}, []string{"state"})
	c.failures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "edgecore_uplink_failures_total",
		Help: "Failed /readyz probes and failed uplink calls seen by the server checker.",
	})
	if reg != nil {
		for _, m := range []prometheus.Collector{c.onlineGauge, c.transitions, c.failures} {
			if err := reg.Register(m); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// Run probes every Interval until ctx ends; the first probe is immediate.
func (c *Checker) Run(ctx context.Context) {
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		err := c.probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		c.Report(err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Report learns from one call's outcome: nil, or an answer of the server
// below 500 (it is reachable; 403 or 404 are the caller's business), counts
// as a success; a transport error, a 5xx or a 429 as a failure. A canceled
// call says nothing.
func (c *Checker) Report(err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	ok := err == nil
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		code := int(st.Status().Code)
		ok = code != 0 && code < 500 && code != http.StatusTooManyRequests
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok {
		c.successes++
		c.fails = 0
		if !c.known || !c.online && c.successes >= c.cfg.SuccessThreshold {
			c.transition(true, nil)
		}
		return
	}
	c.failures.Inc()
	c.fails++
	c.successes = 0
	c.lastErr = err
	if !c.known || c.online && c.fails >= c.cfg.FailureThreshold {
		c.transition(false, err)
	}
}

func (c *Checker) transition(online bool, cause error) {
	prev := c.online
	wasKnown := c.known
	c.online, c.known = online, true
	state := "offline"
	if online {
		state = "online"
		c.onlineGauge.Set(1)
	} else {
		c.onlineGauge.Set(0)
	}
	c.transitions.WithLabelValues(state).Inc()
	if online {
		klog.Infof("uplink: server checker: online (after %s %s)", time.Since(c.since).Round(time.Millisecond), stateName(prev, wasKnown))
	} else {
		klog.Warningf("uplink: server checker: offline (after %s %s): %v", time.Since(c.since).Round(time.Millisecond), stateName(prev, wasKnown), cause)
	}
	c.since = time.Now()
	close(c.changed)
	c.changed = make(chan struct{})
}

func stateName(online, known bool) string {
	switch {
	case !known:
		return "unknown"
	case online:
		return "online"
	default:
		return "offline"
	}
}

// Online reports the current state (false until the first result).
func (c *Checker) Online() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.online
}

// State returns the state, since when it holds, and the last failure.
func (c *Checker) State() (online bool, since time.Time, lastErr error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.online, c.since, c.lastErr
}

// Changed returns a channel closed at the next transition.
func (c *Checker) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}
