//go:build !unix

package proxy

import (
	"net"
	"sync"
)

// datagramReader reads datagrams from a connected UDP socket into a buffer
// of its own.
type datagramReader struct {
	c   *net.UDPConn
	buf []byte
}

func newDatagramReader(c *net.UDPConn, _ *sync.Pool) (*datagramReader, error) {
	return &datagramReader{c: c, buf: make([]byte, maxDatagram)}, nil
}

func (r *datagramReader) read() ([]byte, error) {
	n, err := r.c.Read(r.buf)
	if err != nil {
		return nil, err
	}
	return r.buf[:n], nil
}

func (r *datagramReader) release() {}
