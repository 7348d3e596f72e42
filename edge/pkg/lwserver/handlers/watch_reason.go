package handlers

import (
	"context"
	"errors"
	"strings"
)

// endReason is why a watch stream ended. Its String is the label of
// lwserver_watch_streams_ended_total; nothing else compares the strings.
type endReason uint8

const (
	// endNone: the stream goes on.
	endNone endReason = iota
	// endTimeout: timeoutSeconds (or the randomised default) elapsed.
	endTimeout
	// endClient: the client went away (closed, reset, a failed write).
	endClient
	// endShutdown: lwserver is shutting down (Handler.Stop).
	endShutdown
	// endExpired: a 410 ERROR event was sent: the revision was compacted.
	endExpired
	// endEvicted: the slow-watcher policy ended it: its queue overflowed
	// (410 ERROR event) or its writes were cut off after that.
	endEvicted
	// endStalled: a batch could not be written within the policy's
	// WriteTimeout.
	endStalled
	// endError: an ERROR event other than 410 was sent (store or encoding
	// failure).
	endError
	// endClosed: the hub closed the watch without a reason (hub closing).
	endClosed

	numEndReasons
)

var endReasonNames = [numEndReasons]string{
	endNone:     "",
	endTimeout:  "timeout",
	endClient:   "client",
	endShutdown: "shutdown",
	endExpired:  "expired",
	endEvicted:  "evicted",
	endStalled:  "stalled",
	endError:    "error",
	endClosed:   "closed",
}

func (r endReason) String() string {
	if r < numEndReasons {
		return endReasonNames[r]
	}
	return "unknown"
}

// endReasonList is the metric's label values, for its help text.
func endReasonList() string {
	return strings.Join(endReasonNames[1:], ", ")
}

// Causes of a stream's end (context.Cause of its context).
var (
	errShuttingDown = errors.New("lwserver is shutting down")
	errClientGone   = errors.New("watch client went away")
)

// ctxEndReason tells why a stream's context ended: shutdown, its deadline
// (timeoutSeconds), or the client going away.
func ctxEndReason(ctx context.Context) endReason {
	switch {
	case errors.Is(context.Cause(ctx), errShuttingDown):
		return endShutdown
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return endTimeout
	}
	return endClient
}
