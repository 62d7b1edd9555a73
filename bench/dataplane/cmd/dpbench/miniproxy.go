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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// miniproxyMain is a minimal TCP proxy with the same goroutine model as
// internal/proxy (accept loop, a goroutine per direction) but none of its
// bookkeeping (no deadlines, counters, flow maps, Maglev), used to A/B
// how the bytes are moved, to explain where internal/proxy's time goes:
//
//	-mode splice  io.Copy between the two *net.TCPConn: splice(2) through
//	              a pipe, as internal/proxy does
//	-mode copy    read(2)/write(2) through a 16 KiB buffer taken from a
//	              pool only once the socket is readable (RawConn.Read), so
//	              an idle connection holds no buffer and no pipe
//	-mode auto    copy; when a read fills the whole buffer (bulk), splice
//	              what else is queued (SIOCINQ) before waiting again, like
//	              HAProxy's splice-auto, so a pipe is held only while bytes
//	              move
//	-mode peek    splice only: wait for readability without a pipe
//	              (RawConn.Read + recv MSG_PEEK), then splice exactly the
//	              queued bytes (SIOCINQ) with io.CopyN
//
// -keepalive=false turns off the TCP keep-alive that Go enables by default
// on accepted and dialed sockets (4 setsockopt calls per socket). It serves
// the web, iperf and idle ports of the topology on -fe, round-robin over
// the same backends, until SIGTERM/SIGINT.
func miniproxyMain(args []string) error {
	fs := flag.NewFlagSet("miniproxy", flag.ContinueOnError)
	netN := fs.Int("net", 77, "topology network (see dpbench run -net)")
	fe := fs.String("fe", "", "frontend address (loopback)")
	mode := fs.String("mode", "splice", "splice, copy, auto or peek")
	keepalive := fs.Bool("keepalive", true, "leave Go's default TCP keep-alive on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	setNet(*netN)
	if !strings.HasPrefix(*fe, "127.") {
		return errors.New("-fe must be a loopback address")
	}
	if *mode != "splice" && *mode != "copy" && *mode != "auto" && *mode != "peek" {
		return fmt.Errorf("bad -mode %q", *mode)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &mini{mode: *mode}
	m.pool.New = func() any { b := make([]byte, 16<<10); return &b }
	lc := net.ListenConfig{}
	m.dialer.Timeout = 10 * time.Second
	if !*keepalive {
		lc.KeepAlive = -1
		m.dialer.KeepAlive = -1
	}
	var wg sync.WaitGroup
	var lns []net.Listener
	for _, s := range []struct {
		port  int
		hosts []string
	}{{webPort, webBackends}, {iperfPort, iperfBackends}, {idlePort, idleBackends}} {
		ln, err := lc.Listen(ctx, "tcp4", hostPort(*fe, s.port))
		if err != nil {
			return err
		}
		lns = append(lns, ln)
		backends := joinHostPorts(s.hosts, s.port)
		wg.Go(func() { m.acceptLoop(ln.(*net.TCPListener), backends) })
	}
	<-ctx.Done()
	for _, ln := range lns {
		ln.Close()
	}
	wg.Wait()
	return nil
}

type mini struct {
	mode   string
	dialer net.Dialer
	pool   sync.Pool // *[]byte
}

func (m *mini) acceptLoop(ln *net.TCPListener, backends []string) {
	var next atomic.Uint64
	for {
		c, err := ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		be := backends[next.Add(1)%uint64(len(backends))]
		go m.handle(c, be)
	}
}

func (m *mini) handle(c *net.TCPConn, be string) {
	bc, err := m.dialer.Dial("tcp4", be)
	if err != nil {
		_ = c.SetLinger(0)
		c.Close()
		return
	}
	b := bc.(*net.TCPConn)
	done := make(chan struct{})
	go func() {
		m.pipe(c, b)
		close(done)
	}()
	m.pipe(b, c)
	<-done
	c.Close()
	b.Close()
}

// pipe copies src to dst, passes a FIN on, and resets both on an error.
func (m *mini) pipe(dst, src *net.TCPConn) {
	var err error
	switch m.mode {
	case "splice":
		_, err = io.Copy(dst, src)
	case "peek":
		err = m.spliceQueued(dst, src)
	default:
		err = m.copyPooled(dst, src, m.mode == "auto")
	}
	if err == nil {
		_ = dst.CloseWrite()
		return
	}
	_ = src.SetLinger(0)
	_ = dst.SetLinger(0)
	src.Close()
	dst.Close()
}

func (m *mini) copyPooled(dst, src *net.TCPConn, auto bool) error {
	rc, err := src.SyscallConn()
	if err != nil {
		return err
	}
	var (
		buf  *[]byte
		n    int
		rerr error
	)
	fn := func(fd uintptr) bool {
		b := m.pool.Get().(*[]byte)
		nn, e := syscall.Read(int(fd), *b)
		if e == syscall.EAGAIN || e == syscall.EINTR {
			m.pool.Put(b)
			return false // park until readable, holding no buffer
		}
		buf, n, rerr = b, nn, e
		return true
	}
	for {
		if err := rc.Read(fn); err != nil {
			return err
		}
		if rerr != nil || n <= 0 {
			m.pool.Put(buf)
			return rerr // nil at EOF
		}
		full := n == len(*buf)
		_, werr := dst.Write((*buf)[:n])
		m.pool.Put(buf)
		if werr != nil {
			return werr
		}
		if auto && full {
			if err := spliceQueue(dst, src, rc); err != nil {
				return err
			}
		}
	}
}

// spliceQueue splices what src has queued now (SIOCINQ), without waiting.
func spliceQueue(dst, src *net.TCPConn, rc syscall.RawConn) error {
	var q int
	var qerr error
	if err := rc.Control(func(fd uintptr) { q, qerr = unix.IoctlGetInt(int(fd), unix.SIOCINQ) }); err != nil {
		return err
	}
	if qerr != nil || q <= 0 {
		return qerr
	}
	_, err := io.CopyN(dst, src, int64(q))
	return err
}

// spliceQueued waits for src to be readable holding no pipe (a 1-byte
// MSG_PEEK), then splices exactly what is queued.
func (m *mini) spliceQueued(dst, src *net.TCPConn) error {
	rc, err := src.SyscallConn()
	if err != nil {
		return err
	}
	var (
		eof  bool
		perr error
	)
	wait := func(fd uintptr) bool {
		var b [1]byte
		n, _, e := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		switch {
		case e == unix.EAGAIN || e == unix.EINTR:
			return false
		case e != nil:
			perr = e
		case n == 0:
			eof = true
		}
		return true
	}
	for {
		if err := rc.Read(wait); err != nil {
			return err
		}
		if perr != nil {
			return perr
		}
		if eof {
			return nil
		}
		if err := spliceQueue(dst, src, rc); err != nil {
			return err
		}
	}
}
