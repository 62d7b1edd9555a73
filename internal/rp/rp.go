// Package rp is Paddock's resource-provider logic: it turns an ARM request
// (already routed and api-version-checked by armhttp) into a store
// transaction. For every write it decodes the body, applies Azure's defaults,
// validates (collecting every problem with its JSON path), resolves
// references against the request body and the stored state, allocates
// addresses, keeps every read-only back-reference true, and commits all of
// it atomically with compare-and-swap; a conflicting concurrent write makes
// it start over.
//
// Back-references with a large fan-out (a pool's backendIPConfigurations, a
// subnet's ipConfigurations) are kept as index keys rather than inside the
// referenced document, so adding the 5,000th member does not rewrite a huge
// document; they are joined in when a resource is read.
package rp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/store"
)

// Options configure a Service.
type Options struct {
	Store store.Store
	// PublicIPRange is where public IP addresses are allocated from. The
	// default, 127.224.0.0/16, is on loopback so that frontends work on a
	// laptop without privileges.
	PublicIPRange netip.Prefix
	Logger        *slog.Logger
	// Now is the clock (tests inject one); defaults to time.Now.
	Now func() time.Time
	// DataPlane, when set, makes writes that change traffic wait for the
	// data plane: they are acknowledged Updating / InProgress and end when
	// the controller calls CompletePending.
	DataPlane bool
}

// DefaultPublicIPRange is the default range for public IP allocation.
var DefaultPublicIPRange = netip.MustParsePrefix("127.224.0.0/16")

// Service implements the resource providers over a store.
type Service struct {
	st        store.Store
	pipRange  netip.Prefix
	log       *slog.Logger
	now       func() time.Time
	dataPlane bool
	// reserved holds the address keys that transactions of this process
	// are about to claim, so that concurrent allocations pick different
	// addresses instead of racing for the lowest free one. Correctness
	// does not depend on it: every claim is a store condition.
	resMu    sync.Mutex
	reserved map[string]bool
	// hints remember, per subnet or public range, where the next free
	// address probably is (see allocateFree).
	hints map[string]netip.Addr
}

// reserve marks key as being claimed by t until t ends; it reports false
// when another transaction of this process holds it.
func (s *Service) reserve(t *txn, key string) bool {
	s.resMu.Lock()
	defer s.resMu.Unlock()
	if s.reserved[key] {
		return false
	}
	if s.reserved == nil {
		s.reserved = map[string]bool{}
	}
	s.reserved[key] = true
	t.done = append(t.done, func() {
		s.resMu.Lock()
		delete(s.reserved, key)
		s.resMu.Unlock()
	})
	return true
}

// New returns a Service.
func New(opts Options) *Service {
	s := &Service{st: opts.Store, pipRange: opts.PublicIPRange, log: opts.Logger, now: opts.Now, dataPlane: opts.DataPlane}
	if !s.pipRange.IsValid() {
		s.pipRange = DefaultPublicIPRange
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Call is one request to a resource provider.
type Call struct {
	ID          arm.ResourceID
	APIVersion  arm.APIVersion
	Body        []byte
	IfMatch     string
	IfNoneMatch string
	// Query holds request query parameters the operation may use.
	Query map[string]string
}

// Result is the outcome of a successful call.
type Result struct {
	Status int
	// Body is the JSON response body (nil for none).
	Body []byte
	// Operation, when set, is the long-running operation that tracks the
	// call; armhttp turns it into Azure-AsyncOperation / Location headers.
	Operation *Operation
}

const maxAttempts = 64

// retry runs fn in a fresh transaction until it commits without conflict.
// fn returns the result to send once its transaction commits.
func (s *Service) retry(ctx context.Context, fn func(t *txn) (*Result, error)) (*Result, error) {
	for attempt := 0; ; attempt++ {
		t := newTxn(ctx, s.st)
		t.svc = s
		res, err := fn(t)
		if err != nil {
			t.finish()
			return nil, err
		}
		if len(t.writes) == 0 {
			t.finish()
			return res, nil
		}
		_, err = t.commit()
		t.finish()
		if errors.Is(err, store.ErrConflict) {
			if attempt >= maxAttempts {
				return nil, arm.Errorf(http.StatusConflict, arm.CodeAnotherOperation, "Another operation on this or a dependent resource is in progress. Retry the request later.")
			}
			if err := sleepBackoff(ctx, attempt); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("commit: %w", err)
		}
		return res, nil
	}
}

func sleepBackoff(ctx context.Context, attempt int) error {
	if attempt < 2 {
		return nil
	}
	d := time.Duration(attempt) * 500 * time.Microsecond
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}
