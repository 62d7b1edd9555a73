package lbplan

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/paddock-lb/paddock/internal/dataplane"
	"github.com/paddock-lb/paddock/internal/health"
	"github.com/paddock-lb/paddock/internal/resources/network"
)

func TestAddressMap(t *testing.T) {
	m, err := ParseMapping("10.0.0.0/16=127.10.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	amap := AddressMap{m}
	tests := []struct{ in, want string }{
		{"10.0.0.4", "127.10.0.4"},
		{"10.0.255.254", "127.10.255.254"},
		{"10.1.0.4", "10.1.0.4"},
		{"127.224.0.1", "127.224.0.1"},
	}
	for _, tt := range tests {
		if got := amap.Host(netip.MustParseAddr(tt.in)).String(); got != tt.want {
			t.Errorf("Host(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/16", "10.0.0.0/16=127.0.0.0/8", "x=y", "10.0.0.0/16=::1/16"} {
		if _, err := ParseMapping(bad); err == nil {
			t.Errorf("ParseMapping(%q) succeeded", bad)
		}
	}
}

const lbID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/lb"

func lbFromJSON(t *testing.T, s string) *network.LoadBalancer {
	t.Helper()
	s = strings.ReplaceAll(s, "LB", lbID)
	var lb network.LoadBalancer
	if err := json.Unmarshal([]byte(s), &lb); err != nil {
		t.Fatal(err)
	}
	return &lb
}

// An internal Standard LB: frontend 10.0.0.100, IP-based pool .11-.13 (.13
// admin Down), rule 80->8080 with an HTTP probe, NAT v1 to a NIC, NAT v2 over
// the pool.
const testLB = `{"id":"LB","name":"lb","sku":{"name":"Standard"},"properties":{
 "frontendIPConfigurations":[{"id":"LB/frontendIPConfigurations/fe","name":"fe","properties":{"privateIPAddress":"10.0.0.100","subnet":{"id":"x"}}}],
 "backendAddressPools":[
  {"id":"LB/backendAddressPools/ip","name":"ip","properties":{"loadBalancerBackendAddresses":[
    {"name":"a13","properties":{"ipAddress":"10.0.0.13","adminState":"Down"}},
    {"name":"a11","properties":{"ipAddress":"10.0.0.11"}},
    {"name":"a12","properties":{"ipAddress":"10.0.0.12"}}]}},
  {"id":"LB/backendAddressPools/nic","name":"nic","properties":{"backendIPConfigurations":[{"id":"/nic1/ipConfigurations/c"}]}}],
 "probes":[{"id":"LB/probes/http","name":"http","properties":{"protocol":"Http","port":8080,"requestPath":"/healthz","intervalInSeconds":5,"numberOfProbes":2}}],
 "loadBalancingRules":[{"id":"LB/loadBalancingRules/web","name":"web","properties":{"frontendIPConfiguration":{"id":"LB/frontendIPConfigurations/fe"},
   "backendAddressPool":{"id":"LB/backendAddressPools/ip"},"probe":{"id":"LB/probes/http"},"protocol":"Tcp","frontendPort":80,"backendPort":8080,
   "loadDistribution":"SourceIP","idleTimeoutInMinutes":10,"enableTcpReset":true}},
  {"id":"LB/loadBalancingRules/ha","name":"ha","properties":{"frontendIPConfiguration":{"id":"LB/frontendIPConfigurations/fe"},"protocol":"All","frontendPort":0,"backendPort":0}}],
 "inboundNatRules":[
  {"id":"LB/inboundNatRules/rdp","name":"rdp","properties":{"frontendIPConfiguration":{"id":"LB/frontendIPConfigurations/fe"},"protocol":"Tcp","frontendPort":50001,"backendPort":3389,"backendIPConfiguration":{"id":"/nic1/ipConfigurations/c"}}},
  {"id":"LB/inboundNatRules/v2","name":"v2","properties":{"frontendIPConfiguration":{"id":"LB/frontendIPConfigurations/fe"},"protocol":"Tcp","frontendPortRangeStart":6000,"frontendPortRangeEnd":6001,"backendPort":22,"backendAddressPool":{"id":"LB/backendAddressPools/ip"}}}]
}}`

func TestCompile(t *testing.T) {
	lb := lbFromJSON(t, testLB)
	m, _ := ParseMapping("10.0.0.0/16=127.10.0.0/16")
	in := Input{LoadBalancers: []*network.LoadBalancer{lb}, IPConfigs: map[string]netip.Addr{"/nic1/ipconfigurations/c": netip.MustParseAddr("10.0.0.20")}}
	upKey := ProbeKey(lbID+"/probes/http", netip.MustParseAddrPort("127.10.0.11:8080"))
	hv := func(key string) (health.Result, bool) {
		if key == upKey {
			return health.Result{Up: true, Reason: health.ReasonSuccess}, true
		}
		return health.Result{Reason: health.ReasonTimeout}, strings.Contains(key, "127.10.0.12")
	}
	p := Compile(in, AddressMap{m}, hv)
	type lis struct {
		Addr     string
		Proto    string
		Backends string
	}
	var got []lis
	for _, l := range p.Config.Listeners {
		var bs []string
		for _, b := range l.Rule.Backends {
			s := b.Addr.String()
			if !b.Healthy {
				s += "(down)"
			}
			bs = append(bs, s)
		}
		got = append(got, lis{l.Addr.String(), l.Protocol.String(), strings.Join(bs, ",")})
	}
	want := []lis{
		{"127.10.0.100:80", "tcp", "127.10.0.11:8080,127.10.0.12:8080(down),127.10.0.13:8080(down)"},
		{"127.10.0.100:6000", "tcp", "127.10.0.11:22"},
		{"127.10.0.100:6001", "tcp", "127.10.0.12:22"},
		{"127.10.0.100:50001", "tcp", "127.10.0.20:3389"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("listeners (-want +got):\n%s", diff)
	}
	web := p.Config.Listeners[0].Rule
	if web.Distribution != dataplane.TwoTuple || web.IdleTimeout != 10*time.Minute || !web.TCPReset {
		t.Errorf("web rule = %+v", web)
	}
	if len(p.Probes) != 2 || p.Probes[0].Protocol != health.HTTP || p.Probes[0].Threshold != 2 || p.Probes[0].Interval != 5*time.Second {
		t.Errorf("probes = %+v", p.Probes)
	}
	view := p.Rules[strings.ToLower(lbID+"/loadBalancingRules/web")]
	var reasons []string
	for _, b := range view.Backends {
		reasons = append(reasons, b.IPAddress+"="+b.Reason)
	}
	wantReasons := []string{"10.0.0.11=Up_Probe_Success", "10.0.0.12=Down_Probe_Timeout", "10.0.0.13=Down_Admin_State"}
	if diff := cmp.Diff(wantReasons, reasons); diff != "" {
		t.Errorf("rule view (-want +got):\n%s", diff)
	}
	if notes := strings.Join(p.Notes[lbID], "\n"); !strings.Contains(notes, "HA ports") {
		t.Errorf("notes lack HA ports: %q", notes)
	}
	if owner := p.Owners[p.Config.Listeners[0].Key]; owner != lbID {
		t.Errorf("owner = %q", owner)
	}
}

func TestCompileDeterministic(t *testing.T) {
	in := Input{LoadBalancers: []*network.LoadBalancer{lbFromJSON(t, testLB)}}
	a, _ := json.Marshal(Compile(in, nil, nil))
	for range 5 {
		b, _ := json.Marshal(Compile(in, nil, nil))
		if string(a) != string(b) {
			t.Fatal("Compile is not deterministic")
		}
	}
}
