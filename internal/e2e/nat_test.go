package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// echoName accepts TCP connections on addr and writes name to each.
func echoName(t *testing.T, name, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, name)
			c.Close()
		}
	}()
}

func readFrom(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	return string(b)
}

// TestInboundNAT covers a v1 NAT rule to a NIC's IP configuration, a NIC-based
// pool behind a rule without probe, and a v2 NAT rule over an IP-based pool
// whose per-member ports match queryInboundNatRulePortMapping.
func TestInboundNAT(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lb := e.id("loadBalancers/lb")
	vnet := e.id("virtualNetworks/vnet")
	subnet := vnet + "/subnets/default"
	body := fmt.Sprintf(`{"location":"local","sku":{"name":"Standard"},"properties":{
 "frontendIPConfigurations":[{"name":"fe","properties":{"privateIPAllocationMethod":"Static","privateIPAddress":"10.0.0.100","subnet":{"id":%[3]q}}}],
 "backendAddressPools":[{"name":"nics","properties":{}},
   {"name":"ips","properties":{"loadBalancerBackendAddresses":[
     {"name":"b","properties":{"ipAddress":"10.0.0.32","virtualNetwork":{"id":%[2]q}}},
     {"name":"a","properties":{"ipAddress":"10.0.0.31","virtualNetwork":{"id":%[2]q}}}]}}],
 "loadBalancingRules":[{"name":"tcp","properties":{"frontendIPConfiguration":{"id":"%[1]s/frontendIPConfigurations/fe"},"backendAddressPool":{"id":"%[1]s/backendAddressPools/nics"},"protocol":"Tcp","frontendPort":7000,"backendPort":9000}}],
 "inboundNatRules":[
   {"name":"ssh","properties":{"frontendIPConfiguration":{"id":"%[1]s/frontendIPConfigurations/fe"},"protocol":"Tcp","frontendPort":50001,"backendPort":9022}},
   {"name":"v2","properties":{"frontendIPConfiguration":{"id":"%[1]s/frontendIPConfigurations/fe"},"protocol":"Tcp","frontendPortRangeStart":60000,"frontendPortRangeEnd":60009,"backendPort":9100,"backendAddressPool":{"id":"%[1]s/backendAddressPools/ips"}}}]}}`, lb, vnet, subnet)
	if st := e.put(e.net("loadBalancers/lb"), body); st["status"] != "Succeeded" {
		t.Fatalf("LB: %v", st)
	}
	nic := fmt.Sprintf(`{"location":"local","properties":{"ipConfigurations":[{"name":"ip1","properties":{"privateIPAllocationMethod":"Static","privateIPAddress":"10.0.0.21","subnet":{"id":%[2]q},
  "loadBalancerBackendAddressPools":[{"id":"%[1]s/backendAddressPools/nics"}],"loadBalancerInboundNatRules":[{"id":"%[1]s/inboundNatRules/ssh"}]}}]}}`, lb, subnet)
	if st := e.put(e.net("networkInterfaces/nic1"), nic); st["status"] != "Succeeded" {
		t.Fatalf("NIC: %v", st)
	}
	echoName(t, "nic-9000", e.host("10.0.0.21")+":9000")
	echoName(t, "nic-ssh", e.host("10.0.0.21")+":9022")
	echoName(t, "a-9100", e.host("10.0.0.31")+":9100")
	echoName(t, "b-9100", e.host("10.0.0.32")+":9100")
	front := e.host("10.0.0.100")

	if got := readFrom(t, front+":7000"); got != "nic-9000" {
		t.Errorf("rule to the NIC-based pool reached %q", got)
	}
	if got := readFrom(t, front+":50001"); got != "nic-ssh" {
		t.Errorf("v1 NAT rule reached %q", got)
	}
	for _, tc := range []struct{ ip, want string }{{"10.0.0.31", "a-9100"}, {"10.0.0.32", "b-9100"}} {
		var m struct {
			Mappings []struct {
				Name         string `json:"inboundNatRuleName"`
				FrontendPort int    `json:"frontendPort"`
				BackendPort  int    `json:"backendPort"`
			} `json:"inboundNatRulePortMappings"`
		}
		code, b := e.do(http.MethodPost, e.net("loadBalancers/lb/backendAddressPools/ips/queryInboundNatRulePortMapping"), fmt.Sprintf(`{"ipAddress":%q}`, tc.ip))
		if code != 200 {
			t.Fatalf("query mapping: %d %s", code, b)
		}
		if err := jsonUnmarshal(b, &m); err != nil || len(m.Mappings) != 1 {
			t.Fatalf("query mapping for %s: %s", tc.ip, b)
		}
		port := m.Mappings[0].FrontendPort
		if got := readFrom(t, fmt.Sprintf("%s:%d", front, port)); got != tc.want {
			t.Errorf("v2 NAT port %d (reported for %s) reached %q, want %q", port, tc.ip, got, tc.want)
		}
	}
}

// TestPublicFrontend serves a rule on a public IP's address.
func TestPublicFrontend(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.put(e.net("publicIPAddresses/pip"), `{"location":"local","sku":{"name":"Standard"},"properties":{"publicIPAllocationMethod":"Static"}}`)
	var pip struct {
		Properties struct {
			IPAddress string `json:"ipAddress"`
		} `json:"properties"`
	}
	e.get(e.net("publicIPAddresses/pip"), &pip)
	lb := e.id("loadBalancers/lb")
	body := fmt.Sprintf(`{"location":"local","sku":{"name":"Standard"},"properties":{
 "frontendIPConfigurations":[{"name":"fe","properties":{"publicIPAddress":{"id":%[2]q}}}],
 "backendAddressPools":[{"name":"pool","properties":{"loadBalancerBackendAddresses":[{"name":"a","properties":{"ipAddress":"10.0.0.41","virtualNetwork":{"id":%[3]q}}}]}}],
 "loadBalancingRules":[{"name":"r","properties":{"frontendIPConfiguration":{"id":"%[1]s/frontendIPConfigurations/fe"},"backendAddressPool":{"id":"%[1]s/backendAddressPools/pool"},"protocol":"Tcp","frontendPort":8443,"backendPort":9000}}]}}`,
		lb, e.id("publicIPAddresses/pip"), e.id("virtualNetworks/vnet"))
	if st := e.put(e.net("loadBalancers/lb"), body); st["status"] != "Succeeded" {
		t.Fatalf("LB: %v", st)
	}
	echoName(t, "public", e.host("10.0.0.41")+":9000")
	if got := readFrom(t, pip.Properties.IPAddress+":8443"); got != "public" {
		t.Errorf("public frontend %s reached %q", pip.Properties.IPAddress, got)
	}
}

// TestUDPRule echoes datagrams through a Udp rule; a flow keeps its
// backend.
func TestUDPRule(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lb := e.id("loadBalancers/lb")
	vnet := e.id("virtualNetworks/vnet")
	body := fmt.Sprintf(`{"location":"local","sku":{"name":"Standard"},"properties":{
 "frontendIPConfigurations":[{"name":"fe","properties":{"privateIPAllocationMethod":"Static","privateIPAddress":"10.0.0.100","subnet":{"id":"%[2]s/subnets/default"}}}],
 "backendAddressPools":[{"name":"pool","properties":{"loadBalancerBackendAddresses":[
   {"name":"a","properties":{"ipAddress":"10.0.0.51","virtualNetwork":{"id":%[2]q}}},
   {"name":"b","properties":{"ipAddress":"10.0.0.52","virtualNetwork":{"id":%[2]q}}}]}}],
 "loadBalancingRules":[{"name":"dns","properties":{"frontendIPConfiguration":{"id":"%[1]s/frontendIPConfigurations/fe"},"backendAddressPool":{"id":"%[1]s/backendAddressPools/pool"},"protocol":"Udp","frontendPort":5353,"backendPort":9053}}]}}`, lb, vnet)
	if st := e.put(e.net("loadBalancers/lb"), body); st["status"] != "Succeeded" {
		t.Fatalf("LB: %v", st)
	}
	for _, a := range []string{"10.0.0.51", "10.0.0.52"} {
		pc, err := net.ListenPacket("udp", e.host(a)+":9053")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		name := a
		go func() {
			buf := make([]byte, 2048)
			for {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				pc.WriteTo(append([]byte(name+":"), buf[:n]...), from)
			}
		}()
	}
	seen := map[string]bool{}
	for i := range 20 {
		c, err := net.Dial("udp", e.host("10.0.0.100")+":5353")
		if err != nil {
			t.Fatal(err)
		}
		var first string
		for j := range 3 {
			c.SetDeadline(time.Now().Add(3 * time.Second))
			msg := fmt.Sprintf("q%d-%d", i, j)
			if _, err := c.Write([]byte(msg)); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 2048)
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("no UDP answer through the rule: %v", err)
			}
			from, payload, _ := strings.Cut(string(buf[:n]), ":")
			if payload != msg {
				t.Fatalf("echo %q, want %q", payload, msg)
			}
			if j == 0 {
				first = from
			} else if from != first {
				t.Fatalf("a UDP flow moved from %s to %s", first, from)
			}
		}
		seen[first] = true
		c.Close()
	}
	if len(seen) != 2 {
		t.Errorf("20 flows reached only %v", seen)
	}
}

// TestInboundNATPool gives each NIC that references an inbound NAT pool its
// own frontend port from the pool's range, in address order.
func TestInboundNATPool(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lb := e.id("loadBalancers/lb")
	subnet := e.id("virtualNetworks/vnet") + "/subnets/default"
	body := fmt.Sprintf(`{"location":"local","sku":{"name":"Standard"},"properties":{
 "frontendIPConfigurations":[{"name":"fe","properties":{"privateIPAllocationMethod":"Static","privateIPAddress":"10.0.0.100","subnet":{"id":%[2]q}}}],
 "inboundNatPools":[{"name":"rdp","properties":{"frontendIPConfiguration":{"id":"%[1]s/frontendIPConfigurations/fe"},"protocol":"Tcp","frontendPortRangeStart":50100,"frontendPortRangeEnd":50109,"backendPort":9300}}]}}`, lb, subnet)
	if st := e.put(e.net("loadBalancers/lb"), body); st["status"] != "Succeeded" {
		t.Fatalf("LB: %v", st)
	}
	for _, n := range []struct{ name, ip string }{{"nicb", "10.0.0.62"}, {"nica", "10.0.0.61"}} {
		nic := fmt.Sprintf(`{"location":"local","properties":{"ipConfigurations":[{"name":"ip1","properties":{"privateIPAllocationMethod":"Static","privateIPAddress":%q,"subnet":{"id":%q},
  "loadBalancerInboundNatPools":[{"id":"%s/inboundNatPools/rdp"}]}}]}}`, n.ip, subnet, lb)
		if st := e.put(e.net("networkInterfaces/"+n.name), nic); st["status"] != "Succeeded" {
			t.Fatalf("NIC %s: %v", n.name, st)
		}
		echoName(t, n.name, e.host(n.ip)+":9300")
	}
	front := e.host("10.0.0.100")
	if got := readFrom(t, front+":50100"); got != "nica" {
		t.Errorf("port 50100 reached %q, want nica (lowest address)", got)
	}
	if got := readFrom(t, front+":50101"); got != "nicb" {
		t.Errorf("port 50101 reached %q, want nicb", got)
	}
	// A pool with members cannot be removed.
	code, b := e.do(http.MethodPut, e.net("loadBalancers/lb"), fmt.Sprintf(`{"location":"local","sku":{"name":"Standard"},"properties":{"frontendIPConfigurations":[{"name":"fe","properties":{"privateIPAllocationMethod":"Static","privateIPAddress":"10.0.0.100","subnet":{"id":%q}}}]}}`, subnet))
	if code != 400 || !strings.Contains(string(b), "InboundNatPoolInUseByNetworkInterface") {
		t.Errorf("removing a NAT pool in use: %d %s", code, b)
	}
}
