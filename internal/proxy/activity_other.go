//go:build !linux

package proxy

import (
	"io"
	"net"
	"sync/atomic"
	"time"
)

// tcpListenConfig returns how TCP listeners are opened: with Go's default
// TCP keep-alive on accepted sockets.
func tcpListenConfig() net.ListenConfig { return net.ListenConfig{} }

// activity tells how long a connection has carried no data. Off Linux the
// standard library does not splice between TCP sockets, so the copy loop
// reads into a buffer anyway and stamps the time of each read.
type activity struct {
	last atomic.Int64 // unix ns of the last read with data
}

func (a *activity) init(client, backend *net.TCPConn) {
	a.last.Store(time.Now().UnixNano())
}

// pump copies src to dst until EOF (nil) or an error, adding what it moves
// to ctr as it goes.
func (a *activity) pump(dst, src *net.TCPConn, _ bool, ctr *atomic.Uint64) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			a.last.Store(time.Now().UnixNano())
			ctr.Add(uint64(n))
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (a *activity) quiet(now time.Time) time.Duration {
	return now.Sub(time.Unix(0, a.last.Load()))
}
