// Package dataplane is the contract between Paddock's control plane and its
// data planes. A Config is a complete, immutable description of what must
// carry traffic: listeners (frontend address, port, protocol), where their
// flows go, and how. It knows nothing about ARM: addresses are netip values
// already translated to the host (see the --address-map flag), names are
// opaque keys used for status and metrics.
//
// Data planes take whole configurations and swap them atomically; they never
// receive incremental add/delete calls.
package dataplane

import (
	"context"
	"net/netip"
	"time"
)

// Protocol is a transport protocol of a listener.
type Protocol int

const (
	// TCP listeners accept TCP connections.
	TCP Protocol = iota
	// UDP listeners accept UDP datagrams and track them as flows.
	UDP
)

func (p Protocol) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return "unknown"
}

// Distribution selects the flow hash of a load-balancing rule.
type Distribution int

const (
	// FiveTuple hashes source IP and port, destination IP and port, protocol
	// (Azure "Default").
	FiveTuple Distribution = iota
	// TwoTuple hashes source and destination IP (Azure "SourceIP").
	TwoTuple
	// ThreeTuple hashes source IP, destination IP and protocol (Azure
	// "SourceIPProtocol").
	ThreeTuple
)

func (d Distribution) String() string {
	switch d {
	case FiveTuple:
		return "5-tuple"
	case TwoTuple:
		return "2-tuple"
	case ThreeTuple:
		return "3-tuple"
	}
	return "unknown"
}

// Config is a whole data-plane configuration.
type Config struct {
	// Listeners, one per (frontend address, port, protocol), sorted by
	// address, protocol, port.
	Listeners []Listener
}

// Listener is one frontend socket and what it forwards to.
type Listener struct {
	// Key identifies the listener for status and metrics, e.g.
	// "lb1/fe1/tcp/80" — opaque to data planes.
	Key      string
	Addr     netip.AddrPort
	Protocol Protocol
	// Rule is the load-balancing or NAT rule served here.
	Rule Rule
}

// Rule says where new flows go.
type Rule struct {
	// Name is the rule's opaque identity ("lb1/rule1", "lb1/nat/rdp"),
	// used to keep flows across reconfiguration: a flow stays on its
	// backend while the rule with this Name still lists that backend.
	Name         string
	Distribution Distribution
	// IdleTimeout closes flows that carry no traffic for this long.
	IdleTimeout time.Duration
	// TCPReset sends RST to both sides when a TCP flow idles out; without
	// it the flow is dropped silently (the proxy closes its sockets).
	TCPReset bool
	// Backends eligible for new flows are those whose Healthy is true.
	Backends []Backend
	// NoHealthyAllowAll sends new flows to all backends when none is
	// healthy (Azure AllProbedUp); otherwise new flows are refused.
	NoHealthyAllowAll bool
	// DrainPeriod: connections to a backend removed from the rule are cut
	// after this long; 0 keeps them until they close.
	DrainPeriod time.Duration
}

// Backend is one destination of a rule.
type Backend struct {
	// Key identifies the backend across configurations (for flow
	// stickiness and health), e.g. the ARM ipconfig id or pool/address.
	Key     string
	Addr    netip.AddrPort
	Healthy bool
}

// Status reports how applying a configuration went, per listener key.
type Status struct {
	// Errors maps a listener key to why it could not be served (e.g. the
	// address cannot be bound). Listeners absent from the map are live.
	Errors map[string]error
}

// Programmer is implemented by every data plane.
type Programmer interface {
	// Apply replaces the running configuration with cfg. It returns once
	// the new configuration carries new flows. Listener-level failures are
	// reported in Status, not as an error; the error is for failures of
	// the whole data plane.
	Apply(ctx context.Context, cfg *Config) (Status, error)
}
