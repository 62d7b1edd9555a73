package health

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Clock is the scheduler's source of time. Under testing/synctest the real
// clock is already virtual; a fake Clock lets other tests step time by hand.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d, unless stopped.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call; it reports whether it did.
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// DefaultMaxInFlight caps concurrent attempts when Options leaves it 0.
const DefaultMaxInFlight = 64

// Options configure a Scheduler. The zero value probes over the network
// with the real clock.
type Options struct {
	// Prober runs attempts; nil means NewNetProber(nil).
	Prober Prober
	// Clock schedules attempts and their timeouts; nil means real time.
	Clock Clock
	// MaxInFlight caps attempts running at once; 0 means
	// DefaultMaxInFlight. Attempts due beyond it wait for a free slot.
	MaxInFlight int
	// Logger receives status changes; nil discards them.
	Logger *slog.Logger
}

// Scheduler probes targets on their intervals. Its methods are safe for
// concurrent use.
//
// It owns one dispatch goroutine and at most MaxInFlight attempt
// goroutines; each attempt ends within its AttemptTimeout. Close stops them
// all.
type Scheduler struct {
	prober      Prober
	clock       Clock
	log         *slog.Logger
	maxInFlight int

	ctx     context.Context // canceled by Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	wake    chan struct{} // to the dispatcher: targets changed or a slot freed
	changes chan struct{}

	mu       sync.Mutex
	entries  map[string]*entry
	queue    queue // entries waiting for their next attempt
	inFlight int
}

// entry is the scheduling state of one target. Guarded by Scheduler.mu.
type entry struct {
	target  Target
	state   State
	next    time.Time // when the next attempt is due
	started time.Time // when the last attempt started (zero: never)
	index   int       // position in the queue; -1 while running or removed
	removed bool
}

// errAttemptTimeout is the cancellation cause of an attempt that ran out of
// time.
var errAttemptTimeout = errors.New("attempt timeout")

// New starts a scheduler with no targets.
func New(opts Options) *Scheduler {
	s := &Scheduler{
		prober:      opts.Prober,
		clock:       opts.Clock,
		log:         opts.Logger,
		maxInFlight: opts.MaxInFlight,
		wake:        make(chan struct{}, 1),
		changes:     make(chan struct{}, 1),
		entries:     make(map[string]*entry),
	}
	if s.prober == nil {
		s.prober = NewNetProber(nil)
	}
	if s.clock == nil {
		s.clock = realClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxInFlight <= 0 {
		s.maxInFlight = DefaultMaxInFlight
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.dispatch()
	return s
}

// Set replaces the watched targets. Targets with a Key already watched at
// the same Addr keep their state (and their schedule, unless the interval
// changed); new ones start Down and are probed at once; missing ones are
// forgotten. When several targets share a Key, the first one counts.
func (s *Scheduler) Set(targets []Target) {
	s.mu.Lock()
	now := s.clock.Now()
	seen := make(map[string]bool, len(targets))
	for _, t := range targets {
		if seen[t.Key] {
			continue
		}
		seen[t.Key] = true
		t = t.withDefaults()
		e, ok := s.entries[t.Key]
		if ok && e.target.Addr != t.Addr {
			s.remove(e)
			ok = false
		}
		if !ok {
			e = &entry{target: t, next: now, index: -1}
			s.entries[t.Key] = e
			heap.Push(&s.queue, e)
			continue
		}
		oldInterval := e.target.Interval
		e.target = t
		if t.Interval != oldInterval && e.index >= 0 {
			e.next = now
			if !e.started.IsZero() {
				e.next = later(e.started.Add(t.Interval), now)
			}
			heap.Fix(&s.queue, e.index)
		}
	}
	for k, e := range s.entries {
		if !seen[k] {
			s.remove(e)
		}
	}
	s.mu.Unlock()
	notify(s.wake)
}

// remove forgets e. Called with s.mu held.
func (s *Scheduler) remove(e *entry) {
	e.removed = true
	delete(s.entries, e.target.Key)
	if e.index >= 0 {
		heap.Remove(&s.queue, e.index)
	}
}

// Snapshot returns the current result of every target, by Key.
func (s *Scheduler) Snapshot() map[string]Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Result, len(s.entries))
	for k, e := range s.entries {
		out[k] = e.state.Result()
	}
	return out
}

// Changes returns a channel that receives a value after some target's Up
// changed. Notifications coalesce: one value may stand for many changes, so
// a receiver should read Snapshot after each.
func (s *Scheduler) Changes() <-chan struct{} { return s.changes }

// Close stops probing and waits for every goroutine of the scheduler to
// return. Attempts in flight are canceled and their results dropped.
func (s *Scheduler) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

// dispatch starts attempts as they fall due, while slots are free.
func (s *Scheduler) dispatch() {
	defer s.wg.Done()
	poke := func() { notify(s.wake) }
	for {
		var timer Timer
		if wait, ok := s.startDue(); ok {
			timer = s.clock.AfterFunc(wait, poke)
		}
		select {
		case <-s.ctx.Done():
		case <-s.wake:
		}
		if timer != nil {
			timer.Stop()
		}
		if s.ctx.Err() != nil {
			return
		}
	}
}

// startDue starts every due attempt that fits in the cap. It returns how
// long until the next one falls due, and false when nothing is waiting or
// the cap is reached (a finishing attempt wakes the dispatcher).
func (s *Scheduler) startDue() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	for len(s.queue) > 0 {
		e := s.queue[0]
		if e.next.After(now) {
			return e.next.Sub(now), true
		}
		if s.inFlight >= s.maxInFlight {
			return 0, false
		}
		heap.Pop(&s.queue)
		s.inFlight++
		e.started = now
		s.wg.Add(1)
		go s.attempt(e, e.target, now)
	}
	return 0, false
}

// attempt runs one probe of t and records its result in e.
func (s *Scheduler) attempt(e *entry, t Target, start time.Time) {
	defer s.wg.Done()
	ctx, cancel := context.WithCancelCause(s.ctx)
	timer := s.clock.AfterFunc(AttemptTimeout(t), func() { cancel(errAttemptTimeout) })
	err := s.prober.Probe(ctx, t)
	timer.Stop()
	if err != nil && errors.Is(context.Cause(ctx), errAttemptTimeout) {
		err = fmt.Errorf("probe %s %s: %w after %v (%w)", t.Protocol, t.Addr, ErrTimeout, AttemptTimeout(t), err)
	}
	cancel(nil)
	end := s.clock.Now()

	s.mu.Lock()
	s.inFlight--
	changed := false
	var r Result
	if !e.removed && s.ctx.Err() == nil {
		changed = e.state.Observe(Event{At: end, Latency: end.Sub(start), Err: err}, e.target.Threshold)
		r = e.state.Result()
		e.next = later(start.Add(e.target.Interval), end)
		heap.Push(&s.queue, e)
	}
	s.mu.Unlock()

	notify(s.wake)
	if changed {
		s.log.Info("health changed", "target", t.Key, "addr", t.Addr, "up", r.Up, "reason", r.Reason)
		notify(s.changes)
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// notify sends on a coalescing channel of capacity 1 without blocking.
func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// queue is a min-heap of entries by next due time.
type queue []*entry

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].next.Equal(q[j].next) {
		return q[i].next.Before(q[j].next)
	}
	return q[i].target.Key < q[j].target.Key
}
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}
func (q *queue) Push(x any) {
	e := x.(*entry)
	e.index = len(*q)
	*q = append(*q, e)
}
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.index = -1
	*q = old[:len(old)-1]
	return e
}
