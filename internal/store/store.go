// Package store defines Paddock's persistence contract: a small, ordered
// key-value store with revisions, multi-key compare-and-swap transactions and
// watches. Implementations live beside it (memstore, boltstore; etcdstore
// later) and all pass the conformance suite in storetest.
//
// Keys are opaque strings ordered bytewise. Every successful transaction
// advances a store-wide revision by one; each key remembers the revision of
// its last modification (ModRev). Conditions compare ModRev, so a caller
// that read a set of keys can commit "only if none of them changed".
package store

import (
	"context"
	"errors"
)

// Errors returned by every implementation. Callers branch on them with
// errors.Is: implementations wrap them with context. A call whose ctx has
// ended returns (a wrap of) ctx.Err() instead.
var (
	// ErrNotFound means the key does not exist.
	ErrNotFound = errors.New("store: key not found")
	// ErrConflict means a transaction condition did not hold; nothing was written.
	ErrConflict = errors.New("store: condition failed")
	// ErrCompacted means a watch asked for history the store no longer keeps.
	ErrCompacted = errors.New("store: revision compacted")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("store: closed")
)

// KV is one stored key with its value and the revision that last wrote it.
type KV struct {
	Key    string
	Value  []byte
	ModRev int64
}

// Cond is a transaction precondition on one key: its ModRev must equal
// ModRev. ModRev 0 means "the key must not exist".
type Cond struct {
	Key    string
	ModRev int64
}

// Op is one write in a transaction: a put of Value, or a delete when Delete
// is set (deleting a missing key is not an error; it changes nothing and
// produces no event). Key must be non-empty, and a transaction may name a key
// in at most one op; otherwise Txn fails (with none of the sentinel errors)
// and writes nothing. Stores copy Value; the caller may reuse it.
type Op struct {
	Key    string
	Value  []byte
	Delete bool
}

// EventType says what happened to a key.
type EventType int

const (
	// EventPut is a create or an update.
	EventPut EventType = iota
	// EventDelete is a delete; the event's Value is nil.
	EventDelete
)

func (t EventType) String() string {
	switch t {
	case EventPut:
		return "put"
	case EventDelete:
		return "delete"
	}
	return "unknown"
}

// Event is one change seen by a watch. KV.ModRev is the revision of the
// transaction that made the change. A transaction's events share its ModRev
// and arrive in op order. The event's Value may be shared with other
// watchers: treat it as read-only.
type Event struct {
	Type EventType
	KV   KV
}

// ListOptions narrows a List.
type ListOptions struct {
	// After, when set, starts the listing strictly after this key.
	After string
	// Limit caps the number of keys returned; 0 means no limit.
	Limit int
}

// Store is the persistence contract.
type Store interface {
	// Get returns one key, or ErrNotFound (also for the empty key). The
	// returned Value is the caller's to keep or modify; never nil for a
	// found key, possibly empty.
	Get(ctx context.Context, key string) (KV, error)
	// List returns the keys with the given prefix in key order, and the
	// store revision the listing reflects. All keys come from one
	// consistent snapshot. A negative Limit is an error.
	List(ctx context.Context, prefix string, opts ListOptions) ([]KV, int64, error)
	// Txn applies ops atomically if every condition holds, returning the
	// new store revision. If a condition fails it returns ErrConflict and
	// writes nothing. A transaction with no ops still checks its
	// conditions and returns the current revision; so does one whose ops
	// change nothing (only deletes of missing keys), which also produces no
	// events. An acknowledged Txn is durable if the implementation is.
	Txn(ctx context.Context, conds []Cond, ops []Op) (int64, error)
	// Watch streams, in revision order, every change to keys with the
	// given prefix made after revision fromRev (0 means: from now). The
	// channel is closed when ctx ends or the store closes. A watcher that
	// falls too far behind, or asks for history no longer kept, gets
	// ErrCompacted from Watch (or its channel is closed early; it must then
	// re-list and watch again from the listing's revision). A fromRev
	// beyond the current revision is allowed: the watch delivers changes
	// after it. A negative fromRev is an error. Implementations keep a
	// bounded history (memstore and boltstore: the last 10,000 events,
	// none from before boltstore's last Open).
	Watch(ctx context.Context, prefix string, fromRev int64) (<-chan Event, error)
	// Rev returns the current store revision.
	Rev(ctx context.Context) (int64, error)
	// Close releases the store and closes every watch channel. Every later
	// call, including a second Close, returns ErrClosed.
	Close() error
}
