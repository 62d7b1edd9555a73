package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/paddock-lb/paddock/internal/lbplan"
	"github.com/paddock-lb/paddock/internal/server"
	"github.com/paddock-lb/paddock/internal/store/memstore"
)

func put(t *testing.T, base, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, base+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("PUT %s: %d %s", path, resp.StatusCode, b)
	}
}

// TestHealthAndStatus drives the commands against a real server with the
// userspace data plane: an IP-based pool behind a rule without probe (every
// member up), one member administratively down.
func TestHealthAndStatus(t *testing.T) {
	m, _ := lbplan.ParseMapping("10.0.0.0/16=127.31.0.0/16")
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Store: memstore.New(),
		DataPlane: "userspace", AddressMap: lbplan.AddressMap{m}, PublicIPRange: netip.MustParsePrefix("127.31.200.0/24"),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	conn := Conn{Endpoint: srv.URL, Subscription: "sub1", CAFile: srv.CACertFile}
	hc, err := conn.httpClient()
	if err != nil {
		t.Fatal(err)
	}
	http.DefaultClient = hc
	rg := "/subscriptions/sub1/resourceGroups/rg1"
	net := rg + "/providers/Microsoft.Network"
	put(t, srv.URL, rg+"?api-version=2021-04-01", `{"location":"local"}`)
	put(t, srv.URL, net+"/virtualNetworks/vnet?api-version=2024-05-01", `{"location":"local","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"subnets":[{"name":"default","properties":{"addressPrefix":"10.0.0.0/24"}}]}}`)
	lb := net + "/loadBalancers/lb"
	vnet := net + "/virtualNetworks/vnet"
	put(t, srv.URL, lb+"?api-version=2024-05-01", fmt.Sprintf(`{"location":"local","sku":{"name":"Standard"},"properties":{
 "frontendIPConfigurations":[{"name":"fe","properties":{"privateIPAllocationMethod":"Static","privateIPAddress":"10.0.0.100","subnet":{"id":"%[2]s/subnets/default"}}},
   {"name":"fe2","properties":{"privateIPAllocationMethod":"Static","privateIPAddress":"10.0.0.101","subnet":{"id":"%[2]s/subnets/default"}}}],
 "backendAddressPools":[{"name":"pool","properties":{"loadBalancerBackendAddresses":[
   {"name":"a","properties":{"ipAddress":"10.0.0.11","virtualNetwork":{"id":%[2]q}}},
   {"name":"b","properties":{"ipAddress":"10.0.0.12","adminState":"Down","virtualNetwork":{"id":%[2]q}}}]}}],
 "loadBalancingRules":[{"name":"web","properties":{"frontendIPConfiguration":{"id":"%[1]s/frontendIPConfigurations/fe"},"backendAddressPool":{"id":"%[1]s/backendAddressPools/pool"},"protocol":"Tcp","frontendPort":8080,"backendPort":9000}},
   {"name":"ha","properties":{"frontendIPConfiguration":{"id":"%[1]s/frontendIPConfigurations/fe2"},"backendAddressPool":{"id":"%[1]s/backendAddressPools/pool"},"protocol":"All","frontendPort":0,"backendPort":0}}]}}`, lb, vnet))

	// The LB write ends once the data plane applied it.
	deadline := time.Now().Add(10 * time.Second)
	var out bytes.Buffer
	for {
		out.Reset()
		if err := Status(ctx, conn, &out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "127.31.0.100:8080") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{"data plane: userspace", "127.31.0.100:8080  tcp    1/2", "serving", "note: rule ha: HA ports"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status output lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	if err := Health(ctx, conn, "rg1", "lb", "web", &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"web   10.0.0.11", "Up     Up_No_Probe", "10.0.0.12", "Down   Down_Admin_State"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("health output lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	if err := Env(conn, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "export SSL_CERT_FILE="+srv.CACertFile) {
		t.Errorf("env output:\n%s", out.String())
	}
}
