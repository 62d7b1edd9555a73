// Package boltstore is the durable, single-node store.Store, kept in one
// bbolt file. It is the only package that imports bbolt.
//
// Layout: bucket "kv" maps each key to an 8-byte big-endian ModRev followed
// by the value; bucket "meta" holds the store revision ("rev", 8 bytes) and
// the layout version ("format"). Both are written in the same bbolt
// transaction as the data, so the revision and every ModRev survive a crash
// exactly as the data does.
//
// Writes go through one committer goroutine that does group commit: it
// takes every Txn waiting at the moment it becomes free (up to
// Options.MaxBatch), applies them in arrival order inside a single bbolt
// read-write transaction - each checking its conditions against the state
// left by the ones before it - and fsyncs once. A Txn whose conditions fail
// writes nothing and gets store.ErrConflict without affecting its
// neighbours. Txn returns only after the fsync, so an acknowledged write
// survives kill -9 or power loss. There is no artificial batching delay:
// a lone writer pays one fsync, and concurrent writers share them.
//
// Watch is served in-process from the committed events, with a bounded
// history ring (Options.HistorySize). History does not survive a restart:
// after Open at revision R, Watch(fromRev < R) fails with
// store.ErrCompacted.
package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/paddock-lb/paddock/internal/store"
	"github.com/paddock-lb/paddock/internal/store/internal/storekit"
)

// Default option values.
const (
	DefaultLockTimeout = time.Second
	DefaultMaxBatch    = 256
)

const format = "1"

var (
	bucketKV   = []byte("kv")
	bucketMeta = []byte("meta")
	keyRev     = []byte("rev")
	keyFormat  = []byte("format")
)

// errNothingWritten rolls back a batch that changed nothing (all conflicts
// or no-op deletes), sparing the fsync.
var errNothingWritten = errors.New("nothing written")

// errOpFailed aborts a batch in which one Txn's write failed; the batch is
// retried without it.
var errOpFailed = errors.New("op failed")

// Options tunes a Store. The zero value gives the defaults.
type Options struct {
	// LockTimeout bounds the wait for the file lock held by another
	// process. Zero means DefaultLockTimeout.
	LockTimeout time.Duration
	// HistorySize is how many recent events Watch can replay. Zero means
	// 10,000.
	HistorySize int
	// WatchBuffer is how many events a watcher may fall behind before its
	// channel is closed. Zero means 1,024.
	WatchBuffer int
	// MaxBatch caps how many Txns share one commit. Zero means
	// DefaultMaxBatch.
	MaxBatch int
}

// Store is a bbolt-backed store.Store. Create it with Open.
type Store struct {
	db       *bolt.DB
	hub      *storekit.Hub
	maxBatch int

	closed  atomic.Bool
	reqs    chan *request // unbuffered: a sent request is always answered
	quit    chan struct{} // closed by Close
	stopped chan struct{} // closed when the committer exits

	// rev is the last committed revision; only the committer touches it
	// after Open.
	rev int64
}

var _ store.Store = (*Store)(nil)

type request struct {
	ctx   context.Context
	conds []store.Cond
	ops   []store.Op
	done  chan result // buffered 1
}

type result struct {
	rev int64
	err error
}

// Open opens or creates the database file at path and starts its
// committer. It fails after Options.LockTimeout if another process holds
// the file.
func Open(path string, opts Options) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if err != nil {
		return nil, fmt.Errorf("open bolt db %s: %w", path, err)
	}
	var rev int64
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketKV); err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		switch f := meta.Get(keyFormat); {
		case f == nil:
			if err := meta.Put(keyFormat, []byte(format)); err != nil {
				return err
			}
		case string(f) != format:
			return fmt.Errorf("unknown format %q", f)
		}
		if v := meta.Get(keyRev); v != nil {
			if len(v) != 8 {
				return fmt.Errorf("corrupt revision (%d bytes)", len(v))
			}
			rev = int64(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open bolt db %s: %w", path, err)
	}
	s := &Store{
		db:       db,
		hub:      storekit.NewHub(rev, storekit.HubOptions{HistorySize: opts.HistorySize, WatchBuffer: opts.WatchBuffer}),
		maxBatch: opts.MaxBatch,
		reqs:     make(chan *request),
		quit:     make(chan struct{}),
		stopped:  make(chan struct{}),
		rev:      rev,
	}
	go s.run()
	return s, nil
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (store.KV, error) {
	if err := s.check(ctx); err != nil {
		return store.KV{}, fmt.Errorf("bolt get: %w", err)
	}
	var kv store.KV
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		if key == "" {
			return nil
		}
		v := tx.Bucket(bucketKV).Get([]byte(key))
		if v == nil {
			return nil
		}
		var err error
		kv, err = decode(key, v)
		found = err == nil
		return err
	})
	if err != nil {
		return store.KV{}, fmt.Errorf("bolt get: %w", closedErr(err))
	}
	if !found {
		return store.KV{}, fmt.Errorf("bolt get %q: %w", key, store.ErrNotFound)
	}
	return kv, nil
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, prefix string, opts store.ListOptions) ([]store.KV, int64, error) {
	if err := s.check(ctx); err != nil {
		return nil, 0, fmt.Errorf("bolt list: %w", err)
	}
	if err := storekit.CheckList(opts); err != nil {
		return nil, 0, fmt.Errorf("bolt list: %w", err)
	}
	var (
		out []store.KV
		rev int64
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if rev, err = readRev(tx); err != nil {
			return err
		}
		seek, skipEqual := prefix, false
		if opts.After >= prefix {
			seek, skipEqual = opts.After, true
		}
		c := tx.Bucket(bucketKV).Cursor()
		k, v := c.Seek([]byte(seek))
		if skipEqual && k != nil && string(k) == seek {
			k, v = c.Next()
		}
		p := []byte(prefix)
		for ; k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if opts.Limit > 0 && len(out) == opts.Limit {
				break
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			kv, err := decode(string(k), v)
			if err != nil {
				return err
			}
			out = append(out, kv)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("bolt list: %w", closedErr(err))
	}
	return out, rev, nil
}

// Txn implements store.Store. It returns only once the transaction is
// durable. If ctx ends while the Txn is still queued, it returns ctx's error
// and nothing is written; once its batch has started, it waits for the
// outcome (bounded by one commit) regardless of ctx, so an error always
// means nothing was written.
func (s *Store) Txn(ctx context.Context, conds []store.Cond, ops []store.Op) (int64, error) {
	if err := s.check(ctx); err != nil {
		return 0, fmt.Errorf("bolt txn: %w", err)
	}
	if err := storekit.CheckTxn(ops); err != nil {
		return 0, fmt.Errorf("bolt txn: %w", err)
	}
	for i, op := range ops {
		if len(op.Key) > bolt.MaxKeySize {
			return 0, fmt.Errorf("bolt txn: op %d: key of %d bytes exceeds %d", i, len(op.Key), bolt.MaxKeySize)
		}
		if int64(len(op.Value)) > bolt.MaxValueSize-8 {
			return 0, fmt.Errorf("bolt txn: op %d: value of %d bytes is too large", i, len(op.Value))
		}
	}
	if len(ops) == 0 {
		return s.checkOnly(conds)
	}
	r := &request{ctx: ctx, conds: conds, ops: ops, done: make(chan result, 1)}
	select {
	case s.reqs <- r:
	case <-s.quit:
		return 0, fmt.Errorf("bolt txn: %w", store.ErrClosed)
	case <-ctx.Done():
		return 0, fmt.Errorf("bolt txn: %w", ctx.Err())
	}
	res := <-r.done
	return res.rev, res.err
}

// checkOnly serves a Txn without ops from a read transaction: no queue, no
// fsync.
func (s *Store) checkOnly(conds []store.Cond) (int64, error) {
	var rev int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if rev, err = readRev(tx); err != nil {
			return err
		}
		return condsHold(tx.Bucket(bucketKV), conds)
	})
	if err != nil {
		return 0, fmt.Errorf("bolt txn: %w", closedErr(err))
	}
	return rev, nil
}

// Watch implements store.Store.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) (<-chan store.Event, error) {
	if err := s.check(ctx); err != nil {
		return nil, fmt.Errorf("bolt watch: %w", err)
	}
	ch, err := s.hub.Watch(ctx, prefix, fromRev)
	if err != nil {
		return nil, fmt.Errorf("bolt watch: %w", err)
	}
	return ch, nil
}

// Rev implements store.Store. It is the revision of the last acknowledged
// Txn (or of the database at Open).
func (s *Store) Rev(ctx context.Context) (int64, error) {
	if err := s.check(ctx); err != nil {
		return 0, fmt.Errorf("bolt rev: %w", err)
	}
	return s.hub.Rev(), nil
}

// Close implements store.Store: it lets the batch in flight finish, fails
// queued Txns with store.ErrClosed, closes every watch channel and closes
// the file. A second Close returns store.ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return fmt.Errorf("bolt close: %w", store.ErrClosed)
	}
	close(s.quit)
	<-s.stopped
	s.hub.Close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt close: %w", err)
	}
	return nil
}

func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return ctx.Err()
}

// run is the committer goroutine.
func (s *Store) run() {
	defer close(s.stopped)
	batch := make([]*request, 0, s.maxBatch)
	for {
		select {
		case <-s.quit:
			return
		default:
		}
		select {
		case <-s.quit:
			return
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		gather:
			for len(batch) < s.maxBatch {
				select {
				case r := <-s.reqs:
					batch = append(batch, r)
				default:
					break gather
				}
			}
			s.commit(batch)
			clear(batch)
		}
	}
}

type revEvents struct {
	rev    int64
	events []store.Event
}

// commit applies batch in one bbolt transaction and answers every request.
func (s *Store) commit(batch []*request) {
	live := make([]*request, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- result{err: fmt.Errorf("bolt txn: %w", err)}
			continue
		}
		live = append(live, r)
	}
	for len(live) > 0 {
		results := make([]result, len(live))
		var (
			pending []revEvents
			last    = s.rev
			failed  = -1
			failErr error
		)
		err := s.db.Update(func(tx *bolt.Tx) error {
			kv := tx.Bucket(bucketKV)
			pending, last, failed = pending[:0], s.rev, -1
			for i, r := range live {
				if err := condsHold(kv, r.conds); err != nil {
					results[i] = result{err: fmt.Errorf("bolt txn: %w", err)}
					continue
				}
				events, err := apply(kv, r.ops, last+1)
				if err != nil {
					failed, failErr = i, err
					return errOpFailed
				}
				if len(events) > 0 {
					last++
					pending = append(pending, revEvents{rev: last, events: events})
				}
				results[i] = result{rev: last}
			}
			if last == s.rev {
				return errNothingWritten
			}
			return tx.Bucket(bucketMeta).Put(keyRev, encodeRev(last))
		})
		if failed >= 0 {
			live[failed].done <- result{err: fmt.Errorf("bolt txn: %w", failErr)}
			live = append(live[:failed], live[failed+1:]...)
			continue
		}
		if err != nil && !errors.Is(err, errNothingWritten) {
			for _, r := range live {
				r.done <- result{err: fmt.Errorf("bolt txn: %w", err)}
			}
			return
		}
		// Durable now. Publish before answering so that a caller who gets
		// revision R can Watch from R-1 and see its own change.
		for _, p := range pending {
			s.hub.Publish(p.rev, p.events)
		}
		s.rev = last
		for i, r := range live {
			r.done <- results[i]
		}
		return
	}
}

// condsHold returns a wrapped store.ErrConflict naming the first condition
// that does not hold.
func condsHold(kv *bolt.Bucket, conds []store.Cond) error {
	for _, c := range conds {
		var mod int64
		if c.Key != "" {
			if v := kv.Get([]byte(c.Key)); v != nil {
				if len(v) < 8 {
					return fmt.Errorf("key %q: corrupt record", c.Key)
				}
				mod = int64(binary.BigEndian.Uint64(v))
			}
		}
		if mod != c.ModRev {
			return fmt.Errorf("key %q: %w", c.Key, store.ErrConflict)
		}
	}
	return nil
}

// apply writes ops at revision rev and returns their events; deletes of
// missing keys change nothing and produce no event.
func apply(kv *bolt.Bucket, ops []store.Op, rev int64) ([]store.Event, error) {
	events := make([]store.Event, 0, len(ops))
	for _, op := range ops {
		k := []byte(op.Key)
		if op.Delete {
			if kv.Get(k) == nil {
				continue
			}
			if err := kv.Delete(k); err != nil {
				return nil, fmt.Errorf("delete %q: %w", op.Key, err)
			}
			events = append(events, store.Event{Type: store.EventDelete, KV: store.KV{Key: op.Key, ModRev: rev}})
			continue
		}
		rec := make([]byte, 8+len(op.Value))
		binary.BigEndian.PutUint64(rec, uint64(rev))
		copy(rec[8:], op.Value)
		if err := kv.Put(k, rec); err != nil {
			return nil, fmt.Errorf("put %q: %w", op.Key, err)
		}
		// rec stays owned by the bbolt transaction until commit; the event
		// gets its own copy of the value.
		events = append(events, store.Event{Type: store.EventPut, KV: store.KV{Key: op.Key, Value: append([]byte{}, op.Value...), ModRev: rev}})
	}
	return events, nil
}

func decode(key string, rec []byte) (store.KV, error) {
	if len(rec) < 8 {
		return store.KV{}, fmt.Errorf("key %q: corrupt record (%d bytes)", key, len(rec))
	}
	return store.KV{
		Key:    key,
		Value:  append([]byte{}, rec[8:]...),
		ModRev: int64(binary.BigEndian.Uint64(rec)),
	}, nil
}

func readRev(tx *bolt.Tx) (int64, error) {
	v := tx.Bucket(bucketMeta).Get(keyRev)
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return int64(binary.BigEndian.Uint64(v)), nil
	}
	return 0, fmt.Errorf("corrupt revision (%d bytes)", len(v))
}

func encodeRev(rev int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(rev))
}

// closedErr maps bbolt's "database not open" (a read racing Close) to
// store.ErrClosed.
func closedErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return store.ErrClosed
	}
	return err
}
