package boltstore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-lb/paddock/internal/store"
)

// TestCommitDropsFailingTxn feeds the committer one batch in which a Txn's
// write fails inside bbolt (a key too large, which Txn itself would have
// rejected up front). That Txn must fail alone; the others in the batch,
// including one that depends on an earlier one, commit exactly once.
func TestCommitDropsFailingTxn(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	mk := func(conds []store.Cond, ops ...store.Op) *request {
		return &request{ctx: ctx, conds: conds, ops: ops, done: make(chan result, 1)}
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	batch := []*request{
		mk(nil, store.Op{Key: "a", Value: []byte("1")}),
		mk(nil, store.Op{Key: "b", Value: []byte("1")}, store.Op{Key: strings.Repeat("k", 40000), Value: []byte("x")}),
		mk([]store.Cond{{Key: "a", ModRev: 1}}, store.Op{Key: "c", Value: []byte("1")}),
		mk([]store.Cond{{Key: "a", ModRev: 0}}, store.Op{Key: "d", Value: []byte("1")}),
		{ctx: canceled, ops: []store.Op{{Key: "e", Value: []byte("1")}}, done: make(chan result, 1)},
		mk(nil, store.Op{Key: "zzz", Delete: true}),
	}
	// Stop the committer goroutine from competing: call commit directly.
	s.commit(batch)
	res := make([]result, len(batch))
	for i, r := range batch {
		res[i] = <-r.done
	}
	if res[0].err != nil || res[0].rev != 1 {
		t.Errorf("txn 0: %+v, want rev 1", res[0])
	}
	if res[1].err == nil {
		t.Errorf("txn 1 with oversized key succeeded: %+v", res[1])
	}
	if res[2].err != nil || res[2].rev != 2 {
		t.Errorf("txn 2: %+v, want rev 2", res[2])
	}
	if !errors.Is(res[3].err, store.ErrConflict) {
		t.Errorf("txn 3: %+v, want ErrConflict", res[3])
	}
	if !errors.Is(res[4].err, context.Canceled) {
		t.Errorf("txn 4: %+v, want context.Canceled", res[4])
	}
	if res[5].err != nil || res[5].rev != 2 {
		t.Errorf("txn 5 (no-op delete): %+v, want current rev 2", res[5])
	}
	kvs, rev, err := s.List(ctx, "", store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range kvs {
		keys = append(keys, kv.Key)
	}
	if rev != 2 || strings.Join(keys, ",") != "a,c" {
		t.Errorf("store holds %v at rev %d, want [a c] at 2", keys, rev)
	}
	if got, _ := s.Rev(ctx); got != 2 {
		t.Errorf("Rev = %d, want 2", got)
	}
}
