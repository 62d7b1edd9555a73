//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// procs starts and stops the benchmark's child processes. Every child gets
// a process group of its own (so that nginx's workers go with their master)
// and SIGKILL if the orchestrator dies; long-lived children are listed in
// DIR/pids ("PGID NAME" lines) so that bench/run-dataplane.sh's trap can
// end them by id even if the orchestrator is killed.
type procs struct {
	dir  string
	mu   sync.Mutex
	pids *os.File
	list []*child
}

type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func newProcs(dir string) (*procs, error) {
	f, err := os.OpenFile(filepath.Join(dir, "pids"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &procs{dir: dir, pids: f}, nil
}

func sysAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func (ps *procs) logFile(name string) (*os.File, error) {
	return os.OpenFile(filepath.Join(ps.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

// start runs a long-lived child with stdout and stderr to DIR/NAME.log.
func (ps *procs) start(name string, argv ...string) (*child, error) {
	lf, err := ps.logFile(name)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = sysAttr()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	ps.mu.Lock()
	ps.list = append(ps.list, c)
	fmt.Fprintf(ps.pids, "%d %s\n", cmd.Process.Pid, name)
	ps.mu.Unlock()
	go func() {
		c.err = cmd.Wait()
		lf.Close()
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM to the child's process group, then SIGKILL after
// grace.
func (c *child) stop(grace time.Duration) {
	if !c.alive() {
		return
	}
	_ = syscall.Kill(-c.pid(), syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
		<-c.done
	}
	// Anything left in the group (e.g. an nginx worker).
	_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
}

// stopAll stops the children in reverse order of start.
func (ps *procs) stopAll() {
	ps.mu.Lock()
	list := ps.list
	ps.list = nil
	ps.mu.Unlock()
	for i := len(list) - 1; i >= 0; i-- {
		list[i].stop(3 * time.Second)
	}
	ps.pids.Close()
}

// run runs a short-lived command with a timeout and returns its stdout;
// its stderr goes to DIR/NAME.log.
func (ps *procs) run(ctx context.Context, timeout time.Duration, name string, argv ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	lf, err := ps.logFile(name)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout = io.MultiWriter(&out, lf)
	cmd.Stderr = lf
	cmd.SysProcAttr = sysAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	if ctx.Err() != nil && err != nil {
		err = fmt.Errorf("%s: %w (%v)", name, ctx.Err(), err)
	} else if err != nil {
		err = fmt.Errorf("%s: %w: %s", name, err, lastLine(out.Bytes()))
	}
	return out.Bytes(), err
}

func lastLine(b []byte) string {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return string(b)
}

// waitUDPEcho waits until a datagram sent to addr comes back.
func waitUDPEcho(ctx context.Context, addr string, limit time.Duration) error {
	raddr, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return err
	}
	c, err := net.DialUDP("udp4", nil, raddr)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(limit)
	buf := make([]byte, 64)
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := c.Write([]byte("ping")); err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, err := c.Read(buf); err == nil && string(buf[:n]) == "ping" {
			return nil
		}
	}
	return errors.New("no UDP echo from " + addr)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
