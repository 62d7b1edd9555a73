package health

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestReason(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ReasonSuccess},
		{fmt.Errorf("probe: %w", &HTTPStatusError{Code: 503}), "Down_Probe_HttpStatus_503"},
		{&HTTPStatusError{Code: 301}, "Down_Probe_HttpStatus_301"},
		{fmt.Errorf("x: %w", ErrTimeout), ReasonTimeout},
		{context.DeadlineExceeded, ReasonTimeout},
		{os.ErrDeadlineExceeded, ReasonTimeout},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), ReasonConnectionRefused},
		{syscall.ECONNRESET, ReasonConnectionReset},
		{syscall.EHOSTUNREACH, ReasonUnreachable},
		{errors.New("boom"), ReasonError},
	} {
		if got := Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// step is one scripted attempt and the expected state after it.
type step struct {
	ev      string // "ok", "timeout", "refused" or an HTTP status like "503"
	up      bool
	reason  string
	changed bool
}

func scriptErr(ev string) error {
	switch ev {
	case "ok":
		return nil
	case "timeout":
		return ErrTimeout
	case "refused":
		return syscall.ECONNREFUSED
	}
	var code int
	if _, err := fmt.Sscan(ev, &code); err != nil {
		panic("bad script event " + ev)
	}
	return &HTTPStatusError{Code: code}
}

func TestStateScripts(t *testing.T) {
	t.Parallel()
	const (
		up   = true
		down = false
	)
	for _, tc := range []struct {
		name      string
		threshold int
		steps     []step
	}{{
		name:      "first success after boot is up at once",
		threshold: 3,
		steps: []step{
			{"timeout", down, ReasonTimeout, false},
			{"ok", up, ReasonSuccess, true},
		},
	}, {
		name:      "threshold failures to go down",
		threshold: 3,
		steps: []step{
			{"ok", up, ReasonSuccess, true},
			{"timeout", up, ReasonSuccess, false},
			{"refused", up, ReasonSuccess, false},
			{"timeout", down, ReasonTimeout, true},
			{"refused", down, ReasonConnectionRefused, false},
		},
	}, {
		name:      "a success resets the failure run",
		threshold: 2,
		steps: []step{
			{"ok", up, ReasonSuccess, true},
			{"timeout", up, ReasonSuccess, false},
			{"ok", up, ReasonSuccess, false},
			{"timeout", up, ReasonSuccess, false},
			{"timeout", down, ReasonTimeout, true},
		},
	}, {
		name:      "threshold successes to come back",
		threshold: 2,
		steps: []step{
			{"ok", up, ReasonSuccess, true},
			{"timeout", up, ReasonSuccess, false},
			{"timeout", down, ReasonTimeout, true},
			{"ok", down, ReasonTimeout, false},
			{"timeout", down, ReasonTimeout, false},
			{"ok", down, ReasonTimeout, false},
			{"ok", up, ReasonSuccess, true},
		},
	}, {
		name:      "http status marks down immediately",
		threshold: 5,
		steps: []step{
			{"ok", up, ReasonSuccess, true},
			{"503", down, "Down_Probe_HttpStatus_503", true},
			{"ok", down, "Down_Probe_HttpStatus_503", false},
			{"404", down, "Down_Probe_HttpStatus_404", false},
		},
	}, {
		name:      "threshold 0 means 1",
		threshold: 0,
		steps: []step{
			{"ok", up, ReasonSuccess, true},
			{"refused", down, ReasonConnectionRefused, true},
			{"ok", up, ReasonSuccess, true},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s State
			if diff := cmp.Diff(Result{Reason: ReasonNotProbed, LastResult: ReasonNotProbed}, s.Result()); diff != "" {
				t.Fatalf("fresh state (-want +got):\n%s", diff)
			}
			var lastChange time.Time
			for i, st := range tc.steps {
				at := t0.Add(time.Duration(i+1) * time.Second)
				err := scriptErr(st.ev)
				changed := s.Observe(Event{At: at, Latency: time.Duration(i) * time.Millisecond, Err: err}, tc.threshold)
				if changed {
					lastChange = at
				}
				want := Result{
					Up:         st.up,
					Reason:     st.reason,
					LastResult: Reason(err),
					Latency:    time.Duration(i) * time.Millisecond,
					Changed:    lastChange,
					Probed:     at,
				}
				if diff := cmp.Diff(want, s.Result()); diff != "" {
					t.Errorf("after step %d (%s) (-want +got):\n%s", i, st.ev, diff)
				}
				if changed != st.changed {
					t.Errorf("step %d (%s): changed = %v, want %v", i, st.ev, changed, st.changed)
				}
			}
		})
	}
}
