//go:build linux

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// holdBackendMain accepts connections, greets each with one byte (so that
// a client knows its connection reached the backend through the proxy) and
// holds it until the peer closes, until SIGTERM/SIGINT.
func holdBackendMain(args []string) error {
	fs := flag.NewFlagSet("hold-backend", flag.ContinueOnError)
	listen := fs.String("listen", "", "host:port (loopback)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lc := net.ListenConfig{}
	ln, err := lc.Listen(ctx, "tcp4", *listen)
	if err != nil {
		return err
	}
	var (
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				time.Sleep(10 * time.Millisecond) // EMFILE and the like
				continue
			}
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Go(func() {
				if _, err := c.Write([]byte{'H'}); err == nil {
					_, _ = io.Copy(io.Discard, c)
				}
				c.Close()
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			})
		}
	})
	<-ctx.Done()
	ln.Close()
	mu.Lock()
	for c := range conns {
		c.Close()
	}
	mu.Unlock()
	wg.Wait()
	return nil
}

// holdStage is the state with a number of connections held.
type holdStage struct {
	Target    int        `json:"target"`
	Held      int        `json:"held"`
	Failed    int        `json:"failed"`
	OpenSecs  float64    `json:"openSeconds"`
	Proxy     procStatus `json:"proxy"`
	ProxyBase procStatus `json:"proxyBase"`
}

type holdResult struct {
	Stages   []holdStage `json:"stages"`
	Stopped  string      `json:"stopped,omitempty"`
	FirstErr string      `json:"firstError,omitempty"`
}

// holdClientMain opens connections to -target with bounded concurrency,
// each counted as held once the backend's greeting byte has come back
// through the proxy. At each stage (a count of connections) it lets the
// proxy settle, reads /proc/PID/status and the fd count of -pid, then goes
// on; at the end it closes every connection and prints JSON. It gives up
// on a stage after -max-failures failed connections or -stage-timeout.
func holdClientMain(args []string) error {
	fs := flag.NewFlagSet("hold-client", flag.ContinueOnError)
	target := fs.String("target", "", "host:port of the proxy frontend (loopback)")
	stagesF := fs.String("stages", "3000,10000", "comma-separated connection counts to measure at")
	pid := fs.Int("pid", 0, "process whose memory is measured")
	conc := fs.Int("concurrency", 64, "connection attempts in flight")
	settle := fs.Duration("settle", 3*time.Second, "wait before measuring a stage")
	stageTimeout := fs.Duration("stage-timeout", 60*time.Second, "give up on a stage after this long")
	maxFail := fs.Int("max-failures", 200, "give up after this many failed connections")
	signalFile := fs.String("signal-file", "", "after the last stage, create this file and keep the connections until it is removed (at most 60s)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var stages []int
	for _, s := range strings.Split(*stagesF, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("bad stage %q", s)
		}
		stages = append(stages, n)
	}
	if *pid <= 0 {
		return errors.New("-pid is required")
	}
	var res holdResult
	base, err := readProcStatus(*pid)
	if err != nil {
		return err
	}
	var (
		mu      sync.Mutex
		conns   []net.Conn
		failed  atomic.Int64
		errOnce sync.Once
	)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	open := func() {
		d := net.Dialer{Timeout: 5 * time.Second}
		c, err := d.Dial("tcp4", *target)
		if err == nil {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			var b [1]byte
			if _, err = io.ReadFull(c, b[:]); err == nil {
				_ = c.SetReadDeadline(time.Time{})
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				return
			}
			c.Close()
		}
		failed.Add(1)
		errOnce.Do(func() { res.FirstErr = err.Error() })
	}
	held := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}
	for _, target := range stages {
		start := time.Now()
		deadline := start.Add(*stageTimeout)
		sem := make(chan struct{}, *conc)
		var wg sync.WaitGroup
		for attempted := held(); attempted < target; attempted++ {
			if failed.Load() >= int64(*maxFail) {
				res.Stopped = fmt.Sprintf("%d failed connections", failed.Load())
				break
			}
			if time.Now().After(deadline) {
				res.Stopped = "stage timeout"
				break
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				open()
			})
		}
		wg.Wait()
		st := holdStage{Target: target, OpenSecs: time.Since(start).Seconds(), ProxyBase: base}
		time.Sleep(*settle)
		st.Held, st.Failed = held(), int(failed.Load())
		if st.Proxy, err = readProcStatus(*pid); err != nil {
			return err
		}
		res.Stages = append(res.Stages, st)
		if res.Stopped != "" {
			break
		}
	}
	if *signalFile != "" {
		if err := os.WriteFile(*signalFile, nil, 0o644); err != nil {
			return err
		}
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
			if _, err := os.Stat(*signalFile); errors.Is(err, os.ErrNotExist) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return printJSON(res)
}
