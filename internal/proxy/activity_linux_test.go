package proxy

import (
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/paddock-lb/paddock/internal/dataplane"
)

// TestTCPIdleConnsHoldNoPipe checks that an idle proxied connection holds
// its two sockets and no splice pipe (which would be two descriptors per
// direction). Not parallel: it counts the process's descriptors.
func TestTCPIdleConnsHoldNoPipe(t *testing.T) {
	fe := feAddr(87, 18087)
	a := newTCPBackend(t, "a", 87)
	p := newProxy(t)
	apply(t, p, tcpConfig(fe, dataplane.Rule{IdleTimeout: time.Minute, Backends: []dataplane.Backend{a.backend(true)}}))
	cl := dial(t, netip.Addr{}, fe)
	cl.echo(t, "warm up")
	cl.Close()
	eventually(t, "flow finished", func() bool { return p.Stats()["lb/fe/tcp/18087"].ActiveFlows == 0 })

	before := countFDs(t)
	const n = 50
	for range n {
		c := dial(t, netip.Addr{}, fe)
		defer c.Close()
		c.echo(t, "spliced once each way")
	}
	// Per connection: the client's, the backend's and the proxy's two
	// sockets, and the pipe of the test backend's own io.Copy (which
	// splices); the proxy holding a pipe per direction would add 4n. The
	// net package pools pipes between splices, and drops some of them
	// (under the race detector) to be closed by the garbage collector.
	limit := 6*n + n/2
	got := 0
	eventually(t, "no pipe per idle connection", func() bool {
		runtime.GC()
		got = countFDs(t) - before
		return got <= limit
	})
	t.Logf("%d idle connections added %d descriptors (limit %d)", n, got, limit)
}

func countFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(es)
}
