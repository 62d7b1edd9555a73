package proxy

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/paddock-lb/paddock/internal/dataplane"
	"golang.org/x/sys/unix"
)

// backoffEnv runs TestEventLoopAcceptBackoff's body: it lowers the
// process's descriptor limit, so it runs alone in a child process.
const backoffEnv = "PADDOCK_PROXY_BACKOFF_CHILD"

// TestEventLoopAcceptBackoff: out of descriptors, the event loops stop
// watching the listening socket for a while instead of spinning on it, and
// serve the waiting connections once descriptors are free again.
func TestEventLoopAcceptBackoff(t *testing.T) {
	if os.Getenv(backoffEnv) == "" {
		if os.Getenv(noLoopsEnv) != "" {
			t.Skip("no event loops")
		}
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run", "^TestEventLoopAcceptBackoff$", "-test.count", "1", "-test.v")
		cmd.Env = append(os.Environ(), backoffEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		t.Logf("child:\n%s", out)
		return
	}
	fe := feAddr(130, 18130)
	a := newTCPBackend(t, "a", 130)
	p := newProxy(t)
	apply(t, p, tcpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{a.backend(true)}}))
	cl := dial(t, netip.Addr{}, fe) // the loops are up and serving
	cl.echo(t, "before")

	// Client sockets made now connect later without new descriptors.
	const n = 4
	var socks [n]int
	for i := range socks {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		socks[i] = fd
	}
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	// The limit is on descriptor numbers: at the lowest free one, no
	// descriptor can be had.
	free, err := unix.Dup(0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(free)
	low := unix.Rlimit{Cur: uint64(free), Max: old.Max}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer restore()
	a4 := fe.Addr().As4()
	for _, fd := range socks {
		// The kernel completes the handshake; accept4 then fails.
		if err := unix.Connect(fd, &unix.SockaddrInet4{Port: int(fe.Port()), Addr: a4}); err != nil {
			t.Fatalf("connect: %v", err)
		}
	}
	var r0, r1 unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &r0)
	time.Sleep(500 * time.Millisecond)
	_ = unix.Getrusage(unix.RUSAGE_SELF, &r1)
	used := time.Duration(r1.Utime.Nano()+r1.Stime.Nano()-r0.Utime.Nano()-r0.Stime.Nano()) * time.Nanosecond
	restore()
	// A loop spinning on the readable socket burns a whole CPU.
	if used > 250*time.Millisecond {
		t.Errorf("the process used %v of CPU in 500 ms while out of descriptors: the loops spin", used)
	}
	t.Logf("CPU while out of descriptors: %v in 500 ms", used)
	for i, fd := range socks {
		f := os.NewFile(uintptr(fd), "client")
		nc, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		c := nc.(*net.TCPConn)
		c.SetDeadline(time.Now().Add(waitFor))
		buf := make([]byte, 2)
		if _, err := c.Read(buf); err != nil || string(buf) != "a\n" {
			t.Errorf("waiting connection %d: read %q, %v; want the backend's name", i, buf, err)
		}
		c.Close()
	}
	if st := p.Stats()["lb/fe/tcp/18130"]; st.DialFailures != 0 || st.NewFlows != n+1 {
		t.Errorf("DialFailures, NewFlows = %d, %d; want 0, %d", st.DialFailures, st.NewFlows, n+1)
	}
	cl.echo(t, "after")
}

// TestEventLoopsGOMAXPROCS: the loops' Ps are added while they run and
// given back by Close. Not parallel: GOMAXPROCS is the process's.
func TestEventLoopsGOMAXPROCS(t *testing.T) {
	if os.Getenv(noLoopsEnv) != "" {
		t.Skip("no event loops")
	}
	before := runtime.GOMAXPROCS(0)
	opts := testOptions()
	opts.EventLoops = 3
	p := New(opts)
	apply(t, p, tcpConfig(feAddr(134, 18134), dataplane.Rule{}))
	if got := runtime.GOMAXPROCS(0); got != before+3 {
		t.Errorf("GOMAXPROCS with 3 loops = %d, want %d", got, before+3)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("GOMAXPROCS after Close = %d, want %d", got, before)
	}
}
