package storekit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/paddock-lb/paddock/internal/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func ev(key string, rev int64) store.Event {
	return store.Event{Type: store.EventPut, KV: store.KV{Key: key, Value: []byte(key), ModRev: rev}}
}

func take(t *testing.T, ch <-chan store.Event, n int) []store.Event {
	t.Helper()
	var out []store.Event
	for len(out) < n {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("closed after %v", out)
			}
			out = append(out, e)
		case <-time.After(5 * time.Second):
			t.Fatalf("timed out after %v", out)
		}
	}
	return out
}

// TestHistoryWrap checks which Watch starting points the ring can serve as
// it wraps, including a revision whose events are only partly kept.
func TestHistoryWrap(t *testing.T) {
	ctx := t.Context()
	h := NewHub(10, HubOptions{HistorySize: 3, WatchBuffer: 8})
	defer h.Close()
	h.Publish(11, []store.Event{ev("a", 11)})
	h.Publish(12, []store.Event{ev("b1", 12), ev("b2", 12)})
	h.Publish(13, nil) // a revision without events
	h.Publish(14, []store.Event{ev("c", 14)})
	// Ring: b1 b2 c; a was evicted.
	tests := []struct {
		from    int64
		want    []store.Event
		wantErr error
	}{
		{9, nil, store.ErrCompacted},  // before the hub's start
		{10, nil, store.ErrCompacted}, // needs a@11, evicted
		{11, []store.Event{ev("b1", 12), ev("b2", 12), ev("c", 14)}, nil},
		{12, []store.Event{ev("c", 14)}, nil},
		{13, []store.Event{ev("c", 14)}, nil},
		{14, nil, nil},
		{20, nil, nil},
	}
	for _, tc := range tests {
		ch, err := h.Watch(ctx, "", tc.from)
		if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
			t.Errorf("Watch(%d): err = %v, want %v", tc.from, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if diff := cmp.Diff(tc.want, take(t, ch, len(tc.want))); diff != "" {
			t.Errorf("Watch(%d) backlog (-want +got):\n%s", tc.from, diff)
		}
	}
	// One more event evicts b1: revision 12 is now only partly kept.
	h.Publish(15, []store.Event{ev("d", 15)})
	if _, err := h.Watch(ctx, "", 11); !errors.Is(err, store.ErrCompacted) {
		t.Errorf("Watch(11) after partial eviction of 12: %v", err)
	}
	ch, err := h.Watch(ctx, "", 12)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.Event{ev("c", 14), ev("d", 15)}, take(t, ch, 2)); diff != "" {
		t.Errorf("Watch(12) (-want +got):\n%s", diff)
	}
	if got := h.Rev(); got != 15 {
		t.Errorf("Rev = %d", got)
	}
	// Stale and repeated revisions are ignored.
	h.Publish(15, []store.Event{ev("x", 15)})
	h.Publish(3, []store.Event{ev("y", 3)})
	select {
	case e := <-ch:
		t.Errorf("stale publish delivered %+v", e)
	default:
	}
}

// TestSlowWatcherDropped checks that a full buffer closes that watcher only.
func TestSlowWatcherDropped(t *testing.T) {
	ctx := t.Context()
	h := NewHub(0, HubOptions{HistorySize: 100, WatchBuffer: 2})
	defer h.Close()
	slow, err := h.Watch(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	other, err := h.Watch(ctx, "other/", 0)
	if err != nil {
		t.Fatal(err)
	}
	h.Publish(1, []store.Event{ev("a", 1), ev("b", 1)})
	h.Publish(2, []store.Event{ev("c", 2), ev("other/x", 2)})
	got := take(t, slow, 2)
	if _, ok := <-slow; ok {
		t.Fatalf("slow watcher still open after %v", got)
	}
	if diff := cmp.Diff([]store.Event{ev("other/x", 2)}, take(t, other, 1)); diff != "" {
		t.Errorf("other watcher (-want +got):\n%s", diff)
	}
	// A backlog larger than the buffer is delivered whole, and the buffer
	// still has room for live events.
	h.Publish(3, []store.Event{ev("d", 3)})
	past, err := h.Watch(ctx, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	h.Publish(4, []store.Event{ev("e", 4), ev("f", 4)})
	want := []store.Event{ev("c", 2), ev("other/x", 2), ev("d", 3), ev("e", 4), ev("f", 4)}
	if diff := cmp.Diff(want, take(t, past, len(want))); diff != "" {
		t.Errorf("backlog watcher (-want +got):\n%s", diff)
	}
}

func TestCancelAndClose(t *testing.T) {
	h := NewHub(0, HubOptions{})
	wctx, cancel := context.WithCancel(t.Context())
	ch, err := h.Watch(wctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("event after cancel")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not closed after cancel")
	}
	live, err := h.Watch(t.Context(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	if _, ok := <-live; ok {
		t.Fatal("event after Close")
	}
	if _, err := h.Watch(t.Context(), "", 0); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Watch after Close: %v", err)
	}
	h.Publish(1, []store.Event{ev("a", 1)}) // no panic, no effect
	h.Close()                               // idempotent
	if _, err := h.Watch(t.Context(), "", -1); err == nil {
		t.Fatal("negative fromRev accepted")
	}
}
