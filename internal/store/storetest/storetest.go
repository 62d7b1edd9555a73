// Package storetest is the conformance suite every store.Store
// implementation must pass. An implementation's tests call Run with a
// constructor for fresh, empty stores:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
//	}
//
// The suite assumes the store keeps at most HistoryLimit events of watch
// history and lets a watcher fall at most HistoryLimit events behind before
// closing its channel (the defaults of memstore and boltstore are 10,000 and
// 1,024). It writes at most MaxOpsPerTxn ops per transaction.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/paddock-lb/paddock/internal/store"
)

const (
	// HistoryLimit bounds the store's watch history and watch buffers, as
	// far as the suite is concerned.
	HistoryLimit = 10000
	// MaxOpsPerTxn is the largest transaction the suite writes.
	MaxOpsPerTxn = 100

	// testTimeout bounds every test; waitTimeout bounds one wait for an
	// event or a channel close.
	testTimeout = 60 * time.Second
	waitTimeout = 10 * time.Second
)

// Run runs the conformance suite. newStore must return a fresh, empty store
// at revision 0; the suite closes it when the test ends. Subtests run in
// parallel.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"Writes", testWrites},
		{"ValueIsolation", testValueIsolation},
		{"NotFound", testNotFound},
		{"InvalidArguments", testInvalidArguments},
		{"List", testList},
		{"ListSnapshot", testListSnapshot},
		{"TxnConditions", testTxnConditions},
		{"TxnMultiOp", testTxnMultiOp},
		{"CASCounter", testCASCounter},
		{"RevisionMonotonic", testRevisionMonotonic},
		{"WatchOrder", testWatchOrder},
		{"WatchFromPast", testWatchFromPast},
		{"WatchCompacted", testWatchCompacted},
		{"WatchSlowConsumer", testWatchSlowConsumer},
		{"WatchContextCancel", testWatchContextCancel},
		{"WatchStoreClose", testWatchStoreClose},
		{"Closed", testClosed},
		{"CanceledContext", testCanceledContext},
		{"ConcurrentMixed", testConcurrentMixed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, &harness{newStore: newStore})
		})
	}
}

// harness hands tests fresh stores and a bounded context.
type harness struct {
	newStore func(t *testing.T) store.Store
}

func (h *harness) open(t *testing.T) store.Store {
	t.Helper()
	s := h.newStore(t)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func put(k, v string) store.Op { return store.Op{Key: k, Value: []byte(v)} }
func del(k string) store.Op    { return store.Op{Key: k, Delete: true} }

func cond(k string, modRev int64) store.Cond { return store.Cond{Key: k, ModRev: modRev} }

func mustTxn(ctx context.Context, t *testing.T, s store.Store, conds []store.Cond, ops ...store.Op) int64 {
	t.Helper()
	rev, err := s.Txn(ctx, conds, ops)
	if err != nil {
		t.Fatalf("Txn(%v, %v): %v", conds, ops, err)
	}
	return rev
}

func mustRev(ctx context.Context, t *testing.T, s store.Store) int64 {
	t.Helper()
	rev, err := s.Rev(ctx)
	if err != nil {
		t.Fatalf("Rev: %v", err)
	}
	return rev
}

func mustList(ctx context.Context, t *testing.T, s store.Store, prefix string, opts store.ListOptions) ([]store.KV, int64) {
	t.Helper()
	kvs, rev, err := s.List(ctx, prefix, opts)
	if err != nil {
		t.Fatalf("List(%q, %+v): %v", prefix, opts, err)
	}
	return kvs, rev
}

func mustWatch(ctx context.Context, t *testing.T, s store.Store, prefix string, fromRev int64) <-chan store.Event {
	t.Helper()
	ch, err := s.Watch(ctx, prefix, fromRev)
	if err != nil {
		t.Fatalf("Watch(%q, %d): %v", prefix, fromRev, err)
	}
	return ch
}

// recv reads exactly n events, failing on timeout or early close.
func recv(t *testing.T, ch <-chan store.Event, n int) []store.Event {
	t.Helper()
	var out []store.Event
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for len(out) < n {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("watch closed after %d of %d events: %v", len(out), n, out)
			}
			out = append(out, ev)
		case <-timer.C:
			t.Fatalf("timed out after %d of %d events: %v", len(out), n, out)
		}
	}
	return out
}

// expectQuiet fails if an event arrives within a short grace period.
func expectQuiet(t *testing.T, ch <-chan store.Event) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("unexpected event %+v", ev)
		}
		t.Fatalf("watch closed unexpectedly")
	case <-time.After(50 * time.Millisecond):
	}
}

// drainUntilClosed returns every event left in ch, failing if it is not
// closed in time.
func drainUntilClosed(t *testing.T, ch <-chan store.Event) []store.Event {
	t.Helper()
	var out []store.Event
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return out
			}
			out = append(out, ev)
		case <-timer.C:
			t.Fatalf("watch channel not closed after %v (%d events drained)", waitTimeout, len(out))
		}
	}
}

var cmpBytes = cmpopts.EquateEmpty()

func putEv(k, v string, rev int64) store.Event {
	return store.Event{Type: store.EventPut, KV: store.KV{Key: k, Value: []byte(v), ModRev: rev}}
}

func delEv(k string, rev int64) store.Event {
	return store.Event{Type: store.EventDelete, KV: store.KV{Key: k, ModRev: rev}}
}

// testWrites applies sequences of transactions and checks the store against
// a model: contents, ModRevs, and that the revision advances by one exactly
// when a transaction changes something.
func testWrites(t *testing.T, h *harness) {
	tests := []struct {
		name string
		txns [][]store.Op
	}{
		{"put new", [][]store.Op{{put("a", "1")}}},
		{"overwrite", [][]store.Op{{put("a", "1")}, {put("a", "2")}}},
		{"same value still advances", [][]store.Op{{put("a", "1")}, {put("a", "1")}}},
		{"delete", [][]store.Op{{put("a", "1")}, {del("a")}}},
		{"delete missing changes nothing", [][]store.Op{{put("a", "1")}, {del("zz")}}},
		{"delete then recreate", [][]store.Op{{put("a", "1")}, {del("a")}, {put("a", "3")}}},
		{"empty value", [][]store.Op{{put("a", "")}}},
		{"nil value", [][]store.Op{{{Key: "a"}}}},
		{"binary key and value", [][]store.Op{{put("k\x00\xff", "\x00\x01\xfe")}}},
		{"mixed txn", [][]store.Op{{put("a", "1"), put("b", "2")}, {put("c", "3"), del("a"), del("nope"), put("b", "4")}}},
		{"many keys", [][]store.Op{{put("m/1", "1"), put("m/2", "2"), put("m/3", "3")}, {del("m/2")}, {put("m/0", "0")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := bounded(t)
			s := h.open(t)
			model := map[string]store.KV{}
			gone := map[string]bool{}
			var rev int64
			for _, ops := range tc.txns {
				changes := false
				for _, op := range ops {
					_, exists := model[op.Key]
					changes = changes || !op.Delete || exists
				}
				got := mustTxn(ctx, t, s, nil, ops...)
				want := rev
				if changes {
					want = rev + 1
				}
				if got != want {
					t.Fatalf("Txn(%v) = rev %d, want %d", ops, got, want)
				}
				rev = got
				for _, op := range ops {
					if op.Delete {
						delete(model, op.Key)
						gone[op.Key] = true
					} else {
						model[op.Key] = store.KV{Key: op.Key, Value: append([]byte{}, op.Value...), ModRev: rev}
						delete(gone, op.Key)
					}
				}
			}
			if got := mustRev(ctx, t, s); got != rev {
				t.Errorf("Rev = %d, want %d", got, rev)
			}
			for k, want := range model {
				got, err := s.Get(ctx, k)
				if err != nil {
					t.Fatalf("Get(%q): %v", k, err)
				}
				if diff := cmp.Diff(want, got, cmpBytes); diff != "" {
					t.Errorf("Get(%q) mismatch (-want +got):\n%s", k, diff)
				}
				if got.Value == nil {
					t.Errorf("Get(%q).Value is nil, want non-nil (possibly empty)", k)
				}
			}
			for k := range gone {
				if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Get(%q) of deleted key: err = %v, want ErrNotFound", k, err)
				}
			}
			var want []store.KV
			for _, kv := range model {
				want = append(want, kv)
			}
			slices.SortFunc(want, func(a, b store.KV) int { return cmpString(a.Key, b.Key) })
			got, listRev := mustList(ctx, t, s, "", store.ListOptions{})
			if diff := cmp.Diff(want, got, cmpBytes); diff != "" {
				t.Errorf("List mismatch (-want +got):\n%s", diff)
			}
			if listRev != rev {
				t.Errorf("List rev = %d, want %d", listRev, rev)
			}
		})
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// testValueIsolation checks that the store copies values in and out.
func testValueIsolation(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	v := []byte("abc")
	mustTxn(ctx, t, s, nil, store.Op{Key: "k", Value: v})
	v[0] = 'X'
	got, err := s.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Value) != "abc" {
		t.Fatalf("value changed through caller's slice: %q", got.Value)
	}
	got.Value[0] = 'Y'
	kvs, _ := mustList(ctx, t, s, "", store.ListOptions{})
	if string(kvs[0].Value) != "abc" {
		t.Fatalf("value changed through Get's slice: %q", kvs[0].Value)
	}
	kvs[0].Value[0] = 'Z'
	got, err = s.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Value) != "abc" {
		t.Fatalf("value changed through List's slice: %q", got.Value)
	}
}

func testNotFound(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	for _, k := range []string{"missing", "", "a/"} {
		if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%q) on empty store: err = %v, want ErrNotFound", k, err)
		}
	}
	mustTxn(ctx, t, s, nil, put("a/b", "1"))
	for _, k := range []string{"a", "a/", "a/b/", "a/bc"} {
		if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%q): err = %v, want ErrNotFound", k, err)
		}
	}
}

func testInvalidArguments(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	rev := mustTxn(ctx, t, s, nil, put("a", "1"))
	tests := []struct {
		name string
		call func() error
	}{
		{"empty op key", func() error {
			_, err := s.Txn(ctx, nil, []store.Op{put("b", "1"), put("", "x")})
			return err
		}},
		{"empty delete key", func() error {
			_, err := s.Txn(ctx, nil, []store.Op{del("")})
			return err
		}},
		{"duplicate op key", func() error {
			_, err := s.Txn(ctx, nil, []store.Op{put("b", "1"), put("c", "1"), del("b")})
			return err
		}},
		{"duplicate op key in large txn", func() error {
			ops := make([]store.Op, 0, 20)
			for i := range 19 {
				ops = append(ops, put(fmt.Sprintf("d%02d", i), "v"))
			}
			_, err := s.Txn(ctx, nil, append(ops, put("d07", "w")))
			return err
		}},
		{"negative limit", func() error {
			_, _, err := s.List(ctx, "", store.ListOptions{Limit: -1})
			return err
		}},
		{"negative watch revision", func() error {
			_, err := s.Watch(ctx, "", -1)
			return err
		}},
	}
	for _, tc := range tests {
		err := tc.call()
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, sentinel := range []error{store.ErrConflict, store.ErrNotFound, store.ErrClosed, store.ErrCompacted} {
			if errors.Is(err, sentinel) {
				t.Errorf("%s: err = %v, must not be %v", tc.name, err, sentinel)
			}
		}
	}
	if got := mustRev(ctx, t, s); got != rev {
		t.Errorf("invalid transactions moved the revision from %d to %d", rev, got)
	}
	kvs, _ := mustList(ctx, t, s, "", store.ListOptions{})
	if len(kvs) != 1 {
		t.Errorf("invalid transactions wrote something: %v", kvs)
	}
}

func testList(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	keys := []string{"a", "a/1", "a/10", "a/2", "a/b/1", "a0", "b/1", "b/2", "\xff"}
	var ops []store.Op
	for _, k := range slices.Backward(keys) {
		ops = append(ops, put(k, "v:"+k))
	}
	rev := mustTxn(ctx, t, s, nil, ops...)
	tests := []struct {
		prefix string
		opts   store.ListOptions
		want   []string
	}{
		{"", store.ListOptions{}, keys},
		{"a/", store.ListOptions{}, []string{"a/1", "a/10", "a/2", "a/b/1"}},
		{"a", store.ListOptions{}, []string{"a", "a/1", "a/10", "a/2", "a/b/1", "a0"}},
		{"a/b/", store.ListOptions{}, []string{"a/b/1"}},
		{"c", store.ListOptions{}, nil},
		{"a/1", store.ListOptions{}, []string{"a/1", "a/10"}},
		{"a/", store.ListOptions{After: "a/1"}, []string{"a/10", "a/2", "a/b/1"}},
		{"a/", store.ListOptions{After: "a/15"}, []string{"a/2", "a/b/1"}},
		{"a/", store.ListOptions{After: "a/"}, []string{"a/1", "a/10", "a/2", "a/b/1"}},
		{"a/", store.ListOptions{After: "0"}, []string{"a/1", "a/10", "a/2", "a/b/1"}},
		{"a/", store.ListOptions{After: "a/b/1"}, nil},
		{"a/", store.ListOptions{After: "b"}, nil},
		{"", store.ListOptions{After: "b/1"}, []string{"b/2", "\xff"}},
		{"a/", store.ListOptions{Limit: 2}, []string{"a/1", "a/10"}},
		{"a/", store.ListOptions{Limit: 1, After: "a/10"}, []string{"a/2"}},
		{"a/", store.ListOptions{Limit: 100}, []string{"a/1", "a/10", "a/2", "a/b/1"}},
		{"", store.ListOptions{Limit: 3, After: "a0"}, []string{"b/1", "b/2", "\xff"}},
	}
	for _, tc := range tests {
		kvs, listRev := mustList(ctx, t, s, tc.prefix, tc.opts)
		var got []string
		for _, kv := range kvs {
			got = append(got, kv.Key)
			if string(kv.Value) != "v:"+kv.Key || kv.ModRev != rev {
				t.Errorf("List(%q, %+v): bad entry %+v", tc.prefix, tc.opts, kv)
			}
		}
		if diff := cmp.Diff(tc.want, got, cmpBytes); diff != "" {
			t.Errorf("List(%q, %+v) keys (-want +got):\n%s", tc.prefix, tc.opts, diff)
		}
		if listRev != rev {
			t.Errorf("List(%q, %+v) rev = %d, want %d", tc.prefix, tc.opts, listRev, rev)
		}
	}

	// Paging with After and Limit visits every key exactly once.
	var paged []string
	after := ""
	for range len(keys) + 1 {
		kvs, _ := mustList(ctx, t, s, "", store.ListOptions{After: after, Limit: 2})
		if len(kvs) == 0 {
			break
		}
		for _, kv := range kvs {
			paged = append(paged, kv.Key)
		}
		after = kvs[len(kvs)-1].Key
	}
	if diff := cmp.Diff(keys, paged); diff != "" {
		t.Errorf("paged listing (-want +got):\n%s", diff)
	}

	// The listing revision follows later writes, even to other prefixes.
	rev2 := mustTxn(ctx, t, s, nil, put("z", "1"))
	if _, listRev := mustList(ctx, t, s, "a/", store.ListOptions{}); listRev != rev2 {
		t.Errorf("List rev after unrelated write = %d, want %d", listRev, rev2)
	}
}

// testListSnapshot checks that a listing is one consistent snapshot: a
// writer always updates two keys together, so every listing must show them
// equal, with ModRevs not above the listing's revision.
func testListSnapshot(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	const writes = 150
	mustTxn(ctx, t, s, nil, put("snap/x", "0"), put("snap/y", "0"))
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for i := 1; i <= writes; i++ {
			v := strconv.Itoa(i)
			if _, err := s.Txn(ctx, nil, []store.Op{put("snap/x", v), put("snap/y", v), put("other/"+v, v)}); err != nil {
				t.Errorf("Txn: %v", err)
				return
			}
		}
	})
	for range 4 {
		wg.Go(func() {
			var lastRev int64
			for i := 0; ; i++ {
				select {
				case <-done:
					if i > 0 {
						return
					}
				default:
				}
				kvs, rev, err := s.List(ctx, "snap/", store.ListOptions{})
				if err != nil {
					t.Errorf("List: %v", err)
					return
				}
				if len(kvs) != 2 || string(kvs[0].Value) != string(kvs[1].Value) || kvs[0].ModRev != kvs[1].ModRev {
					t.Errorf("torn listing at rev %d: %+v", rev, kvs)
					return
				}
				if kvs[0].ModRev > rev {
					t.Errorf("listing rev %d below ModRev %d", rev, kvs[0].ModRev)
					return
				}
				if rev < lastRev {
					t.Errorf("listing rev went back from %d to %d", lastRev, rev)
					return
				}
				lastRev = rev
			}
		})
	}
	wg.Wait()
}

func testTxnConditions(t *testing.T, h *harness) {
	type setup struct{ ra, rb, rd int64 } // revs of a, b; d was created at rd and deleted
	tests := []struct {
		name      string
		conds     func(r setup) []store.Cond
		ops       []store.Op
		wantErr   error
		wantWrite bool
	}{
		{"all hold", func(r setup) []store.Cond { return []store.Cond{cond("a", r.ra), cond("b", r.rb)} }, []store.Op{put("c", "1"), put("a", "2")}, nil, true},
		{"one of several fails", func(r setup) []store.Cond { return []store.Cond{cond("a", r.ra), cond("b", r.rb+1), cond("c", 0)} }, []store.Op{put("c", "1"), put("a", "2")}, store.ErrConflict, false},
		{"first of several fails", func(r setup) []store.Cond { return []store.Cond{cond("a", r.rb), cond("b", r.rb)} }, []store.Op{put("c", "1")}, store.ErrConflict, false},
		{"create only, missing", func(setup) []store.Cond { return []store.Cond{cond("c", 0)} }, []store.Op{put("c", "1")}, nil, true},
		{"create only, exists", func(setup) []store.Cond { return []store.Cond{cond("a", 0)} }, []store.Op{put("a", "2")}, store.ErrConflict, false},
		{"create only, deleted", func(setup) []store.Cond { return []store.Cond{cond("d", 0)} }, []store.Op{put("d", "2")}, nil, true},
		{"deleted key's old rev", func(r setup) []store.Cond { return []store.Cond{cond("d", r.rd)} }, []store.Op{put("d", "2")}, store.ErrConflict, false},
		{"missing key, nonzero rev", func(r setup) []store.Cond { return []store.Cond{cond("c", r.ra)} }, []store.Op{put("c", "1")}, store.ErrConflict, false},
		{"stale rev", func(r setup) []store.Cond { return []store.Cond{cond("a", r.ra-1)} }, []store.Op{del("a")}, store.ErrConflict, false},
		{"cond on key not written", func(r setup) []store.Cond { return []store.Cond{cond("b", r.rb)} }, []store.Op{put("c", "1")}, nil, true},
		{"delete with cond", func(r setup) []store.Cond { return []store.Cond{cond("a", r.ra)} }, []store.Op{del("a")}, nil, true},
		{"no ops, holds", func(r setup) []store.Cond { return []store.Cond{cond("a", r.ra), cond("c", 0)} }, nil, nil, false},
		{"no ops, fails", func(r setup) []store.Cond { return []store.Cond{cond("a", 0)} }, nil, store.ErrConflict, false},
		{"no conds, no ops", func(setup) []store.Cond { return nil }, nil, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := bounded(t)
			s := h.open(t)
			var r setup
			r.rd = mustTxn(ctx, t, s, nil, put("d", "0"))
			mustTxn(ctx, t, s, nil, del("d"))
			r.ra = mustTxn(ctx, t, s, nil, put("a", "1"))
			r.rb = mustTxn(ctx, t, s, nil, put("b", "1"))
			before, _ := mustList(ctx, t, s, "", store.ListOptions{})
			prev := mustRev(ctx, t, s)

			got, err := s.Txn(ctx, tc.conds(r), tc.ops)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Txn err = %v, want %v", err, tc.wantErr)
			}
			after, _ := mustList(ctx, t, s, "", store.ListOptions{})
			now := mustRev(ctx, t, s)
			if !tc.wantWrite {
				if err == nil && got != prev {
					t.Errorf("Txn rev = %d, want current revision %d", got, prev)
				}
				if now != prev {
					t.Errorf("revision moved from %d to %d", prev, now)
				}
				if diff := cmp.Diff(before, after, cmpBytes); diff != "" {
					t.Errorf("store changed (-before +after):\n%s", diff)
				}
				return
			}
			if got != prev+1 || now != got {
				t.Errorf("Txn rev = %d, Rev = %d, want both %d", got, now, prev+1)
			}
			for _, op := range tc.ops {
				kv, err := s.Get(ctx, op.Key)
				switch {
				case op.Delete && !errors.Is(err, store.ErrNotFound):
					t.Errorf("Get(%q) after delete: %+v, %v", op.Key, kv, err)
				case !op.Delete && (err != nil || string(kv.Value) != string(op.Value) || kv.ModRev != got):
					t.Errorf("Get(%q) = %+v, %v; want value %q at %d", op.Key, kv, err, op.Value, got)
				}
			}
		})
	}
}

// testTxnMultiOp checks that one transaction's writes share one revision and
// reach watchers in op order.
func testTxnMultiOp(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	prev := mustTxn(ctx, t, s, nil, put("k/3", "old"))
	ch := mustWatch(ctx, t, s, "k/", 0)
	ops := []store.Op{put("k/5", "5"), put("k/1", "1"), del("k/3"), put("k/4", "4"), del("k/9"), put("k/2", "2")}
	rev := mustTxn(ctx, t, s, nil, ops...)
	if rev != prev+1 {
		t.Fatalf("multi-op txn rev = %d, want %d", rev, prev+1)
	}
	kvs, _ := mustList(ctx, t, s, "k/", store.ListOptions{})
	for _, kv := range kvs {
		if kv.ModRev != rev {
			t.Errorf("%s ModRev = %d, want %d", kv.Key, kv.ModRev, rev)
		}
	}
	want := []store.Event{putEv("k/5", "5", rev), putEv("k/1", "1", rev), delEv("k/3", rev), putEv("k/4", "4", rev), putEv("k/2", "2", rev)}
	if diff := cmp.Diff(want, recv(t, ch, len(want)), cmpBytes); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	expectQuiet(t, ch)
}

// testCASCounter has goroutines increment one counter with read,
// compare-and-swap, retry loops; no increment may be lost or doubled.
func testCASCounter(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	const (
		workers    = 16
		increments = 20
		maxTries   = 5000
	)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range increments {
				for try := 0; ; try++ {
					if try == maxTries {
						t.Errorf("worker %d increment %d: gave up after %d tries", w, i, maxTries)
						return
					}
					n, mod := 0, int64(0)
					kv, err := s.Get(ctx, "counter")
					switch {
					case err == nil:
						if n, err = strconv.Atoi(string(kv.Value)); err != nil {
							t.Errorf("counter value %q: %v", kv.Value, err)
							return
						}
						mod = kv.ModRev
					case !errors.Is(err, store.ErrNotFound):
						t.Errorf("Get: %v", err)
						return
					}
					_, err = s.Txn(ctx, []store.Cond{{Key: "counter", ModRev: mod}}, []store.Op{put("counter", strconv.Itoa(n+1))})
					if err == nil {
						break
					}
					if !errors.Is(err, store.ErrConflict) {
						t.Errorf("Txn: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	kv, err := s.Get(ctx, "counter")
	if err != nil {
		t.Fatal(err)
	}
	if string(kv.Value) != strconv.Itoa(workers*increments) {
		t.Errorf("counter = %s, want %d", kv.Value, workers*increments)
	}
	if rev := mustRev(ctx, t, s); kv.ModRev != rev || rev != workers*increments {
		t.Errorf("counter ModRev = %d, store rev = %d, want both %d", kv.ModRev, rev, workers*increments)
	}
}

// testRevisionMonotonic has concurrent writers; every successful write gets
// its own revision, the revisions are gapless, and Rev never goes back.
func testRevisionMonotonic(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	const writers, each = 8, 25
	revs := make(chan int64, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				rev, err := s.Txn(ctx, nil, []store.Op{put(fmt.Sprintf("w%d/%d", w, i), "v")})
				if err != nil {
					t.Errorf("Txn: %v", err)
					return
				}
				revs <- rev
			}
		})
	}
	stop := make(chan struct{})
	var pollers sync.WaitGroup
	pollers.Go(func() {
		var last int64
		for {
			select {
			case <-stop:
				return
			default:
			}
			rev, err := s.Rev(ctx)
			if err != nil {
				t.Errorf("Rev: %v", err)
				return
			}
			if rev < last {
				t.Errorf("Rev went back from %d to %d", last, rev)
				return
			}
			last = rev
		}
	})
	wg.Wait()
	close(stop)
	pollers.Wait()
	close(revs)
	var got []int64
	for r := range revs {
		got = append(got, r)
	}
	slices.Sort(got)
	for i, r := range got {
		if r != int64(i+1) {
			t.Fatalf("revisions not 1..%d without gaps or repeats: %v", writers*each, got)
		}
	}
	if rev := mustRev(ctx, t, s); rev != writers*each {
		t.Errorf("Rev = %d, want %d", rev, writers*each)
	}
}

func testWatchOrder(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	mustTxn(ctx, t, s, nil, put("w/pre", "x"))
	wPrefix := mustWatch(ctx, t, s, "w/", 0)
	wAll := mustWatch(ctx, t, s, "", 0)
	wOther := mustWatch(ctx, t, s, "nothing/", 0)

	r1 := mustTxn(ctx, t, s, nil, put("w/a", "1"))
	r2 := mustTxn(ctx, t, s, nil, put("w/b", "2"), put("x/z", "9"), put("w/c", "3"))
	r3 := mustTxn(ctx, t, s, nil, del("w/a"), del("w/missing"))
	mustTxn(ctx, t, s, nil, del("w/missing")) // changes nothing: no event
	r4 := mustTxn(ctx, t, s, nil, put("w/b", "4"))
	if _, err := s.Txn(ctx, []store.Cond{{Key: "w/b", ModRev: 0}}, []store.Op{put("w/b", "5")}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("conflicting Txn: %v", err)
	}
	r5 := mustTxn(ctx, t, s, nil, put("x/y", "7"), del("w/pre"))

	want := []store.Event{
		putEv("w/a", "1", r1),
		putEv("w/b", "2", r2), putEv("w/c", "3", r2),
		delEv("w/a", r3),
		putEv("w/b", "4", r4),
		delEv("w/pre", r5),
	}
	if diff := cmp.Diff(want, recv(t, wPrefix, len(want)), cmpBytes); diff != "" {
		t.Errorf("prefix watch (-want +got):\n%s", diff)
	}
	wantAll := []store.Event{
		putEv("w/a", "1", r1),
		putEv("w/b", "2", r2), putEv("x/z", "9", r2), putEv("w/c", "3", r2),
		delEv("w/a", r3),
		putEv("w/b", "4", r4),
		putEv("x/y", "7", r5), delEv("w/pre", r5),
	}
	if diff := cmp.Diff(wantAll, recv(t, wAll, len(wantAll)), cmpBytes); diff != "" {
		t.Errorf("watch all (-want +got):\n%s", diff)
	}
	for _, ev := range wantAll {
		if ev.Type == store.EventDelete && ev.KV.Value != nil {
			t.Errorf("delete event carries a value: %+v", ev)
		}
	}
	expectQuiet(t, wPrefix)
	expectQuiet(t, wAll)
	expectQuiet(t, wOther)
}

func testWatchFromPast(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	var revs []int64
	for i := range 5 {
		revs = append(revs, mustTxn(ctx, t, s, nil, put(fmt.Sprintf("p/%d", i), strconv.Itoa(i)), put("q/x", strconv.Itoa(i))))
	}
	now := revs[len(revs)-1]

	tests := []struct {
		name    string
		prefix  string
		fromRev int64
		want    []store.Event
	}{
		{"from first", "p/", revs[0], []store.Event{putEv("p/1", "1", revs[1]), putEv("p/2", "2", revs[2]), putEv("p/3", "3", revs[3]), putEv("p/4", "4", revs[4])}},
		{"from middle", "p/", revs[2], []store.Event{putEv("p/3", "3", revs[3]), putEv("p/4", "4", revs[4])}},
		{"from middle, all keys", "", revs[3], []store.Event{putEv("p/4", "4", revs[4]), putEv("q/x", "4", revs[4])}},
		{"from current", "p/", now, nil},
		{"from future", "p/", now + 2, nil},
	}
	chans := make([]<-chan store.Event, len(tests))
	for i, tc := range tests {
		chans[i] = mustWatch(ctx, t, s, tc.prefix, tc.fromRev)
	}
	for i, tc := range tests {
		if diff := cmp.Diff(tc.want, recv(t, chans[i], len(tc.want)), cmpBytes); diff != "" {
			t.Errorf("%s: backlog (-want +got):\n%s", tc.name, diff)
		}
	}
	// Live events follow the backlog, except those at or below fromRev.
	n1 := mustTxn(ctx, t, s, nil, put("p/5", "5"))
	n2 := mustTxn(ctx, t, s, nil, put("p/6", "6"))
	n3 := mustTxn(ctx, t, s, nil, put("p/7", "7"))
	for i, tc := range tests {
		var want []store.Event
		for _, ev := range []store.Event{putEv("p/5", "5", n1), putEv("p/6", "6", n2), putEv("p/7", "7", n3)} {
			if ev.KV.ModRev > tc.fromRev {
				want = append(want, ev)
			}
		}
		if diff := cmp.Diff(want, recv(t, chans[i], len(want)), cmpBytes); diff != "" {
			t.Errorf("%s: live events (-want +got):\n%s", tc.name, diff)
		}
		expectQuiet(t, chans[i])
	}
}

// writeEvents writes n put events under prefix in transactions of at most
// MaxOpsPerTxn ops.
func writeEvents(ctx context.Context, t *testing.T, s store.Store, prefix string, n int) []store.Event {
	t.Helper()
	var events []store.Event
	for start := 0; start < n; start += MaxOpsPerTxn {
		var ops []store.Op
		for i := start; i < min(n, start+MaxOpsPerTxn); i++ {
			ops = append(ops, put(fmt.Sprintf("%s%05d", prefix, i), strconv.Itoa(i)))
		}
		rev := mustTxn(ctx, t, s, nil, ops...)
		for _, op := range ops {
			events = append(events, putEv(op.Key, string(op.Value), rev))
		}
	}
	return events
}

func testWatchCompacted(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	r0 := mustTxn(ctx, t, s, nil, put("c/first", "0"))
	r1 := mustTxn(ctx, t, s, nil, put("c/second", "1"))
	writeEvents(ctx, t, s, "c/bulk/", HistoryLimit+1)
	for _, from := range []int64{r0, r1} {
		if ch, err := s.Watch(ctx, "c/", from); !errors.Is(err, store.ErrCompacted) {
			t.Errorf("Watch(from %d) after %d events: err = %v, want ErrCompacted", from, HistoryLimit+1, err)
		} else if ch != nil {
			t.Errorf("Watch(from %d) returned a channel with ErrCompacted", from)
		}
	}
	// Recent history and "from now" still work.
	now := mustRev(ctx, t, s)
	recent := mustWatch(ctx, t, s, "c/", now-1)
	fromNow := mustWatch(ctx, t, s, "c/", 0)
	if got := recv(t, recent, 1); got[0].KV.ModRev != now {
		t.Errorf("Watch(from %d) first event at %d, want %d", now-1, got[0].KV.ModRev, now)
	}
	rev := mustTxn(ctx, t, s, nil, put("c/last", "x"))
	if diff := cmp.Diff([]store.Event{putEv("c/last", "x", rev)}, recv(t, fromNow, 1), cmpBytes); diff != "" {
		t.Errorf("from-now watch (-want +got):\n%s", diff)
	}
}

// testWatchSlowConsumer checks that a watcher that never reads does not
// block writers: its channel is closed once it falls too far behind, after
// delivering an in-order prefix of the events.
func testWatchSlowConsumer(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	slow := mustWatch(ctx, t, s, "s/", 0)
	const n = HistoryLimit + 1
	done := make(chan []store.Event, 1)
	go func() { done <- writeEvents(ctx, t, s, "s/", n) }()
	var want []store.Event
	select {
	case want = <-done:
	case <-time.After(testTimeout / 2):
		t.Fatalf("writers blocked by a watcher that does not read")
	}
	got := drainUntilClosed(t, slow)
	if len(got) >= n {
		t.Fatalf("slow watcher got all %d events; expected its channel closed early", len(got))
	}
	if diff := cmp.Diff(want[:len(got)], got, cmpBytes); diff != "" {
		t.Errorf("slow watcher's events are not a prefix of the history (-want +got):\n%s", diff)
	}
	// The store keeps working, and a fresh watch from the last seen
	// revision is possible (history covers it) or compacted.
	rev := mustTxn(ctx, t, s, nil, put("s/after", "1"))
	ch := mustWatch(ctx, t, s, "s/", rev-1)
	if diff := cmp.Diff([]store.Event{putEv("s/after", "1", rev)}, recv(t, ch, 1), cmpBytes); diff != "" {
		t.Errorf("watch after slow consumer (-want +got):\n%s", diff)
	}
}

func testWatchContextCancel(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	mustTxn(ctx, t, s, nil, put("a", "1"))

	wctx, cancel := context.WithCancel(ctx)
	ch := mustWatch(wctx, t, s, "", 0)
	past := mustWatch(wctx, t, s, "", 1)
	other := mustWatch(ctx, t, s, "", 0)
	rev := mustTxn(ctx, t, s, nil, put("b", "2"))
	recv(t, ch, 1)
	cancel()
	drainUntilClosed(t, ch)
	drainUntilClosed(t, past)
	// Other watchers and writers are unaffected.
	rev2 := mustTxn(ctx, t, s, nil, put("c", "3"))
	want := []store.Event{putEv("b", "2", rev), putEv("c", "3", rev2)}
	if diff := cmp.Diff(want, recv(t, other, 2), cmpBytes); diff != "" {
		t.Errorf("surviving watcher (-want +got):\n%s", diff)
	}

	// A watch started with a dead context fails or closes at once.
	dead, cancelDead := context.WithCancel(ctx)
	cancelDead()
	if ch, err := s.Watch(dead, "", 0); err == nil {
		drainUntilClosed(t, ch)
	}
}

func testWatchStoreClose(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	rev := mustTxn(ctx, t, s, nil, put("a", "1"))
	live := mustWatch(ctx, t, s, "", 0)
	past := mustWatch(ctx, t, s, "", rev-1)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	drainUntilClosed(t, live)
	drainUntilClosed(t, past)
}

func testClosed(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	mustTxn(ctx, t, s, nil, put("a", "1"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"Get", func() error { _, err := s.Get(ctx, "a"); return err }},
		{"List", func() error { _, _, err := s.List(ctx, "", store.ListOptions{}); return err }},
		{"Txn", func() error { _, err := s.Txn(ctx, nil, []store.Op{put("b", "1")}); return err }},
		{"Txn without ops", func() error { _, err := s.Txn(ctx, []store.Cond{{Key: "a", ModRev: 1}}, nil); return err }},
		{"Watch", func() error { _, err := s.Watch(ctx, "", 0); return err }},
		{"Rev", func() error { _, err := s.Rev(ctx); return err }},
		{"Close", func() error { return s.Close() }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: err = %v, want ErrClosed", c.name, err)
		}
	}
}

func testCanceledContext(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	rev := mustTxn(ctx, t, s, nil, put("a", "1"))
	dead, cancel := context.WithCancel(ctx)
	cancel()
	calls := []struct {
		name string
		call func() error
	}{
		{"Get", func() error { _, err := s.Get(dead, "a"); return err }},
		{"List", func() error { _, _, err := s.List(dead, "", store.ListOptions{}); return err }},
		{"Txn", func() error { _, err := s.Txn(dead, nil, []store.Op{put("b", "1")}); return err }},
		{"Rev", func() error { _, err := s.Rev(dead); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with canceled context: err = %v, want context.Canceled", c.name, err)
		}
	}
	if got := mustRev(ctx, t, s); got != rev {
		t.Errorf("canceled Txn moved the revision from %d to %d", rev, got)
	}
	if _, err := s.Get(ctx, "b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("canceled Txn wrote: Get(b) err = %v", err)
	}
}

// testConcurrentMixed runs writers, readers and watchers together (mainly
// for the race detector) and checks each watcher sees non-decreasing
// revisions ending with the last write.
func testConcurrentMixed(t *testing.T, h *harness) {
	ctx := bounded(t)
	s := h.open(t)
	const writers, each = 4, 40
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var watchers sync.WaitGroup
	results := make(chan []store.Event, 3)
	var seen [3]atomic.Int64 // last revision each watcher saw
	for i := range 3 {
		ch := mustWatch(wctx, t, s, "", 0)
		watchers.Go(func() {
			var evs []store.Event
			for ev := range ch {
				evs = append(evs, ev)
				seen[i].Store(ev.KV.ModRev)
				if i == 0 && len(evs)%10 == 0 {
					time.Sleep(time.Millisecond) // a slowish reader
				}
			}
			results <- evs
		})
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				k := fmt.Sprintf("m/%d/%d", w, i%5)
				if _, err := s.Txn(ctx, nil, []store.Op{put(k, strconv.Itoa(i))}); err != nil {
					t.Errorf("Txn: %v", err)
					return
				}
				if i%3 == 0 {
					if _, err := s.Txn(ctx, nil, []store.Op{del(k)}); err != nil {
						t.Errorf("Txn: %v", err)
						return
					}
				}
			}
		})
		wg.Go(func() {
			for range each {
				if _, _, err := s.List(ctx, "m/", store.ListOptions{Limit: 7}); err != nil {
					t.Errorf("List: %v", err)
					return
				}
				if _, err := s.Get(ctx, fmt.Sprintf("m/%d/0", w)); err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Get: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	final := mustRev(ctx, t, s)
	// Let the watchers catch up, then stop them.
	deadline := time.Now().Add(waitTimeout)
	for i := range seen {
		for seen[i].Load() != final && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	cancel()
	watchers.Wait()
	close(results)
	for evs := range results {
		for i := 1; i < len(evs); i++ {
			if evs[i].KV.ModRev < evs[i-1].KV.ModRev {
				t.Fatalf("watcher saw revision %d after %d", evs[i].KV.ModRev, evs[i-1].KV.ModRev)
			}
		}
		if len(evs) > 0 && evs[len(evs)-1].KV.ModRev != final {
			t.Errorf("watcher ended at revision %d, want %d", evs[len(evs)-1].KV.ModRev, final)
		}
	}
}
