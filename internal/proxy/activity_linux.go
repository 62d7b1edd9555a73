package proxy

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// copyChunk is how much one splice run may move before the byte counters
// are updated.
const copyChunk = 1 << 20

// activity tells how long a connection has carried no data. On Linux it
// asks the kernel, so the copy loop can splice without looking at the data.
type activity struct {
	// lag bounds how long a byte counter may lag: a read deadline that
	// ends each splice run at least this often.
	lag             time.Duration
	client, backend syscall.RawConn
	// last is when a chunk last completed (unix ns): the fallback if
	// TCP_INFO is unavailable.
	last atomic.Int64
}

func (a *activity) init(client, backend *net.TCPConn, lag time.Duration) {
	a.lag = lag
	a.last.Store(time.Now().UnixNano())
	a.client, _ = client.SyscallConn()
	a.backend, _ = backend.SyscallConn()
}

// pump copies src to dst until EOF (nil) or an error. io.CopyN between two
// *net.TCPConn ends in TCPConn.ReadFrom with an io.LimitedReader around
// the source, which the net package unwraps to splice(2). Each run ends
// after copyChunk bytes or when the read deadline (a.lag) passes, and adds
// what it moved to ctr.
func (a *activity) pump(dst, src *net.TCPConn, ctr *atomic.Uint64) error {
	for {
		if err := src.SetReadDeadline(time.Now().Add(a.lag)); err != nil {
			return err
		}
		n, err := io.CopyN(dst, src, copyChunk)
		if n > 0 {
			ctr.Add(uint64(n))
			a.last.Store(time.Now().UnixNano())
		}
		switch {
		case err == nil, errors.Is(err, os.ErrDeadlineExceeded):
		case err == io.EOF:
			return nil
		default:
			return err
		}
	}
}

// quiet returns how long neither socket has received data: the smaller
// tcpi_last_data_recv of the two.
func (a *activity) quiet(now time.Time) time.Duration {
	c, ok1 := lastDataRecv(a.client)
	b, ok2 := lastDataRecv(a.backend)
	if ok1 && ok2 {
		return min(c, b)
	}
	return now.Sub(time.Unix(0, a.last.Load()))
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
