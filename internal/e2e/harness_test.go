package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock-lb/paddock/internal/lbplan"
	"github.com/paddock-lb/paddock/internal/server"
	"github.com/paddock-lb/paddock/internal/store/memstore"
)

// env is one Paddock server with the userspace data plane, whose VNet
// 10.0.0.0/16 is served on a loopback /16 of its own (127.X.0.0/16), so
// parallel tests never share addresses.
type env struct {
	t       *testing.T
	url     string
	hostNet byte // X in 127.X.0.0/16
	sub, rg string
	client  *http.Client
}

var usedNets sync.Map

// pickNet picks a loopback /16 no other test of this process uses and
// whose frontend address is free on this machine.
func pickNet() byte {
	for {
		x := byte(20 + rand.IntN(200))
		if _, loaded := usedNets.LoadOrStore(x, true); loaded {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.%d.0.100:8080", x))
		if err != nil {
			continue // someone else serves there
		}
		ln.Close()
		return x
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	x := pickNet()
	m, err := lbplan.ParseMapping(fmt.Sprintf("10.0.0.0/16=127.%d.0.0/16", x))
	if err != nil {
		t.Fatal(err)
	}
	pip := netip.MustParsePrefix(fmt.Sprintf("127.%d.200.0/24", x))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Start(ctx, server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), InsecureHTTP: true, Store: memstore.New(),
		DataPlane: "userspace", AddressMap: lbplan.AddressMap{m}, PublicIPRange: pip,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		cancel()
	})
	e := &env{t: t, url: srv.URL, hostNet: x, sub: "sub1", rg: "rg1", client: &http.Client{Timeout: 30 * time.Second}}
	e.put("/subscriptions/sub1/resourceGroups/rg1?api-version=2021-04-01", `{"location":"local"}`)
	e.put(e.net("virtualNetworks/vnet"), `{"location":"local","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"subnets":[{"name":"default","properties":{"addressPrefix":"10.0.0.0/24"}}]}}`)
	return e
}

const apiVersion = "2024-05-01"

// net returns the path of a Microsoft.Network resource in the env's group.
func (e *env) net(rel string) string {
	return "/subscriptions/" + e.sub + "/resourceGroups/" + e.rg + "/providers/Microsoft.Network/" + rel + "?api-version=" + apiVersion
}

// id returns a Microsoft.Network resource id in the env's group.
func (e *env) id(rel string) string {
	return "/subscriptions/" + e.sub + "/resourceGroups/" + e.rg + "/providers/Microsoft.Network/" + rel
}

// host maps a VNet address to the loopback address it is served on.
func (e *env) host(vnetAddr string) string {
	a := netip.MustParseAddr(vnetAddr).As4()
	return fmt.Sprintf("127.%d.%d.%d", e.hostNet, a[2], a[3])
}

func (e *env) do(method, path, body string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// put PUTs a resource and waits for its operation to end; it returns the
// final operation status body.
func (e *env) put(path, body string) map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPut, e.url+path, strings.NewReader(body))
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("PUT %s: %v", path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 && resp.StatusCode != 201 {
		e.t.Fatalf("PUT %s: %d %s", path, resp.StatusCode, b)
	}
	return e.waitOp(resp.Header.Get("Azure-AsyncOperation"))
}

// waitOp polls an Azure-AsyncOperation URL until the operation ends.
func (e *env) waitOp(url string) map[string]any {
	e.t.Helper()
	if url == "" {
		return map[string]any{"status": "Succeeded"}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := e.client.Get(url)
		if err != nil {
			e.t.Fatalf("poll %s: %v", url, err)
		}
		var st map[string]any
		json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if s, _ := st["status"].(string); s != "InProgress" {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("operation %s still InProgress after 20s", url)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) get(path string, v any) {
	e.t.Helper()
	code, b := e.do(http.MethodGet, path, "")
	if code != 200 {
		e.t.Fatalf("GET %s: %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		e.t.Fatal(err)
	}
}

// backend is an HTTP server on a loopback address that answers its name
// and can be stopped and restarted.
type backend struct {
	t    *testing.T
	name string
	addr string
	mu   sync.Mutex
	srv  *http.Server
	hits int
}

func startBackend(t *testing.T, name, addr string) *backend {
	b := &backend{t: t, name: name, addr: addr}
	b.start()
	t.Cleanup(b.stop)
	return b
}

func (b *backend) start() {
	b.t.Helper()
	ln, err := net.Listen("tcp", b.addr)
	if err != nil {
		b.t.Fatalf("backend %s: %v", b.name, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.hits++
		b.mu.Unlock()
		io.WriteString(w, b.name)
	})}
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	go srv.Serve(ln)
}

func (b *backend) stop() {
	b.mu.Lock()
	srv := b.srv
	b.srv = nil
	b.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// fetch makes one request on a new connection and returns the body.
func fetch(url string) (string, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
