package proxy

import (
	"errors"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// tcpListenConfig returns how TCP listeners are opened. Accepted sockets
// get the TCP keep-alive Go gives them by default (15 s idle, 15 s
// interval, 9 probes), but from the listening socket, whose options Linux
// copies to every connection it accepts, rather than through four
// setsockopt calls per accepted socket.
func tcpListenConfig() net.ListenConfig {
	return net.ListenConfig{
		KeepAlive: -1, // Go leaves accepted sockets alone
		Control: func(_, _ string, c syscall.RawConn) error {
			var err error
			cerr := c.Control(func(fd uintptr) { err = setListenerKeepAlive(int(fd)) })
			return errors.Join(cerr, err)
		},
	}
}

// setListenerKeepAlive sets Go's default TCP keep-alive on a listening
// socket, for the connections it accepts.
func setListenerKeepAlive(fd int) error {
	return errors.Join(
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1),
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, 15),
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, 15),
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPCNT, 9),
	)
}

// maxQueued bounds what one look at a socket's receive queue reports; a
// receive buffer is far smaller.
const maxQueued = 1 << 30

// activity tells how long a connection has carried no data. On Linux it
// asks the kernel, so the copy loop can splice without looking at the data.
type activity struct {
	client, backend syscall.RawConn
}

func (a *activity) init(client, backend *net.TCPConn) {
	a.client, _ = client.SyscallConn()
	a.backend, _ = backend.SyscallConn()
}

// pump copies src to dst until EOF (nil) or an error, adding what it moves
// to ctr as it goes.
//
// It waits for src to be readable through the poller without holding
// anything, learns how many bytes are queued with one recv(MSG_PEEK |
// MSG_TRUNC) that copies nothing (0 at EOF), then moves exactly those
// with TCPConn.ReadFrom on an io.LimitedReader, which the net package
// turns into splice(2) through a pipe borrowed from its pool. So the
// bytes never enter user space, an idle connection holds no pipe (two
// descriptors per proxied connection, not six), and no splice waits on
// an empty socket.
func (a *activity) pump(dst, src *net.TCPConn, fromClient bool, ctr *atomic.Uint64) error {
	rc := a.backend
	if fromClient {
		rc = a.client
	}
	var (
		queued int
		qerr   error
	)
	wait := func(fd uintptr) bool {
		for {
			n, _, errno := unix.Syscall6(unix.SYS_RECVFROM, fd, 0, maxQueued,
				unix.MSG_PEEK|unix.MSG_TRUNC|unix.MSG_DONTWAIT, 0, 0)
			switch errno {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false // park in the poller until readable
			case 0:
				queued, qerr = int(n), nil
			default:
				queued, qerr = 0, errno
			}
			return true
		}
	}
	lr := io.LimitedReader{R: src}
	for {
		if err := rc.Read(wait); err != nil {
			return err
		}
		if qerr != nil {
			return qerr
		}
		if queued == 0 {
			return nil // EOF
		}
		lr.N = int64(queued)
		n, err := dst.ReadFrom(&lr)
		if n > 0 {
			ctr.Add(uint64(n))
		}
		if err != nil {
			return err
		}
	}
}

// quiet returns how long neither socket has received data: the smaller
// tcpi_last_data_recv of the two. It returns 0 if either socket cannot
// tell (it is being closed: the flow is ending anyway).
func (a *activity) quiet(time.Time) time.Duration {
	c, ok1 := lastDataRecv(a.client)
	b, ok2 := lastDataRecv(a.backend)
	if !ok1 || !ok2 {
		return 0
	}
	return min(c, b)
}

func lastDataRecv(rc syscall.RawConn) (time.Duration, bool) {
	if rc == nil {
		return 0, false
	}
	var (
		info *unix.TCPInfo
		err  error
	)
	cerr := rc.Control(func(fd uintptr) {
		info, err = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	})
	if cerr != nil || err != nil {
		return 0, false
	}
	return time.Duration(info.Last_data_recv) * time.Millisecond, true
}
