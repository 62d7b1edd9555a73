package proxy

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/paddock-lb/paddock/internal/dataplane"
)

// ListenerStats are the counters of one listener. Counters only grow for
// the life of the listener; a listener removed from the configuration
// loses them.
type ListenerStats struct {
	Addr     netip.AddrPort
	Protocol dataplane.Protocol
	// BytesIn counts payload bytes from clients to backends, BytesOut from
	// backends to clients. TCP bytes are counted once relayed, in batches
	// of what the source socket had queued, so the counters of an open
	// connection lag its traffic only by what is being relayed now (at
	// most a receive buffer).
	BytesIn, BytesOut uint64
	// PacketsIn and PacketsOut count UDP datagrams; a userspace proxy does
	// not see TCP segments, so they stay 0 for TCP.
	PacketsIn, PacketsOut uint64
	// NewFlows counts TCP connections accepted (Azure's SYN count) or UDP
	// flows started.
	NewFlows uint64
	// Refused counts new flows turned away for want of an eligible
	// backend.
	Refused uint64
	// Dropped counts new flows turned away because the listener was full
	// (Options.MaxConns, Options.MaxUDPFlows).
	Dropped uint64
	// DialFailures counts new flows whose backend could not be reached.
	DialFailures uint64
	// IdleTimeouts counts flows ended by the idle timeout.
	IdleTimeouts uint64
	// Drained counts TCP connections cut at the end of a drain period.
	Drained uint64
	// ActiveFlows is the number of flows now open.
	ActiveFlows int
	// EligibleBackends is how many backends take new flows; 0 means new
	// flows are refused (Azure's data path availability is down).
	EligibleBackends int
	// Backends are the backends of the rule and those that left it but
	// still have flows, by key.
	Backends map[string]BackendStats
}

// BackendStats describe one backend of a listener.
type BackendStats struct {
	// Member says the rule lists the backend; false while its flows
	// drain.
	Member bool
	// Healthy is the health the configuration gave it.
	Healthy bool
	// Eligible says it takes new flows.
	Eligible bool
	// ActiveFlows is its number of open flows.
	ActiveFlows int
}

// Stats returns the counters of every listener, by listener Key.
func (p *Proxy) Stats() map[string]ListenerStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]ListenerStats, len(p.listeners))
	for _, l := range p.listeners {
		st := l.stats()
		out[st.key] = st.ListenerStats
	}
	return out
}

// keyedStats is a ListenerStats with its listener Key.
type keyedStats struct {
	ListenerStats
	key string
}

func (c *counters) stats(k lkey, name string) keyedStats {
	return keyedStats{key: name, ListenerStats: ListenerStats{
		Addr:         k.addr,
		Protocol:     k.proto,
		BytesIn:      c.bytesIn.Load(),
		BytesOut:     c.bytesOut.Load(),
		PacketsIn:    c.packetsIn.Load(),
		PacketsOut:   c.packetsOut.Load(),
		NewFlows:     c.newFlows.Load(),
		Refused:      c.refused.Load(),
		Dropped:      c.dropped.Load(),
		DialFailures: c.dialFailures.Load(),
		IdleTimeouts: c.idleTimeouts.Load(),
		Drained:      c.drained.Load(),
	}}
}

// backendStats combines a snapshot's backends with active flow counts.
func backendStats(s *snapshot, active map[string]int) map[string]BackendStats {
	out := make(map[string]BackendStats, len(s.healthy))
	eligible := make(map[string]bool, len(s.eligible))
	for _, id := range s.eligible {
		eligible[id.key] = true
	}
	for key, healthy := range s.healthy {
		out[key] = BackendStats{Member: true, Healthy: healthy, Eligible: eligible[key]}
	}
	for key, n := range active {
		b := out[key]
		b.ActiveFlows = n
		out[key] = b
	}
	return out
}

// loopCounts counts the flows event loops hold, by backend key, without a
// lock that the loops would contend for.
type loopCounts struct {
	m sync.Map // backend key → *atomic.Int64
}

// of returns the counter of backend key.
func (c *loopCounts) of(key string) *atomic.Int64 {
	v, ok := c.m.Load(key)
	if !ok {
		v, _ = c.m.LoadOrStore(key, new(atomic.Int64))
	}
	return v.(*atomic.Int64)
}

// addTo adds the counts above zero to active.
func (c *loopCounts) addTo(active map[string]int) {
	c.m.Range(func(k, v any) bool {
		if n := v.(*atomic.Int64).Load(); n > 0 {
			active[k.(string)] += int(n)
		}
		return true
	})
}
