// Package storekit holds the pieces shared by Paddock's store
// implementations: argument validation and the watch hub, an in-process
// fan-out of committed events with a bounded history ring.
package storekit

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/paddock-lb/paddock/internal/store"
)

// Defaults for HubOptions fields left zero.
const (
	DefaultHistorySize = 10000
	DefaultWatchBuffer = 1024
)

// HubOptions sizes a Hub.
type HubOptions struct {
	// HistorySize is how many recent events the hub keeps for Watch calls
	// that start in the past. Zero means DefaultHistorySize.
	HistorySize int
	// WatchBuffer is how many undelivered events a watcher may have queued
	// before the hub gives up on it and closes its channel. Zero means
	// DefaultWatchBuffer.
	WatchBuffer int
}

// Hub fans committed events out to watchers and keeps a ring of the most
// recent ones. It never blocks a publisher: a watcher whose buffer is full
// has its channel closed and is dropped. All methods are safe for
// concurrent use.
type Hub struct {
	bufSize  int
	ringSize int

	mu sync.Mutex
	// rev is the last published revision.
	rev int64
	// compacted is the highest revision for which some event is no longer
	// in the ring: Watch may only start at fromRev >= compacted.
	compacted int64
	// ring holds the most recent events, oldest first from head. It grows
	// to ringSize, then wraps.
	ring     []store.Event
	head     int
	watchers map[*watcher]struct{}
	closed   bool
}

type watcher struct {
	prefix string
	from   int64 // deliver only events with ModRev > from
	ch     chan store.Event
	stop   func() bool // unregisters the context.AfterFunc
}

// NewHub returns a hub whose current revision is rev. History before rev is
// unavailable: Watch(fromRev < rev) fails with store.ErrCompacted.
func NewHub(rev int64, opts HubOptions) *Hub {
	if opts.HistorySize <= 0 {
		opts.HistorySize = DefaultHistorySize
	}
	if opts.WatchBuffer <= 0 {
		opts.WatchBuffer = DefaultWatchBuffer
	}
	return &Hub{
		bufSize:   opts.WatchBuffer,
		ringSize:  opts.HistorySize,
		rev:       rev,
		compacted: rev,
		watchers:  make(map[*watcher]struct{}),
	}
}

// Rev returns the last published revision.
func (h *Hub) Rev() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rev
}

// Publish records the events of the committed revision rev (in op order;
// possibly none) and hands them to matching watchers. Revisions must be
// published in increasing order; a revision not above the last published
// one is ignored. The hub keeps the events slice's contents, so callers must
// not modify the events or their values afterwards.
func (h *Hub) Publish(rev int64, events []store.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || rev <= h.rev {
		return
	}
	h.rev = rev
	for _, ev := range events {
		if len(h.ring) < h.ringSize {
			h.ring = append(h.ring, ev)
			continue
		}
		// Full: overwrite the oldest event. History at and below its
		// revision is no longer complete.
		h.compacted = max(h.compacted, h.ring[h.head].KV.ModRev)
		h.ring[h.head] = ev
		h.head = (h.head + 1) % len(h.ring)
	}
	if len(h.watchers) == 0 || len(events) == 0 {
		return
	}
	for w := range h.watchers {
		for _, ev := range events {
			if ev.KV.ModRev <= w.from || !strings.HasPrefix(ev.KV.Key, w.prefix) {
				continue
			}
			select {
			case w.ch <- ev:
			default:
				// Too far behind: drop the watcher rather than block the
				// writer. Its owner re-lists and watches again.
				h.dropLocked(w)
			}
			if _, ok := h.watchers[w]; !ok {
				break
			}
		}
	}
}

// Watch implements store.Store.Watch on top of the hub.
func (h *Hub) Watch(ctx context.Context, prefix string, fromRev int64) (<-chan store.Event, error) {
	if fromRev < 0 {
		return nil, fmt.Errorf("negative revision %d", fromRev)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, store.ErrClosed
	}
	from := fromRev
	if from == 0 {
		from = h.rev
	}
	if from < h.compacted {
		return nil, fmt.Errorf("watch from revision %d, oldest kept is %d: %w", fromRev, h.compacted, store.ErrCompacted)
	}
	var backlog []store.Event
	if from < h.rev {
		for i := range h.ring {
			ev := h.ring[(h.head+i)%len(h.ring)]
			if ev.KV.ModRev > from && strings.HasPrefix(ev.KV.Key, prefix) {
				backlog = append(backlog, ev)
			}
		}
	}
	w := &watcher{
		prefix: prefix,
		from:   from,
		ch:     make(chan store.Event, len(backlog)+h.bufSize),
	}
	for _, ev := range backlog {
		w.ch <- ev
	}
	h.watchers[w] = struct{}{}
	// The callback runs in its own goroutine once ctx is done; it waits for
	// h.mu, so registering it under the lock is safe.
	w.stop = context.AfterFunc(ctx, func() { h.cancel(w) })
	return w.ch, nil
}

// cancel drops w after its context ended.
func (h *Hub) cancel(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.watchers[w]; ok {
		delete(h.watchers, w)
		close(w.ch)
	}
}

func (h *Hub) dropLocked(w *watcher) {
	delete(h.watchers, w)
	close(w.ch)
	w.stop()
}

// Close closes every watcher channel; later Watch calls fail with
// store.ErrClosed and Publish does nothing.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for w := range h.watchers {
		h.dropLocked(w)
	}
	h.ring, h.head = nil, 0
}
