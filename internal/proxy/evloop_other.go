//go:build !linux

package proxy

import (
	"errors"
	"net/netip"
)

// loopSet is a Proxy's event loops: Linux only. Elsewhere every TCP
// connection takes the goroutine path.
type loopSet struct{}

func startLoops(*Proxy) (*loopSet, error) { return nil, errors.New("event loops need Linux") }

func (*loopSet) addListener(*tcpListener) error { return errors.New("event loops need Linux") }
func (*loopSet) removeListener(*tcpListener)    {}
func (*loopSet) close()                         {}

func listenTCP(netip.AddrPort) (int, error) { return -1, errors.New("event loops need Linux") }
func closeListener(int)                     {}

func (*loopSet) handOverLeavers(*tcpListener, *snapshot) {}

type evLoop struct{}

type uflow struct{}

func listenUDP(netip.AddrPort) (int, error) { return -1, errors.New("event loops need Linux") }

func (*evLoop) removeUDP(*udpListener) {}

func (*loopSet) owner() *evLoop { return nil }

func (*evLoop) addUDP(*udpListener) error { return errors.New("event loops need Linux") }
