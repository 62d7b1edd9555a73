package health

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	addrA = netip.MustParseAddrPort("127.10.7.10:80")
	addrB = netip.MustParseAddrPort("127.10.7.11:80")
)

// scripted is a fake Prober: each target's outcome is set by the test, and
// attempts are counted.
type scripted struct {
	mu       sync.Mutex
	outcome  map[string]error
	attempts map[string]int
	block    bool // block until ctx is done
	inFlight int
	maxSeen  int
}

func newScripted() *scripted {
	return &scripted{outcome: map[string]error{}, attempts: map[string]int{}}
}

func (p *scripted) set(key string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.outcome[key] = err
}

func (p *scripted) count() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps(p.attempts)
}

func maps(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (p *scripted) Probe(ctx context.Context, t Target) error {
	p.mu.Lock()
	p.attempts[t.Key]++
	p.inFlight++
	p.maxSeen = max(p.maxSeen, p.inFlight)
	err, block := p.outcome[t.Key], p.block
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}()
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

func TestSchedulerIntervalsAndDedupe(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newScripted()
		s := New(Options{Prober: p})
		defer s.Close()
		s.Set([]Target{
			{Key: "probe1/a", Addr: addrA, Interval: 5 * time.Second},
			{Key: "probe1/a", Addr: addrA, Interval: 5 * time.Second}, // shared by a second rule
			{Key: "probe2/a", Addr: addrA, Interval: 10 * time.Second},
		})
		synctest.Wait()
		if diff := cmp.Diff(map[string]int{"probe1/a": 1, "probe2/a": 1}, p.count()); diff != "" {
			t.Errorf("attempts at once (-want +got):\n%s", diff)
		}
		time.Sleep(32 * time.Second)
		synctest.Wait()
		// At 0, 5, ..., 30 s and at 0, 10, 20, 30 s.
		if diff := cmp.Diff(map[string]int{"probe1/a": 7, "probe2/a": 4}, p.count()); diff != "" {
			t.Errorf("attempts after 32s (-want +got):\n%s", diff)
		}
	})
}

func TestSchedulerTransitions(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		p := newScripted()
		s := New(Options{Prober: p})
		defer s.Close()
		if len(s.Changes()) != 0 {
			t.Fatal("change pending before any target")
		}
		s.Set([]Target{{Key: "a", Addr: addrA, Interval: 5 * time.Second, Threshold: 2}})
		<-s.Changes() // first success: up
		want := map[string]Result{"a": {
			Up: true, Reason: ReasonSuccess, LastResult: ReasonSuccess, Changed: start, Probed: start,
		}}
		if diff := cmp.Diff(want, s.Snapshot()); diff != "" {
			t.Errorf("after first attempt (-want +got):\n%s", diff)
		}

		p.set("a", syscall.ECONNREFUSED)
		time.Sleep(6 * time.Second) // one failure at 5 s: still up
		synctest.Wait()
		if len(s.Changes()) != 0 {
			t.Error("change notified below the threshold")
		}
		want["a"] = Result{
			Up: true, Reason: ReasonSuccess, LastResult: ReasonConnectionRefused,
			Changed: start, Probed: start.Add(5 * time.Second),
		}
		if diff := cmp.Diff(want, s.Snapshot()); diff != "" {
			t.Errorf("after one failure (-want +got):\n%s", diff)
		}

		<-s.Changes() // second failure at 10 s: down
		if got := time.Since(start); got != 10*time.Second {
			t.Errorf("went down after %v, want 10s", got)
		}
		want["a"] = Result{
			Up: false, Reason: ReasonConnectionRefused, LastResult: ReasonConnectionRefused,
			Changed: start.Add(10 * time.Second), Probed: start.Add(10 * time.Second),
		}
		if diff := cmp.Diff(want, s.Snapshot()); diff != "" {
			t.Errorf("after two failures (-want +got):\n%s", diff)
		}
	})
}

func TestSchedulerAttemptTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newScripted()
		p.block = true
		s := New(Options{Prober: p})
		defer s.Close()
		s.Set([]Target{
			{Key: "http", Addr: addrA, Protocol: HTTP, Interval: 5 * time.Second},
			{Key: "tcp", Addr: addrB, Protocol: TCP, Interval: 2 * time.Minute},
		})
		time.Sleep(61 * time.Second)
		synctest.Wait()
		got := s.Snapshot()
		for key, latency := range map[string]time.Duration{"http": 5 * time.Second, "tcp": time.Minute} {
			r := got[key]
			if r.LastResult != ReasonTimeout || r.Latency != latency || r.Up {
				t.Errorf("%s: %+v, want down by %s after %v", key, r, ReasonTimeout, latency)
			}
		}
		// The HTTP target is probed every 5 s even though each attempt
		// lasts its whole interval.
		if n := p.count()["http"]; n != 13 {
			t.Errorf("http attempts in 61s = %d, want 13", n)
		}
	})
}

func TestSchedulerMaxInFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newScripted()
		p.block = true
		s := New(Options{Prober: p, MaxInFlight: 2})
		defer s.Close()
		var targets []Target
		for _, k := range []string{"a", "b", "c", "d", "e"} {
			targets = append(targets, Target{Key: k, Addr: addrA, Interval: 10 * time.Second})
		}
		s.Set(targets)
		time.Sleep(25 * time.Second)
		synctest.Wait()
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.maxSeen != 2 {
			t.Errorf("max attempts in flight = %d, want 2", p.maxSeen)
		}
		total := 0
		for _, n := range p.attempts {
			total += n
		}
		// Each attempt holds a slot for its 10 s timeout: two slots, three
		// rounds (0, 10, 20 s).
		if total != 6 {
			t.Errorf("attempts in 25s = %d (%v), want 6", total, p.attempts)
		}
	})
}

func TestSchedulerKeepsStateAcrossSet(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		p := newScripted()
		s := New(Options{Prober: p})
		defer s.Close()
		s.Set([]Target{
			{Key: "a", Addr: addrA, Interval: time.Minute},
			{Key: "b", Addr: addrA, Interval: time.Minute},
			{Key: "gone", Addr: addrA, Interval: time.Minute},
		})
		synctest.Wait()
		time.Sleep(10 * time.Second)

		// a: new parameters, same address: keeps its state, and its new
		// interval counts from its last attempt. b: new address: starts
		// over. gone: forgotten.
		s.Set([]Target{
			{Key: "a", Addr: addrA, Protocol: HTTP, Path: "/x", Interval: 15 * time.Second, Threshold: 3},
			{Key: "b", Addr: addrB, Interval: time.Minute},
		})
		synctest.Wait()
		got := s.Snapshot()
		if diff := cmp.Diff([]string{"a", "b"}, keys(got)); diff != "" {
			t.Errorf("keys (-want +got):\n%s", diff)
		}
		if got["a"].Changed != start || got["a"].Probed != start {
			t.Errorf("a = %+v, want its state from %v", got["a"], start)
		}
		if at := start.Add(10 * time.Second); got["b"].Changed != at {
			t.Errorf("b changed at %v, want %v (probed again at once)", got["b"].Changed, at)
		}
		time.Sleep(6 * time.Second)
		synctest.Wait()
		if diff := cmp.Diff(map[string]int{"a": 2, "b": 2, "gone": 1}, p.count()); diff != "" {
			t.Errorf("attempts (-want +got):\n%s", diff)
		}
	})
}

func keys(m map[string]Result) []string {
	var out []string
	for _, k := range []string{"a", "b", "gone", "http", "tcp"} {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

// TestSchedulerNetProberInMemory runs the real HTTP prober against an HTTP
// server over in-memory pipes, in virtual time.
func TestSchedulerNetProberInMemory(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		status := http.StatusOK
		var wg sync.WaitGroup
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			client, server := net.Pipe()
			wg.Go(func() {
				defer server.Close()
				req, err := http.ReadRequest(bufio.NewReader(server))
				if err != nil {
					return
				}
				mu.Lock()
				code := status
				mu.Unlock()
				resp := &http.Response{StatusCode: code, ProtoMajor: 1, ProtoMinor: 1, Request: req, Close: true}
				resp.Write(server)
			})
			return client, nil
		}
		np := NewNetProber(dial)
		s := New(Options{Prober: np})
		defer func() {
			s.Close()
			np.Close()
			wg.Wait()
		}()
		s.Set([]Target{{Key: "web", Addr: addrA, Protocol: HTTP, Path: "health", Interval: 5 * time.Second, Threshold: 2}})
		<-s.Changes()
		if r := s.Snapshot()["web"]; !r.Up {
			t.Fatalf("web = %+v, want up", r)
		}
		mu.Lock()
		status = http.StatusServiceUnavailable
		mu.Unlock()
		start := time.Now()
		<-s.Changes()
		r := s.Snapshot()["web"]
		if r.Up || r.Reason != "Down_Probe_HttpStatus_503" || time.Since(start) != 5*time.Second {
			t.Errorf("web = %+v after %v, want down by HTTP 503 after one attempt (5s)", r, time.Since(start))
		}
	})
}

// fakeClock is a Clock stepped by hand. Its timers fire synchronously in
// Advance; the scheduler's callbacks only signal channels.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// Advance moves time forward by d and fires the timers due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	keep := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.stopped:
		case !t.at.After(c.now):
			t.stopped = true
			due = append(due, t.f)
		default:
			keep = append(keep, t)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}

// TestSchedulerInjectedClock drives the scheduler with a fake clock alone:
// inside the bubble real (virtual) time never moves, so every attempt is
// due to the fake clock. synctest.Wait only synchronizes.
func TestSchedulerInjectedClock(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clock := &fakeClock{now: t0}
		p := newScripted()
		p.set("a", syscall.ECONNREFUSED)
		s := New(Options{Prober: p, Clock: clock})
		defer s.Close()
		s.Set([]Target{{Key: "a", Addr: addrA, Interval: 10 * time.Second, Threshold: 2}})
		synctest.Wait()
		for i, want := range []int{1, 1, 2, 2, 3} {
			if got := p.count()["a"]; got != want {
				t.Errorf("after %v: %d attempts, want %d", time.Duration(i)*5*time.Second, got, want)
			}
			clock.Advance(5 * time.Second)
			synctest.Wait()
		}
		want := Result{Reason: ReasonConnectionRefused, LastResult: ReasonConnectionRefused, Probed: t0.Add(20 * time.Second)}
		if diff := cmp.Diff(want, s.Snapshot()["a"]); diff != "" {
			t.Errorf("result (-want +got):\n%s", diff)
		}
	})
}
