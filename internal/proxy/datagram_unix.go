//go:build unix

package proxy

import (
	"net"
	"sync"
	"syscall"
)

// datagramReader reads datagrams from a connected UDP socket into pooled
// buffers taken only once a datagram is ready, so that an idle flow holds
// no buffer: a listener may have tens of thousands of flows, each waiting
// in a read.
type datagramReader struct {
	rc   syscall.RawConn
	pool *sync.Pool
	fn   func(fd uintptr) bool // allocated once, reused by every read

	buf *[]byte
	n   int
	err error
}

func newDatagramReader(c *net.UDPConn, pool *sync.Pool) (*datagramReader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &datagramReader{rc: rc, pool: pool}
	r.fn = func(fd uintptr) bool {
		b := r.pool.Get().(*[]byte)
		n, err := syscall.Read(int(fd), *b)
		if err == syscall.EAGAIN || err == syscall.EINTR {
			r.pool.Put(b)
			return false // wait until readable
		}
		r.buf, r.n, r.err = b, n, err
		return true
	}
	return r, nil
}

// read returns the next datagram; the caller calls release when done with
// it.
func (r *datagramReader) read() ([]byte, error) {
	if err := r.rc.Read(r.fn); err != nil {
		return nil, err
	}
	if r.err != nil {
		r.release()
		return nil, r.err
	}
	return (*r.buf)[:r.n], nil
}

func (r *datagramReader) release() {
	if r.buf != nil {
		r.pool.Put(r.buf)
		r.buf = nil
	}
}
