package health

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// listen binds a TCP listener on a loopback address of 127.10.7.0/24.
func listen(t *testing.T, host string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	return ln
}

func addrOf(t *testing.T, ln net.Listener) netip.AddrPort {
	t.Helper()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// serve starts an HTTP(S) test server on a 127.10.7.x address.
func serve(t *testing.T, host string, tls bool, h http.Handler) netip.AddrPort {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = listen(t, host)
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return addrOf(t, srv.Listener)
}

func TestNetProber(t *testing.T) {
	t.Parallel()

	// A TCP listener that accepts.
	open := listen(t, "127.10.7.1")
	t.Cleanup(func() { open.Close() })
	// An address where nothing listens.
	closed := listen(t, "127.10.7.2")
	closedAddr := addrOf(t, closed)
	closed.Close()

	var mu sync.Mutex
	var seen []*http.Request
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		switch r.URL.Path {
		case "/healthz":
			w.WriteHeader(http.StatusOK)
		case "/redirect":
			http.Redirect(w, r, "/healthz", http.StatusMovedPermanently)
		case "/created":
			w.WriteHeader(http.StatusCreated)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	plain := serve(t, "127.10.7.3", false, h)
	secure := serve(t, "127.10.7.4", true, h) // self-signed certificate

	p := NewNetProber(nil)
	t.Cleanup(p.Close)
	for _, tc := range []struct {
		name   string
		target Target
		want   string
	}{
		{"tcp open", Target{Addr: addrOf(t, open), Protocol: TCP}, ReasonSuccess},
		{"tcp refused", Target{Addr: closedAddr, Protocol: TCP}, ReasonConnectionRefused},
		{"http 200", Target{Addr: plain, Protocol: HTTP, Path: "/healthz"}, ReasonSuccess},
		{"http path without slash", Target{Addr: plain, Protocol: HTTP, Path: "healthz"}, ReasonSuccess},
		{"http 503", Target{Addr: plain, Protocol: HTTP, Path: "/down"}, "Down_Probe_HttpStatus_503"},
		{"http 201 is not 200", Target{Addr: plain, Protocol: HTTP, Path: "/created"}, "Down_Probe_HttpStatus_201"},
		{"http redirect not followed", Target{Addr: plain, Protocol: HTTP, Path: "/redirect"}, "Down_Probe_HttpStatus_301"},
		{"http refused", Target{Addr: closedAddr, Protocol: HTTP, Path: "/"}, ReasonConnectionRefused},
		{"https self-signed", Target{Addr: secure, Protocol: HTTPS, Path: "/healthz"}, ReasonSuccess},
		{"https 503", Target{Addr: secure, Protocol: HTTPS, Path: "/"}, "Down_Probe_HttpStatus_503"},
		{"https to plain http", Target{Addr: plain, Protocol: HTTPS, Path: "/healthz"}, ReasonError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			err := p.Probe(ctx, tc.target)
			if got := Reason(err); got != tc.want {
				t.Errorf("Probe = %v (%s), want %s", err, got, tc.want)
			}
		})
	}

	t.Run("request shape", func(t *testing.T) {
		t.Parallel()
		if err := p.Probe(t.Context(), Target{Addr: plain, Protocol: HTTP, Path: "healthz?x=1"}); err != nil {
			t.Fatalf("Probe: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		var r *http.Request
		for _, s := range seen {
			if s.URL.RawQuery == "x=1" {
				r = s
			}
		}
		if r == nil {
			t.Fatal("request not seen")
		}
		if r.Method != http.MethodGet || r.URL.Path != "/healthz" || !r.Close || r.UserAgent() != userAgent {
			t.Errorf("request = %s %s close=%v ua=%q; want GET /healthz close=true ua=%q",
				r.Method, r.URL, r.Close, r.UserAgent(), userAgent)
		}
	})
}

func TestNetProberTimeout(t *testing.T) {
	t.Parallel()
	// A server that accepts and never answers.
	ln := listen(t, "127.10.7.5")
	var wg sync.WaitGroup
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	})
	p := NewNetProber(nil)
	t.Cleanup(p.Close)
	for _, proto := range []Protocol{HTTP, HTTPS} {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		err := p.Probe(ctx, Target{Addr: addrOf(t, ln), Protocol: proto, Path: "/"})
		cancel()
		if got := Reason(err); got != ReasonTimeout {
			t.Errorf("%s: Probe = %v (%s), want %s", proto, err, got, ReasonTimeout)
		}
	}
}

func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		t    Target
		want time.Duration
	}{
		{Target{Protocol: TCP, Interval: 5 * time.Second}, 5 * time.Second},
		{Target{Protocol: TCP, Interval: 5 * time.Minute}, 60 * time.Second},
		{Target{Protocol: HTTP, Interval: 45 * time.Second}, 30 * time.Second},
		{Target{Protocol: HTTPS, Interval: 10 * time.Second}, 10 * time.Second},
		{Target{Protocol: HTTP}, 15 * time.Second},
	} {
		if got := AttemptTimeout(tc.t); got != tc.want {
			t.Errorf("AttemptTimeout(%s every %v) = %v, want %v", tc.t.Protocol, tc.t.Interval, got, tc.want)
		}
	}
}
