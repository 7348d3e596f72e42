package main

import "testing"

// TestTrimNow: the trimmer returns memory once, on the quiet interval after
// a busy one, and only when enough is free.
func TestTrimNow(t *testing.T) {
	for _, tc := range []struct {
		name               string
		wasBusy            bool
		allocated, free    uint64
		wantTrim, wantBusy bool
	}{
		{"busy interval", false, trimQuietBytes, 100 << 20, false, true},
		{"still busy", true, 50 << 20, 100 << 20, false, true},
		{"quiet after busy, much free", true, 1 << 20, trimMinFree, true, false},
		{"quiet after busy, little free", true, 1 << 20, trimMinFree - 1, false, false},
		{"quiet after quiet", false, 0, 100 << 20, false, false},
	} {
		trim, busy := trimNow(tc.wasBusy, tc.allocated, tc.free)
		if trim != tc.wantTrim || busy != tc.wantBusy {
			t.Errorf("%s: trim %v busy %v, want %v %v", tc.name, trim, busy, tc.wantTrim, tc.wantBusy)
		}
	}
}
