// Package memstore is an in-memory store.Store with exactly the semantics of
// the durable implementations. Unit tests across Paddock use it, so it
// favours obvious correctness over speed: one RWMutex guards a map and a
// sorted key slice, and watches are served by the shared hub (a bounded ring
// of recent events plus non-blocking fan-out).
package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/paddock-lb/paddock/internal/store"
	"github.com/paddock-lb/paddock/internal/store/internal/storekit"
)

// Options sizes a Store's watch machinery. The zero value gives the
// defaults: 10,000 events of history and 1,024 buffered events per watcher.
type Options struct {
	// HistorySize is how many recent events Watch can replay. Watch from
	// an older revision fails with store.ErrCompacted.
	HistorySize int
	// WatchBuffer is how many events a watcher may fall behind before its
	// channel is closed.
	WatchBuffer int
}

// Store is an in-memory store.Store. The zero value is not usable; call New.
type Store struct {
	hub *storekit.Hub

	mu     sync.RWMutex
	closed bool
	rev    int64
	data   map[string]entry
	keys   []string // sorted keys of data
}

type entry struct {
	value  []byte
	modRev int64
}

var _ store.Store = (*Store)(nil)

// New returns an empty store at revision 0 with default options.
func New() *Store { return NewWithOptions(Options{}) }

// NewWithOptions returns an empty store at revision 0.
func NewWithOptions(opts Options) *Store {
	return &Store{
		hub: storekit.NewHub(0, storekit.HubOptions{
			HistorySize: opts.HistorySize,
			WatchBuffer: opts.WatchBuffer,
		}),
		data: make(map[string]entry),
	}
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (store.KV, error) {
	if err := ctx.Err(); err != nil {
		return store.KV{}, fmt.Errorf("mem get: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.KV{}, fmt.Errorf("mem get: %w", store.ErrClosed)
	}
	e, ok := s.data[key]
	if !ok {
		return store.KV{}, fmt.Errorf("mem get %q: %w", key, store.ErrNotFound)
	}
	return store.KV{Key: key, Value: clone(e.value), ModRev: e.modRev}, nil
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, prefix string, opts store.ListOptions) ([]store.KV, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("mem list: %w", err)
	}
	if err := storekit.CheckList(opts); err != nil {
		return nil, 0, fmt.Errorf("mem list: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, 0, fmt.Errorf("mem list: %w", store.ErrClosed)
	}
	start, _ := slices.BinarySearch(s.keys, prefix)
	if opts.After >= prefix {
		i, found := slices.BinarySearch(s.keys, opts.After)
		if found {
			i++
		}
		start = i
	}
	var out []store.KV
	for _, k := range s.keys[start:] {
		if !strings.HasPrefix(k, prefix) || (opts.Limit > 0 && len(out) == opts.Limit) {
			break
		}
		e := s.data[k]
		out = append(out, store.KV{Key: k, Value: clone(e.value), ModRev: e.modRev})
	}
	return out, s.rev, nil
}

// Txn implements store.Store.
func (s *Store) Txn(ctx context.Context, conds []store.Cond, ops []store.Op) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("mem txn: %w", err)
	}
	if err := storekit.CheckTxn(ops); err != nil {
		return 0, fmt.Errorf("mem txn: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("mem txn: %w", store.ErrClosed)
	}
	for _, c := range conds {
		if s.data[c.Key].modRev != c.ModRev {
			return 0, fmt.Errorf("mem txn: key %q: %w", c.Key, store.ErrConflict)
		}
	}
	rev := s.rev + 1
	var events []store.Event
	for _, op := range ops {
		if op.Delete {
			if _, ok := s.data[op.Key]; !ok {
				continue
			}
			delete(s.data, op.Key)
			i, _ := slices.BinarySearch(s.keys, op.Key)
			s.keys = slices.Delete(s.keys, i, i+1)
			events = append(events, store.Event{Type: store.EventDelete, KV: store.KV{Key: op.Key, ModRev: rev}})
			continue
		}
		if _, ok := s.data[op.Key]; !ok {
			i, _ := slices.BinarySearch(s.keys, op.Key)
			s.keys = slices.Insert(s.keys, i, op.Key)
		}
		v := clone(op.Value)
		s.data[op.Key] = entry{value: v, modRev: rev}
		// The hub's copy is shared with watchers, never with the map, so a
		// careless watcher cannot corrupt stored data.
		events = append(events, store.Event{Type: store.EventPut, KV: store.KV{Key: op.Key, Value: clone(v), ModRev: rev}})
	}
	if len(events) == 0 {
		return s.rev, nil
	}
	s.rev = rev
	s.hub.Publish(rev, events)
	return rev, nil
}

// Watch implements store.Store.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) (<-chan store.Event, error) {
	// The hub has its own lock; taking s.mu first would only serialise
	// watchers behind writers.
	ch, err := s.hub.Watch(ctx, prefix, fromRev)
	if err != nil {
		return nil, fmt.Errorf("mem watch: %w", err)
	}
	return ch, nil
}

// Rev implements store.Store.
func (s *Store) Rev(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("mem rev: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, fmt.Errorf("mem rev: %w", store.ErrClosed)
	}
	return s.rev, nil
}

// Close implements store.Store: it closes every watch channel. A second
// Close returns store.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("mem close: %w", store.ErrClosed)
	}
	s.closed = true
	s.hub.Close()
	s.data, s.keys = nil, nil
	return nil
}

// clone copies b, returning a non-nil slice even for empty input so that
// every implementation reports empty values the same way.
func clone(b []byte) []byte {
	return append([]byte{}, b...)
}
