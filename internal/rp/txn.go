package rp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/paddock-lb/paddock/internal/store"
)

// txn is an optimistic read-modify-write transaction over the store: reads
// record the revision they saw, writes are buffered, and commit applies the
// writes only if nothing read has changed (store.ErrConflict otherwise, and
// the caller retries from scratch).
type txn struct {
	ctx    context.Context
	st     store.Store
	reads  map[string]int64 // key -> ModRev seen (0 = absent)
	cache  map[string][]byte
	writes map[string]*store.Op
	order  []string
	// done runs when the transaction ends, committed or not.
	done []func()
	// svc, when set, is told of released addresses.
	svc *Service
}

// finish runs the transaction's end hooks.
func (t *txn) finish() {
	for _, f := range t.done {
		f()
	}
	t.done = nil
}

func newTxn(ctx context.Context, st store.Store) *txn {
	return &txn{ctx: ctx, st: st, reads: map[string]int64{}, cache: map[string][]byte{}, writes: map[string]*store.Op{}}
}

// get returns the current value of key as this transaction sees it (its own
// writes included); ok is false when the key does not exist.
func (t *txn) get(key string) ([]byte, bool, error) {
	if w, ok := t.writes[key]; ok {
		if w.Delete {
			return nil, false, nil
		}
		return w.Value, true, nil
	}
	if v, ok := t.cache[key]; ok {
		return v, v != nil, nil
	}
	kv, err := t.st.Get(t.ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		t.reads[key] = 0
		t.cache[key] = nil
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	t.reads[key] = kv.ModRev
	t.cache[key] = kv.Value
	return kv.Value, true, nil
}

// getJSON decodes key into v; ok is false when absent.
func (t *txn) getJSON(key string, v any) (bool, error) {
	b, ok, err := t.get(key)
	if err != nil || !ok {
		return ok, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}

// list returns the keys under prefix (own writes merged in). Each listed key
// joins the read set, so a concurrent change to any of them conflicts; a
// concurrent insert under the prefix is not detected, so callers that need
// uniqueness also write a unique key with a create-only condition.
func (t *txn) list(prefix string) ([]store.KV, error) {
	return t.listing(prefix, true)
}

// scan is list without joining the read set: for callers whose decision
// is protected otherwise (an address claim reads the one key it takes), so
// that listing thousands of keys does not make thousands of commit
// conditions.
func (t *txn) scan(prefix string) ([]store.KV, error) {
	return t.listing(prefix, false)
}

func (t *txn) listing(prefix string, record bool) ([]store.KV, error) {
	kvs, _, err := t.st.List(t.ctx, prefix, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	if record {
		for _, kv := range kvs {
			if _, seen := t.reads[kv.Key]; !seen {
				t.reads[kv.Key] = kv.ModRev
				t.cache[kv.Key] = kv.Value
			}
		}
	}
	var mine []string
	for k := range t.writes {
		if strings.HasPrefix(k, prefix) {
			mine = append(mine, k)
		}
	}
	if len(mine) == 0 {
		return kvs, nil // the store lists in key order
	}
	m := make(map[string]store.KV, len(kvs)+len(mine))
	for _, kv := range kvs {
		m[kv.Key] = kv
	}
	for _, k := range mine {
		if w := t.writes[k]; w.Delete {
			delete(m, k)
		} else {
			m[k] = store.KV{Key: k, Value: w.Value}
		}
	}
	out := make([]store.KV, 0, len(m))
	for _, kv := range m {
		out = append(out, kv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (t *txn) put(key string, value []byte) {
	if _, ok := t.writes[key]; !ok {
		t.order = append(t.order, key)
	}
	t.writes[key] = &store.Op{Key: key, Value: value}
}

func (t *txn) putJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	t.put(key, b)
	return nil
}

func (t *txn) del(key string) {
	if _, ok := t.writes[key]; !ok {
		t.order = append(t.order, key)
	}
	t.writes[key] = &store.Op{Key: key, Delete: true}
}

func (t *txn) commit() (int64, error) {
	conds := make([]store.Cond, 0, len(t.reads))
	for k, rev := range t.reads {
		conds = append(conds, store.Cond{Key: k, ModRev: rev})
	}
	sort.Slice(conds, func(i, j int) bool { return conds[i].Key < conds[j].Key })
	ops := make([]store.Op, 0, len(t.order))
	for _, k := range t.order {
		ops = append(ops, *t.writes[k])
	}
	return t.st.Txn(t.ctx, conds, ops)
}

// addRef records that source refers to target. A list of target's
// references does not notice a concurrent insert (see list), so addRef
// also rewrites target's guard key without reading it: adders never
// conflict with each other, but a transaction that listed the references
// with refsOf (and read the guard) conflicts with any insert it missed.
func (t *txn) addRef(target, source string) {
	t.put(refKey(target, source), []byte(source))
	t.put(refGuardKey(target), []byte(source))
}

// refsOf returns the ids of the resources that refer to target, guarded
// against concurrent inserts (see addRef).
func (t *txn) refsOf(target string) ([]string, error) {
	if _, _, err := t.get(refGuardKey(target)); err != nil {
		return nil, err
	}
	kvs, err := t.list(refPrefix(target))
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, string(kv.Value))
	}
	return out, nil
}
