package server_test

// The sdk_*_test.go files drive a real Paddock server (HTTPS on loopback,
// bolt store in a temporary directory) with the real Azure SDK for Go, the
// way azure-clients.md §1.1 points the SDK at a self-hosted endpoint: a
// static token credential, a cloud.Configuration naming the server, and an
// http.Client that trusts the server's CA. Raw-HTTP helpers beside them
// send exact bodies and headers for the error-contract tests.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/paddock-lb/paddock/internal/server"
)

const (
	testSub  = "00000000-0000-0000-0000-000000000001"
	location = "eastus"
	// netAPI is the Microsoft.Network api-version armnetwork v9 speaks; raw
	// requests use it too.
	netAPI = "2025-05-01"
	// computeAPI is the Microsoft.Compute api-version armcompute v6 speaks.
	computeAPI = "2024-11-01"
	rgAPI      = "2021-04-01"
)

// staticToken is a credential that never talks to Azure AD.
type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// env is one running server and the clients that talk to it.
type env struct {
	t    *testing.T
	srv  *server.Server
	http *http.Client
	net  *armnetwork.ClientFactory
	res  *armresources.ClientFactory
	comp *armcompute.ClientFactory
}

// newEnv starts a server on a loopback port with a bolt store in a fresh
// directory and returns SDK client factories pointed at it.
func newEnv(t *testing.T, configure ...func(*server.Config)) *env {
	t.Helper()
	cfg := server.Config{
		Listen:  "127.0.0.1:0",
		DataDir: t.TempDir(),
		Logger:  slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	for _, f := range configure {
		f(&cfg)
	}
	srv, err := server.Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	pem, err := os.ReadFile(srv.CACertFile)
	if err != nil {
		t.Fatalf("read CA: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("CA file %s holds no certificate", srv.CACertFile)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	opts := &arm.ClientOptions{
		ClientOptions: policy.ClientOptions{
			Cloud: cloud.Configuration{
				ActiveDirectoryAuthorityHost: srv.URL + "/",
				Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
					cloud.ResourceManager: {Endpoint: srv.URL, Audience: srv.URL},
				},
			},
			Transport: hc,
			Retry:     policy.RetryOptions{MaxRetries: -1},
		},
		DisableRPRegistration: true,
	}
	cred := staticToken("paddock.test.token")
	e := &env{t: t, srv: srv, http: hc}
	if e.net, err = armnetwork.NewClientFactory(testSub, cred, opts); err != nil {
		t.Fatalf("armnetwork factory: %v", err)
	}
	if e.res, err = armresources.NewClientFactory(testSub, cred, opts); err != nil {
		t.Fatalf("armresources factory: %v", err)
	}
	if e.comp, err = armcompute.NewClientFactory(testSub, cred, opts); err != nil {
		t.Fatalf("armcompute factory: %v", err)
	}
	return e
}

// pollOpts is how every poller is driven: the server answers Retry-After: 1.
var pollOpts = &runtime.PollUntilDoneOptions{Frequency: time.Second}

// done waits for a poller started by begin and returns its result.
func done[T any](t *testing.T, p *runtime.Poller[T], err error) T {
	t.Helper()
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	res, err := p.PollUntilDone(t.Context(), pollOpts)
	if err != nil {
		t.Fatalf("poll until done: %v", err)
	}
	return res
}

// respErr returns the *azcore.ResponseError in err, failing when there is none.
func respErr(t *testing.T, err error) *azcore.ResponseError {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not an *azcore.ResponseError", err)
	}
	return re
}

// ---- ids ----

func rgID(rg string) string { return "/subscriptions/" + testSub + "/resourceGroups/" + rg }

func netID(rg, typ, name string, more ...string) string {
	s := rgID(rg) + "/providers/Microsoft.Network/" + typ + "/" + name
	for _, m := range more {
		s += "/" + m
	}
	return s
}

func subnetID(rg, vnet, subnet string) string {
	return netID(rg, "virtualNetworks", vnet, "subnets", subnet)
}

func lbID(rg, lb string, more ...string) string { return netID(rg, "loadBalancers", lb, more...) }

func nicID(rg, nic string) string { return netID(rg, "networkInterfaces", nic) }

func ipcID(rg, nic, ipc string) string {
	return netID(rg, "networkInterfaces", nic, "ipConfigurations", ipc)
}

func pipID(rg, pip string) string { return netID(rg, "publicIPAddresses", pip) }

func vnetID(rg, vnet string) string { return netID(rg, "virtualNetworks", vnet) }

func vmID(rg, vm string) string {
	return rgID(rg) + "/providers/Microsoft.Compute/virtualMachines/" + vm
}

func sub(id string) *armnetwork.SubResource { return &armnetwork.SubResource{ID: to(id)} }

func to[T any](v T) *T { return &v }

// ---- fixtures ----
//
// Fixtures are written with a raw PUT (Paddock answers it synchronously)
// and decoded into the SDK's types, so that only the tests that are about
// long-running operations pay for a poller.

func (e *env) group(rg string) {
	e.t.Helper()
	_, err := e.res.NewResourceGroupsClient().CreateOrUpdate(e.t.Context(), rg, armresources.ResourceGroup{Location: to(location)}, nil)
	if err != nil {
		e.t.Fatalf("create group %s: %v", rg, err)
	}
}

// create PUTs body at a network or compute path, requires 200 or 201 and
// decodes the answer into out (when not nil).
func (e *env) create(path string, body, out any) {
	e.t.Helper()
	api := netAPI
	if strings.Contains(path, "/Microsoft.Compute/") {
		api = computeAPI
	}
	r := e.do(http.MethodPut, path+"?api-version="+api, body)
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		e.t.Fatalf("PUT %s: status %d: %s", path, r.Status, r.Body)
	}
	if out != nil {
		if err := json.Unmarshal(r.Body, out); err != nil {
			e.t.Fatalf("PUT %s: decode answer: %v", path, err)
		}
	}
}

// vnetBody is a VNet 10.0.0.0/16 (or the given space) with the given
// subnets, subnet i being 10.0.i.0/24 inside that space.
func vnetBody(space string, subnets ...string) armnetwork.VirtualNetwork {
	p := netip.MustParsePrefix(space)
	v := armnetwork.VirtualNetwork{
		Location: to(location),
		Properties: &armnetwork.VirtualNetworkPropertiesFormat{
			AddressSpace: &armnetwork.AddressSpace{AddressPrefixes: []*string{to(space)}},
			Subnets:      []*armnetwork.Subnet{},
		},
	}
	for i, s := range subnets {
		b := p.Addr().As4()
		b[2] = byte(i)
		v.Properties.Subnets = append(v.Properties.Subnets, &armnetwork.Subnet{
			Name:       to(s),
			Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: to(netip.PrefixFrom(netip.AddrFrom4(b), 24).String())},
		})
	}
	return v
}

// vnet creates a VNet 10.0.0.0/16 whose subnet i is 10.0.i.0/24.
func (e *env) vnet(rg, name string, subnets ...string) armnetwork.VirtualNetwork {
	e.t.Helper()
	var out armnetwork.VirtualNetwork
	e.create(vnetID(rg, name), vnetBody("10.0.0.0/16", subnets...), &out)
	return out
}

func pipBody(sku string) armnetwork.PublicIPAddress {
	method := armnetwork.IPAllocationMethodStatic
	if sku == "Basic" {
		method = armnetwork.IPAllocationMethodDynamic
	}
	return armnetwork.PublicIPAddress{
		Location: to(location),
		SKU:      &armnetwork.PublicIPAddressSKU{Name: to(armnetwork.PublicIPAddressSKUName(sku))},
		Properties: &armnetwork.PublicIPAddressPropertiesFormat{
			PublicIPAllocationMethod: to(method),
		},
	}
}

// pip creates a public IP of the given SKU (Basic: Dynamic, else Static).
func (e *env) pip(rg, name, sku string) armnetwork.PublicIPAddress {
	e.t.Helper()
	var out armnetwork.PublicIPAddress
	e.create(pipID(rg, name), pipBody(sku), &out)
	return out
}

// nicBody is a NIC with one IP configuration "ipconfig1" in subnet; a
// non-empty staticIP makes the address static; pools lists backend pools.
func nicBody(subnet, staticIP string, pools ...string) armnetwork.Interface {
	ic := &armnetwork.InterfaceIPConfigurationPropertiesFormat{Subnet: &armnetwork.Subnet{ID: to(subnet)}}
	if staticIP != "" {
		ic.PrivateIPAllocationMethod = to(armnetwork.IPAllocationMethodStatic)
		ic.PrivateIPAddress = to(staticIP)
	}
	for _, p := range pools {
		ic.LoadBalancerBackendAddressPools = append(ic.LoadBalancerBackendAddressPools, &armnetwork.BackendAddressPool{ID: to(p)})
	}
	return armnetwork.Interface{
		Location:   to(location),
		Properties: &armnetwork.InterfacePropertiesFormat{IPConfigurations: []*armnetwork.InterfaceIPConfiguration{{Name: to("ipconfig1"), Properties: ic}}},
	}
}

// nic creates a NIC (see nicBody).
func (e *env) nic(rg, name, subnet, staticIP string, pools ...string) armnetwork.Interface {
	e.t.Helper()
	var out armnetwork.Interface
	e.create(nicID(rg, name), nicBody(subnet, staticIP, pools...), &out)
	return out
}

func (e *env) putLB(rg, name string, lb armnetwork.LoadBalancer) armnetwork.LoadBalancer {
	e.t.Helper()
	var out armnetwork.LoadBalancer
	e.create(lbID(rg, name), lb, &out)
	return out
}

func (e *env) getLB(rg, name string) armnetwork.LoadBalancer {
	e.t.Helper()
	r, err := e.net.NewLoadBalancersClient().Get(e.t.Context(), rg, name, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.LoadBalancer
}

func (e *env) getNIC(rg, name string) armnetwork.Interface {
	e.t.Helper()
	r, err := e.net.NewInterfacesClient().Get(e.t.Context(), rg, name, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.Interface
}

func (e *env) getSubnet(rg, vnet, name string) armnetwork.Subnet {
	e.t.Helper()
	r, err := e.net.NewSubnetsClient().Get(e.t.Context(), rg, vnet, name, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.Subnet
}

func (e *env) getPool(rg, lb, name string) armnetwork.BackendAddressPool {
	e.t.Helper()
	r, err := e.net.NewLoadBalancerBackendAddressPoolsClient().Get(e.t.Context(), rg, lb, name, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.BackendAddressPool
}

func (e *env) getPIP(rg, name string) armnetwork.PublicIPAddress {
	e.t.Helper()
	r, err := e.net.NewPublicIPAddressesClient().Get(e.t.Context(), rg, name, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.PublicIPAddress
}

// ---- raw HTTP ----

// rawResp is a response read whole.
type rawResp struct {
	Status int
	Header http.Header
	Body   []byte
}

// armErr is the decoded ARM error envelope.
type armErr struct {
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Target  string    `json:"target"`
	Details []*armErr `json:"details"`
}

func (r rawResp) err(t *testing.T) armErr {
	t.Helper()
	var env struct {
		Error *armErr `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &env); err != nil || env.Error == nil {
		t.Fatalf("status %d: body is not an ARM error envelope: %s", r.Status, r.Body)
	}
	return *env.Error
}

// do sends a request to path (which may carry a query) with an optional
// body (string, []byte or a value to encode) and header pairs.
func (e *env) do(method, path string, body any, headers ...string) rawResp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer paddock.test.token")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return rawResp{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// withAPI appends the network api-version to a path.
func withAPI(path string) string { return path + "?api-version=" + netAPI }
