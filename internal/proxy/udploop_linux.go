package proxy

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// UDP in the event loops. Each UDP listener belongs to one loop, which
// owns its socket and its flows (so the flow table needs no lock): the
// loop reads the datagrams, finds or starts the client's flow (a connected
// socket to its backend, in the same epoll set) and writes them on; it
// reads the backend's replies and sends them to the client from the
// listener socket. Sockets are level-triggered, and each wake-up relays
// at most udpBatch datagrams per socket, so one busy flow cannot starve
// the others. Flows expire as on the goroutine path, checked by the loop
// every sweepGranularity of the idle timeout. Only the counters cross
// goroutines (atomics), for Stats.

// udpBatch bounds the datagrams relayed per socket and wake-up.
const udpBatch = 64

// uflow is a UDP flow held by an event loop.
type uflow struct {
	l       *udpListener
	client  netip.AddrPort
	id      backendID
	fd      int
	slot    int32
	gen     uint32
	checked *snapshot // the snapshot id was last found eligible in
	last    time.Time // the last datagram, either way
}

// listenUDP opens a non-blocking UDP socket bound to addr (IPV6_V6ONLY for
// IPv6), outside Go's poller. Errors read as the net package's.
func listenUDP(addr netip.AddrPort) (int, error) {
	network, family := "udp6", unix.AF_INET6
	if addr.Addr().Is4() {
		network, family = "udp4", unix.AF_INET
	}
	fail := func(op string, err error) error {
		return &net.OpError{Op: "listen", Net: network, Addr: net.UDPAddrFromAddrPort(addr), Err: os.NewSyscallError(op, err)}
	}
	fd, err := socketTypeFD(family, unix.SOCK_DGRAM)
	if err != nil {
		return -1, fail("socket", err)
	}
	if family == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			closeFD(fd)
			return -1, fail("setsockopt", err)
		}
	}
	var ra rawAddr
	ptr, n := ra.set(addr)
	if _, _, e := unix.RawSyscall(unix.SYS_BIND, uintptr(fd), uintptr(ptr), n); e != 0 {
		closeFD(fd)
		return -1, fail("bind", e)
	}
	return fd, nil
}

// owner picks the loop for a new UDP listener, in turn.
func (s *loopSet) owner() *evLoop {
	return s.loops[int(s.nextUDP.Add(1))%len(s.loops)]
}

// addUDP has lp serve l's socket.
func (lp *evLoop) addUDP(l *udpListener) error {
	errc := make(chan error, 1)
	ok := lp.post(func() {
		lp.utok++
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: lp.utok, Pad: evUDPListen}
		if err := epollCtl(lp.ep, unix.EPOLL_CTL_ADD, l.lfd, &ev); err != nil {
			errc <- err
			return
		}
		l.tok = lp.utok
		l.lflows = make(map[netip.AddrPort]*uflow)
		lp.ulns[l.tok] = l
		errc <- nil
	})
	if !ok {
		return errors.New("event loop stopped")
	}
	return <-errc
}

// removeUDP closes l's flows and socket, and returns once they are closed.
func (lp *evLoop) removeUDP(l *udpListener) {
	done := make(chan struct{})
	if lp.post(func() {
		lp.closeUDP(l)
		close(done)
	}) {
		select {
		case <-done:
		case <-lp.exited: // its shutdown closed everything
		}
	}
}

func (lp *evLoop) closeUDP(l *udpListener) {
	if lp.ulns[l.tok] != l {
		return
	}
	delete(lp.ulns, l.tok)
	for _, f := range l.lflows {
		lp.dropFlow(f)
	}
	closeFD(l.lfd)
}

// udpIn relays datagrams from clients.
func (lp *evLoop) udpIn(l *udpListener) {
	for range udpBatch {
		n, src, err := lp.recvfrom(l.lfd)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return // EAGAIN, or an error reported for an earlier send
		}
		l.ctr.packetsIn.Add(1)
		l.ctr.bytesIn.Add(uint64(n))
		f := lp.flowFor(l, src)
		if f == nil {
			continue
		}
		f.last = lp.now
		_, _ = writeFD(f.fd, lp.buf[:n]) // like the network, drop on error
	}
}

// udpOut relays a backend's replies to the client.
func (lp *evLoop) udpOut(f *uflow) {
	l := f.l
	for range udpBatch {
		n, err := readFD(f.fd, lp.buf)
		switch {
		case err == unix.EAGAIN:
			return
		case err == unix.EINTR, err == unix.ECONNREFUSED:
			continue // ICMP port unreachable from the backend
		case err != nil:
			lp.dropFlow(f)
			return
		}
		f.last = lp.now
		if lp.sendto(l.lfd, lp.buf[:n], f.client) == nil {
			l.ctr.packetsOut.Add(1)
			l.ctr.bytesOut.Add(uint64(n))
		}
	}
}

// flowFor returns the flow of src, creating it, or moving it off a backend
// that is no longer eligible; nil when the datagram must be dropped.
func (lp *evLoop) flowFor(l *udpListener, src netip.AddrPort) *uflow {
	s := l.snap.Load()
	if f := l.lflows[src]; f != nil {
		if f.checked == s || s.isElig[f.id] {
			f.checked = s
			return f
		}
		lp.dropFlow(f)
	}
	id, ok := l.admit(s, src, len(l.lflows))
	if !ok {
		return nil
	}
	family := unix.AF_INET
	if id.addr.Addr().Is6() {
		family = unix.AF_INET6
	}
	fd, err := socketTypeFD(family, unix.SOCK_DGRAM)
	if err == nil {
		if err = connectFD(fd, id.addr); err != nil {
			closeFD(fd)
		}
	}
	if err != nil {
		l.ctr.dialFailures.Add(1)
		return nil
	}
	f := &uflow{l: l, client: src, id: id, fd: fd, checked: s, last: lp.now}
	f.slot, f.gen = lp.uflows.add(f)
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: f.slot, Pad: int32(f.gen<<kindBits) | evUDPFlow}
	if err := epollCtl(lp.ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		closeFD(fd)
		lp.uflows.remove(f.slot)
		l.ctr.dialFailures.Add(1)
		return nil
	}
	l.lflows[src] = f
	l.nflows.Add(1)
	l.loopActive.of(id.key).Add(1)
	l.ctr.newFlows.Add(1)
	return f
}

// dropFlow closes f and forgets it.
func (lp *evLoop) dropFlow(f *uflow) {
	closeFD(f.fd)
	lp.uflows.remove(f.slot)
	l := f.l
	if l.lflows[f.client] == f {
		delete(l.lflows, f.client)
	}
	l.nflows.Add(-1)
	l.loopActive.of(f.id.key).Add(-1)
}

// expireUDP ends the flows idle for their rule's idle timeout, looking at
// each listener every sweepGranularity of it.
func (lp *evLoop) expireUDP() {
	for _, l := range lp.ulns {
		if lp.now.Before(l.nextScan) {
			continue
		}
		idle := l.udpIdle(l.snap.Load())
		l.nextScan = lp.now.Add(sweepGranularity(idle))
		for _, f := range l.lflows {
			if lp.now.Sub(f.last) >= idle {
				l.ctr.idleTimeouts.Add(1)
				lp.dropFlow(f)
			}
		}
	}
}

func (lp *evLoop) recvfrom(fd int) (int, netip.AddrPort, error) {
	n := uint32(unsafe.Sizeof(lp.sa))
	r, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&lp.buf[0])), uintptr(len(lp.buf)),
		0, uintptr(unsafe.Pointer(&lp.sa)), uintptr(unsafe.Pointer(&n)))
	if e != 0 {
		return 0, netip.AddrPort{}, e
	}
	return int(r), sockaddrAddrPort(&lp.sa), nil
}

func (lp *evLoop) sendto(fd int, b []byte, to netip.AddrPort) error {
	ptr, n := lp.ra.set(to)
	_, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
		0, uintptr(ptr), n)
	return errnoErr(e)
}
