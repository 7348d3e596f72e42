package watchhub

import (
	"testing"
	"time"
)

func TestEvictionPolicyOverflows(t *testing.T) {
	p := EvictionPolicy{MaxQueueEvents: 3, MaxQueueBytes: 100}.withDefaults()
	for _, tc := range []struct {
		name         string
		queued       int
		bytes, size  int64
		wantOverflow bool
	}{
		{"empty queue takes anything", 0, 0, 1000, false},
		{"below both bounds", 2, 50, 10, false},
		{"exactly at the byte bound", 2, 90, 10, false},
		{"beyond the byte bound", 1, 90, 11, true},
		{"at the event bound", 3, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.overflows(tc.queued, tc.bytes, tc.size); got != tc.wantOverflow {
				t.Fatalf("overflows(%d, %d, %d) = %v", tc.queued, tc.bytes, tc.size, got)
			}
		})
	}
}

func TestEvictionPolicyDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   EvictionPolicy
		want EvictionPolicy
	}{
		{"zero takes every default", EvictionPolicy{}, EvictionPolicy{
			MaxQueueEvents: DefaultMaxQueueEvents, MaxQueueBytes: DefaultMaxQueueBytes,
			SendBufferBytes: DefaultSendBufferBytes, CutOffGrace: DefaultCutOffGrace, WriteTimeout: DefaultWriteTimeout,
		}},
		{"set values are kept; negative send buffer = kernel autotuning", EvictionPolicy{
			MaxQueueEvents: 5, MaxQueueBytes: 7, SendBufferBytes: -1, CutOffGrace: time.Second, WriteTimeout: time.Minute,
		}, EvictionPolicy{
			MaxQueueEvents: 5, MaxQueueBytes: 7, SendBufferBytes: -1, CutOffGrace: time.Second, WriteTimeout: time.Minute,
		}},
		{"negative bounds take the defaults", EvictionPolicy{MaxQueueEvents: -1, MaxQueueBytes: -1, CutOffGrace: -1, WriteTimeout: -1}, EvictionPolicy{
			MaxQueueEvents: DefaultMaxQueueEvents, MaxQueueBytes: DefaultMaxQueueBytes,
			SendBufferBytes: DefaultSendBufferBytes, CutOffGrace: DefaultCutOffGrace, WriteTimeout: DefaultWriteTimeout,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.withDefaults(); got != tc.want {
				t.Fatalf("withDefaults() = %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := newTestStore(t, Options{}).hub.EvictionPolicy(); got != DefaultEvictionPolicy() {
		t.Fatalf("hub policy %+v, want the defaults", got)
	}
}
