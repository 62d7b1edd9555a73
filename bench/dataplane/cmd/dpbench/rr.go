//go:build linux

package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// rrResult is the output of rr: latencies in microseconds, measured from
// the request's scheduled start (open loop: a late start counts as
// latency, so a stall is not hidden by coordinated omission).
type rrResult struct {
	Mode     string  `json:"mode"`
	Rate     float64 `json:"rate"`
	Done     int     `json:"done"`
	Errors   int     `json:"errors"`
	Late     int     `json:"late"` // not started because -max-inflight was reached
	Achieved float64 `json:"achievedPerSecond"`
	P50      float64 `json:"p50us"`
	P90      float64 `json:"p90us"`
	P99      float64 `json:"p99us"`
	P999     float64 `json:"p999us"`
	Max      float64 `json:"maxus"`
	FirstErr string  `json:"firstError,omitempty"`
}

// rrMain sends HTTP/1.1 GETs to -target at a fixed rate for -duration:
// in mode "close" each request on a new connection (connect, request,
// response: what a new flow costs), in mode "keepalive" over -conns
// persistent connections.
func rrMain(args []string) error {
	fs := flag.NewFlagSet("rr", flag.ContinueOnError)
	targetF := fs.String("target", "", "host:port (loopback)")
	mode := fs.String("mode", "close", "close or keepalive")
	rate := fs.Float64("rate", 1000, "requests per second")
	duration := fs.Duration("duration", 5*time.Second, "measurement time")
	nconns := fs.Int("conns", 16, "persistent connections (keepalive)")
	maxInflight := fs.Int("max-inflight", 2000, "requests in flight at most (close)")
	timeout := fs.Duration("timeout", 3*time.Second, "per-request timeout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *targetF == "" || *rate <= 0 {
		return errors.New("-target and a positive -rate are required")
	}
	target := *targetF
	ka := *mode == "keepalive"
	if !ka && *mode != "close" {
		return fmt.Errorf("bad -mode %q", *mode)
	}
	reqClose := []byte("GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
	reqKA := []byte("GET / HTTP/1.1\r\nHost: bench\r\n\r\n")

	total := int(*rate * duration.Seconds())
	lat := make([]time.Duration, total)
	ok := make([]bool, total)
	var (
		errs    atomic.Int64
		late    atomic.Int64
		errMu   sync.Mutex
		firstEr string
	)
	fail := func(err error) {
		errs.Add(1)
		errMu.Lock()
		if firstEr == "" {
			firstEr = err.Error()
		}
		errMu.Unlock()
	}
	interval := time.Duration(float64(time.Second) / *rate)
	start := time.Now().Add(20 * time.Millisecond)
	sched := func(i int) time.Time { return start.Add(time.Duration(i) * interval) }
	// Requests not done by then are abandoned (counted as late), so that
	// a stalled path cannot stretch the run.
	hardStop := start.Add(*duration + *timeout)

	var wg sync.WaitGroup
	if ka {
		tickets := make(chan int, total)
		for range *nconns {
			wg.Go(func() {
				var c net.Conn
				var br *bufio.Reader
				for i := range tickets {
					if time.Now().After(hardStop) {
						late.Add(1)
						continue
					}
					if c == nil {
						var err error
						c, err = net.DialTimeout("tcp4", target, *timeout)
						if err != nil {
							fail(err)
							c = nil
							continue
						}
						br = bufio.NewReader(c)
					}
					_ = c.SetDeadline(time.Now().Add(*timeout))
					if _, err := c.Write(reqKA); err != nil {
						fail(err)
						c.Close()
						c = nil
						continue
					}
					if err := readResponse(br, false); err != nil {
						fail(err)
						c.Close()
						c = nil
						continue
					}
					lat[i] = time.Since(sched(i))
					ok[i] = true
				}
				if c != nil {
					c.Close()
				}
			})
		}
		for i := range total {
			time.Sleep(time.Until(sched(i)))
			tickets <- i
		}
		close(tickets)
	} else {
		sem := make(chan struct{}, *maxInflight)
		for i := range total {
			time.Sleep(time.Until(sched(i)))
			select {
			case sem <- struct{}{}:
			default:
				late.Add(1)
				continue
			}
			wg.Go(func() {
				defer func() { <-sem }()
				c, err := net.DialTimeout("tcp4", target, *timeout)
				if err != nil {
					fail(err)
					return
				}
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(*timeout))
				if _, err := c.Write(reqClose); err != nil {
					fail(err)
					return
				}
				br := bufio.NewReaderSize(c, 1024)
				if err := readResponse(br, true); err != nil {
					fail(err)
					return
				}
				lat[i] = time.Since(sched(i))
				ok[i] = true
				// The server closes first (Connection: close), so TIME_WAIT
				// stays on its side, not on the client's ephemeral ports.
				_, _ = io.Copy(io.Discard, br)
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)

	var ls []time.Duration
	for i := range total {
		if ok[i] {
			ls = append(ls, lat[i])
		}
	}
	slices.Sort(ls)
	us := func(q float64) float64 {
		if len(ls) == 0 {
			return 0
		}
		i := int(q * float64(len(ls)-1))
		return float64(ls[i]) / float64(time.Microsecond)
	}
	r := rrResult{
		Mode: *mode, Rate: *rate, Done: len(ls), Errors: int(errs.Load()), Late: int(late.Load()),
		Achieved: float64(len(ls)) / elapsed.Seconds(),
		P50:      us(0.50), P90: us(0.90), P99: us(0.99), P999: us(0.999), Max: us(1),
		FirstErr: firstEr,
	}
	return printJSON(r)
}

// readResponse reads one HTTP/1.1 response with a Content-Length body.
func readResponse(br *bufio.Reader, closing bool) error {
	line, err := br.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "HTTP/1.1 200") {
		return fmt.Errorf("bad status %q", strings.TrimSpace(line))
	}
	cl := -1
	for {
		h, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		h = strings.TrimRight(h, "\r\n")
		if h == "" {
			break
		}
		if k, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(k, "Content-Length") {
			cl, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if cl < 0 {
		if !closing {
			return errors.New("response without Content-Length")
		}
		_, err := io.Copy(io.Discard, br)
		return err
	}
	_, err = br.Discard(cl)
	return err
}
