package maglev

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
)

// IP protocol numbers for the flow hashes.
const (
	ProtoTCP uint8 = 6
	ProtoUDP uint8 = 17
)

// FlowHasher hashes flow tuples with hash/maphash (fast, non-cryptographic,
// allocation-free) under a random seed, so that flow placement cannot be
// predicted from outside the process. Flows are only sticky within one
// process, which is all a proxy can offer anyway: its connections do not
// survive a restart.
//
// Addresses are unmapped first, so an IPv4 peer hashes the same whether a
// socket reports it as 192.0.2.1 or ::ffff:192.0.2.1. The zero FlowHasher
// is not usable; use NewFlowHasher.
type FlowHasher struct {
	seed maphash.Seed
}

// NewFlowHasher returns a FlowHasher with a fresh random seed.
func NewFlowHasher() FlowHasher {
	return FlowHasher{seed: maphash.MakeSeed()}
}

// tupleLen is two 16-byte addresses, two ports and a protocol.
const tupleLen = 16 + 16 + 2 + 2 + 1

func (h FlowHasher) sum(src, dst netip.Addr, sport, dport uint16, proto uint8) uint64 {
	var b [tupleLen]byte
	s := src.Unmap().As16()
	d := dst.Unmap().As16()
	copy(b[0:16], s[:])
	copy(b[16:32], d[:])
	binary.BigEndian.PutUint16(b[32:34], sport)
	binary.BigEndian.PutUint16(b[34:36], dport)
	b[36] = proto
	return maphash.Bytes(h.seed, b[:])
}

// FiveTuple hashes source and destination address and port and the
// protocol (Azure distribution "Default").
func (h FlowHasher) FiveTuple(src, dst netip.AddrPort, proto uint8) uint64 {
	return h.sum(src.Addr(), dst.Addr(), src.Port(), dst.Port(), proto)
}

// ThreeTuple hashes source and destination address and the protocol
// (Azure "SourceIPProtocol").
func (h FlowHasher) ThreeTuple(src, dst netip.Addr, proto uint8) uint64 {
	return h.sum(src, dst, 0, 0, proto)
}

// TwoTuple hashes source and destination address (Azure "SourceIP").
func (h FlowHasher) TwoTuple(src, dst netip.Addr) uint64 {
	return h.sum(src, dst, 0, 0, 0)
}
