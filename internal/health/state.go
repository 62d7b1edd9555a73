// Package health probes backends the way Azure Load Balancer health probes
// do and tracks whether each one is up.
//
// It has three layers, each usable alone:
//
//   - State is a pure state machine per (probe, backend): it consumes probe
//     attempts (Observe) and says Up or Down, with Azure's rules. A member
//     starts Down and turns Up on its first success after boot; afterwards
//     it takes Threshold consecutive failures to go Down and Threshold
//     consecutive successes to come back Up; an HTTP status other than 200
//     marks it Down at once, whatever the threshold.
//   - Prober runs one attempt. NetProber does TCP connects and HTTP/HTTPS
//     GETs (status 200 only, redirects not followed, certificates not
//     verified, Connection: close).
//   - Scheduler probes a set of targets on their intervals, each distinct
//     target once per interval however many rules share it, with a cap on
//     attempts in flight, and publishes results and change notifications.
package health

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// Reasons reported by Result.Reason and Result.LastResult, named after the
// reasons Azure shows for health probe status. HTTP statuses are reported
// as "Down_Probe_HttpStatus_<code>".
const (
	ReasonSuccess           = "Up_Probe_Success"
	ReasonNotProbed         = "Down_Not_Probed"
	ReasonTimeout           = "Down_Probe_Timeout"
	ReasonConnectionRefused = "Down_Probe_ConnectionRefused"
	ReasonConnectionReset   = "Down_Probe_ConnectionReset"
	ReasonUnreachable       = "Down_Probe_Unreachable"
	ReasonError             = "Down_Probe_Error"
)

// ErrTimeout is the error of an attempt that did not finish within its
// timeout.
var ErrTimeout = errors.New("probe timed out")

// HTTPStatusError is the error of an HTTP or HTTPS attempt answered with a
// status other than 200. It marks the member down immediately.
type HTTPStatusError struct {
	Code int
}

func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("http status %d", e.Code)
}

// Reason classifies the outcome of an attempt (nil is a success).
func Reason(err error) string {
	var hs *HTTPStatusError
	switch {
	case err == nil:
		return ReasonSuccess
	case errors.As(err, &hs):
		return fmt.Sprintf("Down_Probe_HttpStatus_%d", hs.Code)
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, os.ErrDeadlineExceeded):
		return ReasonTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return ReasonConnectionRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ReasonConnectionReset
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return ReasonUnreachable
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ReasonTimeout
	}
	return ReasonError
}

// immediate reports whether a failed attempt marks the member down
// regardless of the threshold.
func immediate(err error) bool {
	var hs *HTTPStatusError
	return errors.As(err, &hs)
}

// Event is one probe attempt.
type Event struct {
	// At is when the attempt finished.
	At time.Time
	// Latency is how long it took.
	Latency time.Duration
	// Err is nil for a success.
	Err error
}

// Result is the health of one member as seen from outside.
type Result struct {
	// Up says whether the member may receive new flows.
	Up bool
	// Reason explains the current Up/Down status: the reason of the
	// attempt that caused it, or of the latest attempt agreeing with it.
	Reason string
	// LastResult is the reason of the most recent attempt, which may
	// disagree with Up while the threshold is not reached.
	LastResult string
	// Latency of the most recent attempt.
	Latency time.Duration
	// Changed is when Up last changed (zero: never).
	Changed time.Time
	// Probed is when the most recent attempt finished (zero: never).
	Probed time.Time
}

// State is the health state machine of one (probe, backend) member. The
// zero State is a member never probed: Down, reason ReasonNotProbed.
type State struct {
	r      Result
	everUp bool
	// run counts consecutive attempts that disagree with r.Up.
	run int
}

// Result returns the member's current health.
func (s *State) Result() Result {
	r := s.r
	if r.Reason == "" {
		r.Reason = ReasonNotProbed
	}
	if r.LastResult == "" {
		r.LastResult = ReasonNotProbed
	}
	return r
}

// Up reports whether the member may receive new flows.
func (s *State) Up() bool { return s.r.Up }

// Observe applies one attempt with the given threshold (values below 1
// mean 1) and reports whether Up changed.
func (s *State) Observe(ev Event, threshold int) (changed bool) {
	threshold = max(threshold, 1)
	ok := ev.Err == nil
	reason := Reason(ev.Err)
	s.r.LastResult, s.r.Latency, s.r.Probed = reason, ev.Latency, ev.At
	if ok == s.r.Up {
		s.run = 0
		s.r.Reason = reason
		return false
	}
	s.run++
	switch {
	case ok && !s.everUp: // first success after boot
	case !ok && immediate(ev.Err):
	case s.run >= threshold:
	default:
		return false
	}
	s.r.Up = ok
	s.r.Reason = reason
	s.r.Changed = ev.At
	s.run = 0
	s.everUp = s.everUp || ok
	return true
}
