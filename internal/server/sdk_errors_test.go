package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/google/go-cmp/cmp"
)

// detail is the code and target of one entry of error.details.
type detail struct{ Code, Target string }

// badRequest is one invalid request: what the server must answer, and
// the resources whose GET must not change because of it.
type badRequest struct {
	name   string
	method string
	path   string // with the query
	body   any
	header []string
	status int
	code   string
	target string
	// details, when set, are the expected error.details (in order).
	details []detail
	// watch lists further paths (with query) whose GET must be the same
	// before and after; the request's own path is watched for PUT, PATCH
	// and DELETE.
	watch []string
}

// errorFixture is the state every invalid request runs against.
//
//	vnet  10.0.0.0/16: s0 10.0.0.0/24, s1 10.0.1.0/24, s2 10.0.2.0/24 (unused)
//	vnet2 10.1.0.0/16: s0 10.1.0.0/24
//	lb-basic   Basic internal (fe1 10.0.0.4 in vnet/s0), pool1, probe1, rule1
//	lb-std     Standard internal (fe1 10.0.0.5), pool1 (nic1, rule1), ippool
//	           (10.0.0.50), pool2 (nic1, no rule), NAT rule ssh (nic1)
//	lb-pub     Standard public on pip-std, every child collection, a NAT pool
//	nic1       vnet/s0 static 10.0.0.10, in lb-std/pool1 and pool2, target of
//	           lb-std/ssh, attached to vm1
//	vnet3      10.2.0.0/16: tiny 10.2.0.0/29, full (NICs tiny0..tiny2)
//	pip-basic, pip-std2 unused; pip-std used by lb-pub
func errorFixture(t *testing.T) *env {
	e := newEnv(t)
	e.group("rg")
	e.vnet("rg", "vnet", "s0", "s1", "s2")
	e.create(vnetID("rg", "vnet2"), vnetBody("10.1.0.0/16", "s0"), nil)
	s0 := subnetID("rg", "vnet", "s0")
	e.pip("rg", "pip-basic", "Basic")
	e.pip("rg", "pip-std", "Standard")
	e.pip("rg", "pip-std2", "Standard")
	e.putLB("rg", "lb-basic", internalLB("rg", "lb-basic", s0, "Basic"))
	std := internalLB("rg", "lb-std", s0, "Standard")
	ip := ipPool(vnetID("rg", "vnet"), "10.0.0.50")
	ip.Name = to("ippool")
	std.Properties.BackendAddressPools = append(std.Properties.BackendAddressPools, &ip)
	std.Properties.BackendAddressPools = append(std.Properties.BackendAddressPools, &armnetwork.BackendAddressPool{Name: to("pool2")})
	std.Properties.InboundNatRules = []*armnetwork.InboundNatRule{{Name: to("ssh"), Properties: &armnetwork.InboundNatRulePropertiesFormat{
		FrontendIPConfiguration: sub(lbID("rg", "lb-std", "frontendIPConfigurations", "fe1")), Protocol: to(armnetwork.TransportProtocolTCP), FrontendPort: to[int32](2222), BackendPort: to[int32](22),
	}}}
	e.putLB("rg", "lb-std", std)
	e.putLB("rg", "lb-pub", fullLB("rg", "lb-pub", pipID("rg", "pip-std")))
	nic := nicBody(s0, "10.0.0.10", lbID("rg", "lb-std", "backendAddressPools", "pool1"), lbID("rg", "lb-std", "backendAddressPools", "pool2"))
	nic.Properties.IPConfigurations[0].Properties.LoadBalancerInboundNatRules = []*armnetwork.InboundNatRule{{ID: to(lbID("rg", "lb-std", "inboundNatRules", "ssh"))}}
	e.create(nicID("rg", "nic1"), nic, nil)
	// A /29 has three usable addresses; fill them.
	tiny := vnetBody("10.2.0.0/16", "tiny")
	tiny.Properties.Subnets[0].Properties.AddressPrefix = to("10.2.0.0/29")
	e.create(vnetID("rg", "vnet3"), tiny, nil)
	for i := range 3 {
		e.nic("rg", fmt.Sprintf("tiny%d", i), subnetID("rg", "vnet3", "tiny"), "")
	}
	e.create(vmID("rg", "vm1"), vmBody(nicID("rg", "nic1")), nil)
	return e
}

// fixturePaths are GET paths covering every fixture resource.
func fixturePaths() []string {
	var out []string
	for _, id := range []string{vnetID("rg", "vnet"), vnetID("rg", "vnet2"), vnetID("rg", "vnet3"), pipID("rg", "pip-basic"), pipID("rg", "pip-std"), pipID("rg", "pip-std2"),
		lbID("rg", "lb-basic"), lbID("rg", "lb-std"), lbID("rg", "lb-pub"), nicID("rg", "nic1")} {
		out = append(out, withAPI(id))
	}
	return append(out, vmID("rg", "vm1")+"?api-version="+computeAPI, rgID("rg")+"?api-version="+rgAPI)
}

// lbWith returns a new Standard internal LB "lbx" in vnet/s2 changed by mut.
func lbWith(mut func(lb *armnetwork.LoadBalancer)) armnetwork.LoadBalancer {
	lb := internalLB("rg", "lbx", subnetID("rg", "vnet", "s2"), "Standard")
	mut(&lb)
	return lb
}

func lbxRef(coll, name string) *armnetwork.SubResource { return sub(lbID("rg", "lbx", coll, name)) }

func lbxRule(name string, fport, bport int32) *armnetwork.LoadBalancingRule {
	return &armnetwork.LoadBalancingRule{Name: to(name), Properties: &armnetwork.LoadBalancingRulePropertiesFormat{
		FrontendIPConfiguration: lbxRef("frontendIPConfigurations", "fe1"), BackendAddressPool: lbxRef("backendAddressPools", "pool1"),
		Protocol: to(armnetwork.TransportProtocolTCP), FrontendPort: to(fport), BackendPort: to(bport),
	}}
}

// publicLB returns a new public LB "lbx" of the given SKU on a public IP.
func publicLB(sku, pip string, mut func(lb *armnetwork.LoadBalancer)) armnetwork.LoadBalancer {
	lb := lbWith(func(lb *armnetwork.LoadBalancer) {
		lb.SKU.Name = to(armnetwork.LoadBalancerSKUName(sku))
		lb.Properties.FrontendIPConfigurations[0].Properties = &armnetwork.FrontendIPConfigurationPropertiesFormat{
			PublicIPAddress: &armnetwork.PublicIPAddress{ID: to(pipID("rg", pip))},
		}
	})
	if mut != nil {
		mut(&lb)
	}
	return lb
}

func staticNIC(addr string) armnetwork.Interface {
	return nicBody(subnetID("rg", "vnet", "s0"), addr)
}

func TestInvalidRequests(t *testing.T) {
	t.Parallel()
	e := errorFixture(t)
	s0 := subnetID("rg", "vnet", "s0")
	vnet, vnet2 := vnetID("rg", "vnet"), vnetID("rg", "vnet2")
	newLB, newNIC, newPIP := withAPI(lbID("rg", "lbx")), withAPI(nicID("rg", "nicx")), withAPI(pipID("rg", "pipx"))
	poolPath := func(lb, pool string) string { return withAPI(lbID("rg", lb, "backendAddressPools", pool)) }
	icPath := "properties.ipConfigurations[0].properties."
	rule0 := "properties.loadBalancingRules[0].properties."
	manyRules := lbWith(func(lb *armnetwork.LoadBalancer) {
		lb.Properties.LoadBalancingRules = nil
		for i := range 1501 {
			r := lbxRule(fmt.Sprintf("r%d", i), int32(1000+i), int32(1000+i))
			r.Properties.BackendAddressPool = nil
			lb.Properties.LoadBalancingRules = append(lb.Properties.LoadBalancingRules, r)
		}
	})
	var manyAddrs []string
	for i := range 5001 {
		manyAddrs = append(manyAddrs, fmt.Sprintf("10.0.%d.%d", 100+i/250, 1+i%250))
	}
	stdVNet := vnetBody("10.0.0.0/16", "s0", "s1", "s2")

	cases := []badRequest{
		// ---- the HTTP boundary ----
		{name: "missing api-version", method: "GET", path: lbID("rg", "lb-basic"),
			status: 400, code: "MissingApiVersionParameter"},
		{name: "missing api-version on PUT", method: "PUT", path: lbID("rg", "lbx"), body: lbWith(func(*armnetwork.LoadBalancer) {}),
			status: 400, code: "MissingApiVersionParameter", watch: []string{newLB}},
		{name: "unsupported network api-version", method: "GET", path: lbID("rg", "lb-basic") + "?api-version=2019-01-01",
			status: 400, code: "NoRegisteredProviderFound"},
		{name: "unsupported network api-version on PUT", method: "PUT", path: lbID("rg", "lbx") + "?api-version=2099-01-01", body: lbWith(func(*armnetwork.LoadBalancer) {}),
			status: 400, code: "NoRegisteredProviderFound", watch: []string{newLB}},
		{name: "unsupported api-version for a subscription list", method: "GET", path: "/subscriptions/" + testSub + "/providers/Microsoft.Network/loadBalancers?api-version=2019-01-01",
			status: 400, code: "InvalidResourceType"},
		{name: "unsupported resourcegroups api-version", method: "GET", path: rgID("rg") + "?api-version=1999-01-01",
			status: 400, code: "InvalidApiVersionParameter"},
		{name: "unsupported resourcegroups api-version on PUT", method: "PUT", path: rgID("rgx") + "?api-version=1999-01-01", body: `{"location":"eastus"}`,
			status: 400, code: "InvalidApiVersionParameter", watch: []string{rgID("rgx") + "?api-version=" + rgAPI}},
		{name: "malformed JSON", method: "PUT", path: newLB, body: `{"location": "eastus", "properties": {`,
			status: 400, code: "InvalidRequestFormat"},
		{name: "empty body", method: "PUT", path: newLB, body: ``,
			status: 400, code: "InvalidRequestContent"},
		{name: "wrong JSON type for a collection", method: "PUT", path: newLB, body: `{"location":"eastus","properties":{"frontendIPConfigurations":"fe1"}}`,
			status: 400, code: "InvalidRequestFormat", target: "properties.frontendIPConfigurations"},
		{name: "wrong JSON type for location", method: "PUT", path: newLB, body: `{"location":5}`,
			status: 400, code: "InvalidRequestFormat", target: "location"},
		{name: "wrong JSON type deep in an array", method: "PUT", path: newLB,
			body:   `{"location":"eastus","properties":{"loadBalancingRules":[{"name":"a","properties":{"frontendPort":80}},{"name":"b","properties":{"frontendPort":"81"}}]}}`,
			status: 400, code: "InvalidRequestFormat", target: "properties.loadBalancingRules[1].properties.frontendPort"},
		{name: "wrong JSON type in a NIC ipconfig", method: "PUT", path: newNIC,
			body:   `{"location":"eastus","properties":{"ipConfigurations":[{"name":"a","properties":{"primary":"yes"}}]}}`,
			status: 400, code: "InvalidRequestFormat", target: "properties.ipConfigurations[0].properties.primary"},
		{name: "oversize body", method: "PUT", path: newLB, body: oversizeBody(),
			status: 413, code: "RequestEntityTooLarge"},
		{name: "unknown route", method: "GET", path: "/subscriptions/" + testSub + "/bogus?api-version=" + netAPI,
			status: 404, code: "NoRouteFound"},
		{name: "unknown top-level route", method: "GET", path: "/nothing/here",
			status: 404, code: "NoRouteFound"},
		{name: "unknown action", method: "POST", path: withAPI(lbID("rg", "lb-std") + "/explode"), body: `{}`,
			status: 404, code: "NoRouteFound", watch: []string{withAPI(lbID("rg", "lb-std"))}},
		{name: "PATCH of a child resource", method: "PATCH", path: poolPath("lb-std", "pool1"), body: `{"tags":{"a":"b"}}`,
			status: 405, code: "MethodNotAllowed"},
		{name: "PUT of a read-only child", method: "PUT", path: withAPI(lbID("rg", "lb-std", "probes", "probe9")), body: `{"properties":{"protocol":"Tcp","port":80}}`,
			status: 405, code: "MethodNotAllowed", watch: []string{withAPI(lbID("rg", "lb-std"))}},

		// ---- missing things ----
		{name: "missing resource group", method: "PUT", path: withAPI(lbID("ghost", "lbx")), body: lbWith(func(*armnetwork.LoadBalancer) {}),
			status: 404, code: "ResourceGroupNotFound", watch: []string{rgID("ghost") + "?api-version=" + rgAPI}},
		{name: "missing resource", method: "GET", path: withAPI(lbID("rg", "ghost")),
			status: 404, code: "ResourceNotFound"},
		{name: "missing child", method: "GET", path: withAPI(lbID("rg", "lb-basic", "probes", "ghost")),
			status: 404, code: "NotFound"},
		{name: "missing parent of a child PUT", method: "PUT", path: poolPath("ghost", "pool1"), body: `{"properties":{}}`,
			status: 404, code: "ParentResourceNotFound", watch: []string{withAPI(lbID("rg", "ghost"))}},
		{name: "PATCH of a missing resource", method: "PATCH", path: withAPI(lbID("rg", "ghost")), body: `{"tags":{}}`,
			status: 404, code: "ResourceNotFound"},

		// ---- references ----
		{name: "reference to a missing subnet", method: "PUT", path: newNIC, body: nicBody(subnetID("rg", "vnet", "ghost"), ""),
			status: 400, code: "InvalidResourceReference", target: icPath + "subnet.id"},
		{name: "frontend reference to a missing subnet", method: "PUT", path: newLB, body: internalLB("rg", "lbx", subnetID("rg", "vnet", "ghost"), "Standard"),
			status: 400, code: "InvalidResourceReference", target: "properties.frontendIPConfigurations[0].properties.subnet.id"},
		{name: "rule reference to a missing probe", method: "PUT", path: newLB, body: lbWith(func(lb *armnetwork.LoadBalancer) { lb.Properties.Probes = nil }),
			status: 400, code: "InvalidResourceReference", target: rule0 + "probe.id"},
		{name: "NIC reference to a missing pool", method: "PUT", path: newNIC, body: nicBody(s0, "", lbID("rg", "lb-std", "backendAddressPools", "ghost")),
			status: 400, code: "InvalidResourceReference", target: icPath + "loadBalancerBackendAddressPools[0].id"},
		{name: "reference of the wrong type", method: "PUT", path: newNIC, body: nicBody(vnet, ""),
			status: 400, code: "InvalidRequestFormat", target: icPath + "subnet.id",
			details: []detail{{"InvalidJsonReferenceWrongType", icPath + "subnet.id"}}},
		{name: "rule reference of the wrong type", method: "PUT", path: newLB,
			body: lbWith(func(lb *armnetwork.LoadBalancer) {
				lb.Properties.LoadBalancingRules[0].Properties.BackendAddressPool = lbxRef("probes", "probe1")
			}),
			status: 400, code: "InvalidRequestFormat", target: rule0 + "backendAddressPool.id",
			details: []detail{{"InvalidJsonReferenceWrongType", rule0 + "backendAddressPool.id"}}},
		{name: "pool member reference of the wrong type", method: "PUT", path: poolPath("lb-std", "pool9"),
			body: func() armnetwork.BackendAddressPool {
				p := ipPool(vnet, "10.0.0.60")
				p.Properties.LoadBalancerBackendAddresses[0].Properties.VirtualNetwork = sub(s0)
				return p
			}(),
			status: 400, code: "InvalidRequestFormat", target: "properties.loadBalancerBackendAddresses[0].properties.virtualNetwork.id",
			details: []detail{{"InvalidJsonReferenceWrongType", "properties.loadBalancerBackendAddresses[0].properties.virtualNetwork.id"}}},
		{name: "malformed reference", method: "PUT", path: newNIC, body: nicBody("not-an-id", ""),
			status: 400, code: "LinkedInvalidPropertyId", target: icPath + "subnet.id"},

		// ---- backend pools ----
		{name: "IP-based pool on Basic", method: "PUT", path: poolPath("lb-basic", "ippool"), body: ipPool(vnet, "10.0.0.60"),
			status: 400, code: "IPBasedBackendPoolNotSupportedForBasicSku", target: "properties.loadBalancerBackendAddresses",
			watch: []string{withAPI(lbID("rg", "lb-basic"))}},
		{name: "IP addresses on a NIC-based pool", method: "PUT", path: poolPath("lb-std", "pool1"), body: ipPool(vnet, "10.0.0.60"),
			status: 400, code: "BackendAddressPoolCannotMixNicAndIpMembers", target: "properties.loadBalancerBackendAddresses"},
		{name: "NIC joining an IP-based pool", method: "PUT", path: newNIC, body: nicBody(s0, "", lbID("rg", "lb-std", "backendAddressPools", "ippool")),
			status: 400, code: "BackendAddressPoolCannotMixNicAndIpMembers", target: icPath + "loadBalancerBackendAddressPools[0].id",
			watch: []string{withAPI(lbID("rg", "lb-std"))}},
		{name: "pool spanning two VNets", method: "PUT", path: poolPath("lb-std", "pool9"),
			body: func() armnetwork.BackendAddressPool {
				p := ipPool(vnet, "10.0.0.60", "10.1.0.60")
				p.Properties.LoadBalancerBackendAddresses[1].Properties.VirtualNetwork = sub(vnet2)
				return p
			}(),
			status: 400, code: "BackendAddressPoolCannotSpanVirtualNetworks", target: "properties.loadBalancerBackendAddresses[1].properties.virtualNetwork"},
		{name: "duplicate IP in a pool", method: "PUT", path: poolPath("lb-std", "pool9"), body: ipPool(vnet, "10.0.0.60", "10.0.0.60"),
			status: 400, code: "DuplicateIpAddressOnBackendAddressPool", target: "properties.loadBalancerBackendAddresses[1].properties.ipAddress"},
		{name: "pool of 5,001 addresses", method: "PUT", path: poolPath("lb-std", "pool9"), body: ipPool(vnet, manyAddrs...),
			status: 400, code: "LoadBalancerBackendAddressPoolSizeLimitReached", target: "properties.loadBalancerBackendAddresses"},
		{name: "delete a pool NICs use", method: "DELETE", path: poolPath("lb-std", "pool2"),
			status: 400, code: "BackendAddressPoolInUseByNetworkInterface", target: "properties.backendAddressPools"},
		{name: "delete a NAT rule a NIC uses", method: "DELETE", path: withAPI(lbID("rg", "lb-std", "inboundNatRules", "ssh")),
			status: 400, code: "InboundNatRuleInUseByNetworkInterface", target: "properties.inboundNatRules"},
		{name: "delete a pool a rule uses", method: "DELETE", path: poolPath("lb-basic", "pool1"),
			status: 400, code: "InvalidResourceReference", target: rule0 + "backendAddressPool.id"},
		{name: "NIC listing a pool twice", method: "PUT", path: newNIC,
			body:   nicBody(s0, "", lbID("rg", "lb-std", "backendAddressPools", "pool1"), lbID("rg", "LB-STD", "backendAddressPools", "POOL1")),
			status: 400, code: "InvalidRequestFormat", target: icPath + "loadBalancerBackendAddressPools[1].id",
			details: []detail{{"DuplicateIpConfigurationReferenceOnBackendAddressPool", icPath + "loadBalancerBackendAddressPools[1].id"}}},
		{name: "delete an LB whose pool NICs use", method: "DELETE", path: withAPI(lbID("rg", "lb-std")),
			status: 400, code: "LoadBalancerInUseByNetworkInterface"},

		// ---- rules, probes, ports ----
		{name: "HA ports on a public frontend", method: "PUT", path: newLB,
			body: publicLB("Standard", "pip-std2", func(lb *armnetwork.LoadBalancer) {
				r := lb.Properties.LoadBalancingRules[0].Properties
				r.Protocol, r.FrontendPort, r.BackendPort = to(armnetwork.TransportProtocolAll), to[int32](0), to[int32](0)
			}),
			status: 400, code: "HaPortsRuleNotSupportedOnPublicFrontend", target: rule0 + "frontendIPConfiguration",
			watch: []string{withAPI(pipID("rg", "pip-std2"))}},
		{name: "HA ports on Basic", method: "PUT", path: newLB,
			body: lbWith(func(lb *armnetwork.LoadBalancer) {
				lb.SKU.Name = to(armnetwork.LoadBalancerSKUNameBasic)
				r := lb.Properties.LoadBalancingRules[0].Properties
				r.Protocol, r.FrontendPort, r.BackendPort = to(armnetwork.TransportProtocolAll), to[int32](0), to[int32](0)
			}),
			status: 400, code: "HaPortsRuleNotSupportedForBasicSku", target: "properties.loadBalancingRules[0].properties"},
		{name: "frontend port used twice", method: "PUT", path: newLB,
			body: lbWith(func(lb *armnetwork.LoadBalancer) {
				lb.Properties.LoadBalancingRules = append(lb.Properties.LoadBalancingRules, lbxRule("rule2", 80, 8080))
			}),
			status: 400, code: "LoadBalancerFrontendPortConflict", target: "properties.loadBalancingRules[1].properties.frontendPort"},
		{name: "NAT rule on a rule's frontend port", method: "PUT", path: newLB,
			body: lbWith(func(lb *armnetwork.LoadBalancer) {
				lb.Properties.InboundNatRules = []*armnetwork.InboundNatRule{{Name: to("nat"), Properties: &armnetwork.InboundNatRulePropertiesFormat{
					FrontendIPConfiguration: lbxRef("frontendIPConfigurations", "fe1"), Protocol: to(armnetwork.TransportProtocolTCP), FrontendPort: to[int32](80), BackendPort: to[int32](22),
				}}}
			}),
			status: 400, code: "LoadBalancerFrontendPortConflict", target: "properties.inboundNatRules[0].properties.frontendPort"},
		{name: "two rules on one backend port and pool", method: "PUT", path: newLB,
			body: lbWith(func(lb *armnetwork.LoadBalancer) {
				lb.Properties.LoadBalancingRules = append(lb.Properties.LoadBalancingRules, lbxRule("rule2", 81, 80))
			}),
			status: 400, code: "RulesUseSameBackendPortProtocolAndPool", target: "properties.loadBalancingRules[1].properties.backendPort"},
		{name: "idle timeout over Basic's 30", method: "PUT", path: newLB,
			body: lbWith(func(lb *armnetwork.LoadBalancer) {
				lb.SKU.Name = to(armnetwork.LoadBalancerSKUNameBasic)
				lb.Properties.LoadBalancingRules[0].Properties.IdleTimeoutInMinutes = to[int32](31)
			}),
			status: 400, code: "InvalidIdleTimeoutInMinutes", target: rule0 + "idleTimeoutInMinutes"},
		{name: "idle timeout over 100", method: "PUT", path: newLB,
			body: lbWith(func(lb *armnetwork.LoadBalancer) {
				lb.Properties.LoadBalancingRules[0].Properties.IdleTimeoutInMinutes = to[int32](101)
			}),
			status: 400, code: "InvalidIdleTimeoutInMinutes", target: rule0 + "idleTimeoutInMinutes"},
		{name: "idle timeout under 4", method: "PUT", path: newLB,
			body: lbWith(func(lb *armnetwork.LoadBalancer) {
				lb.Properties.LoadBalancingRules[0].Properties.IdleTimeoutInMinutes = to[int32](3)
			}),
			status: 400, code: "InvalidIdleTimeoutInMinutes", target: rule0 + "idleTimeoutInMinutes"},
		{name: "probe interval under 5", method: "PUT", path: newLB,
			body:   lbWith(func(lb *armnetwork.LoadBalancer) { lb.Properties.Probes[0].Properties.IntervalInSeconds = to[int32](4) }),
			status: 400, code: "InvalidProbeInterval", target: "properties.probes[0].properties.intervalInSeconds"},
		{name: "Http probe without requestPath", method: "PUT", path: newLB,
			body: lbWith(func(lb *armnetwork.LoadBalancer) {
				lb.Properties.Probes[0].Properties.Protocol = to(armnetwork.ProbeProtocolHTTP)
			}),
			status: 400, code: "ProbeRequestPathRequired", target: "properties.probes[0].properties.requestPath"},
		{name: "Tcp probe with requestPath", method: "PUT", path: newLB,
			body:   lbWith(func(lb *armnetwork.LoadBalancer) { lb.Properties.Probes[0].Properties.RequestPath = to("/") }),
			status: 400, code: "ProbeRequestPathNotAllowedForTcp", target: "properties.probes[0].properties.requestPath"},
		{name: "probe port 0", method: "PUT", path: newLB,
			body:   lbWith(func(lb *armnetwork.LoadBalancer) { lb.Properties.Probes[0].Properties.Port = to[int32](0) }),
			status: 400, code: "InvalidProbePort", target: "properties.probes[0].properties.port"},
		{name: "rule frontend port 65535", method: "PUT", path: newLB,
			body: lbWith(func(lb *armnetwork.LoadBalancer) {
				lb.Properties.LoadBalancingRules[0].Properties.FrontendPort = to[int32](65535)
			}),
			status: 400, code: "InvalidFrontendPort", target: rule0 + "frontendPort"},
		{name: "rule backend port 65536", method: "PUT", path: newLB,
			body: lbWith(func(lb *armnetwork.LoadBalancer) {
				lb.Properties.LoadBalancingRules[0].Properties.BackendPort = to[int32](65536)
			}),
			status: 400, code: "InvalidBackendPort", target: rule0 + "backendPort"},
		{name: "NAT rule frontend port 0", method: "PUT", path: newLB,
			body: lbWith(func(lb *armnetwork.LoadBalancer) {
				lb.Properties.InboundNatRules = []*armnetwork.InboundNatRule{{Name: to("nat"), Properties: &armnetwork.InboundNatRulePropertiesFormat{
					FrontendIPConfiguration: lbxRef("frontendIPConfigurations", "fe1"), Protocol: to(armnetwork.TransportProtocolTCP), FrontendPort: to[int32](0), BackendPort: to[int32](22),
				}}}
			}),
			status: 400, code: "InvalidFrontendPort", target: "properties.inboundNatRules[0].properties.frontendPort"},
		{name: "NAT rule child PUT while NAT pools exist", method: "PUT", path: withAPI(lbID("rg", "lb-pub", "inboundNatRules", "nat2")),
			body:   map[string]any{"properties": map[string]any{"frontendIPConfiguration": map[string]string{"id": lbID("rg", "lb-pub", "frontendIPConfigurations", "fe1")}, "protocol": "Tcp", "frontendPort": 50002, "backendPort": 22}},
			status: 400, code: "AddingOrUpdatingNatRulesWhenNatPoolIsPresentOnLoadbalancerIsNotSupported", target: "properties.inboundNatRules",
			watch: []string{withAPI(lbID("rg", "lb-pub"))}},
		{name: "1,501 rules", method: "PUT", path: newLB, body: manyRules,
			status: 400, code: "LoadBalancerRulesLimitReached", target: "properties.loadBalancingRules"},
		{name: "outbound rule on Basic", method: "PUT", path: newLB,
			body: publicLB("Basic", "pip-basic", func(lb *armnetwork.LoadBalancer) {
				lb.Properties.OutboundRules = []*armnetwork.OutboundRule{{Name: to("out"), Properties: &armnetwork.OutboundRulePropertiesFormat{
					FrontendIPConfigurations: []*armnetwork.SubResource{lbxRef("frontendIPConfigurations", "fe1")}, BackendAddressPool: lbxRef("backendAddressPools", "pool1"),
					Protocol: to(armnetwork.LoadBalancerOutboundRuleProtocolAll),
				}}}
			}),
			status: 400, code: "OutboundRulesNotSupportedForSku", target: "properties.outboundRules[0].properties",
			watch: []string{withAPI(pipID("rg", "pip-basic"))}},
		{name: "several problems at once", method: "PUT", path: newLB,
			body: lbWith(func(lb *armnetwork.LoadBalancer) {
				lb.Location = nil
				lb.Properties.Probes[0].Properties.IntervalInSeconds = to[int32](2)
				lb.Properties.LoadBalancingRules[0].Properties.FrontendPort = to[int32](70000)
			}),
			status: 400, code: "LocationRequired", target: "location",
			details: []detail{{"LocationRequired", "location"}, {"InvalidProbeInterval", "properties.probes[0].properties.intervalInSeconds"}, {"InvalidFrontendPort", rule0 + "frontendPort"}}},

		// ---- addresses ----
		{name: "static IP outside the subnet", method: "PUT", path: newNIC, body: staticNIC("10.0.1.5"),
			status: 400, code: "PrivateIPAddressNotInSubnet", target: icPath + "privateIPAddress"},
		{name: "static IP reserved (.3)", method: "PUT", path: newNIC, body: staticNIC("10.0.0.3"),
			status: 400, code: "PrivateIPAddressInReservedRange", target: icPath + "privateIPAddress"},
		{name: "static IP reserved (broadcast)", method: "PUT", path: newNIC, body: staticNIC("10.0.0.255"),
			status: 400, code: "PrivateIPAddressInReservedRange", target: icPath + "privateIPAddress"},
		{name: "static IP held by a NIC", method: "PUT", path: newNIC, body: staticNIC("10.0.0.10"),
			status: 400, code: "PrivateIPAddressIsAllocated", target: icPath + "privateIPAddress"},
		{name: "static frontend IP held by another LB", method: "PUT", path: newLB,
			body: lbWith(func(lb *armnetwork.LoadBalancer) {
				fp := lb.Properties.FrontendIPConfigurations[0].Properties
				fp.Subnet.ID = to(s0)
				fp.PrivateIPAllocationMethod, fp.PrivateIPAddress = to(armnetwork.IPAllocationMethodStatic), to("10.0.0.4")
			}),
			status: 400, code: "PrivateIPAddressIsAllocated", target: "properties.frontendIPConfigurations[0].properties.privateIPAddress"},
		{name: "subnet full", method: "PUT", path: newNIC, body: nicBody(subnetID("rg", "vnet3", "tiny"), ""),
			status: 400, code: "SubnetIsFull", target: icPath + "privateIPAddress", watch: []string{withAPI(vnetID("rg", "vnet3"))}},
		{name: "invalid static IP", method: "PUT", path: newNIC, body: staticNIC("10.0.0.x"),
			status: 400, code: "InvalidPrivateIPAddressFormat", target: icPath + "privateIPAddress"},

		// ---- deletion guards ----
		{name: "delete a subnet in use", method: "DELETE", path: withAPI(s0),
			status: 400, code: "InUseSubnetCannotBeDeleted", watch: []string{withAPI(vnet)}},
		{name: "VNet PUT dropping a subnet in use", method: "PUT", path: withAPI(vnet), body: vnetBody("10.0.0.0/16", "s1", "s2"),
			status: 400, code: "InUseSubnetCannotBeDeleted", target: "properties.subnets"},
		{name: "delete a VNet in use", method: "DELETE", path: withAPI(vnet),
			status: 400, code: "InUseSubnetCannotBeDeleted"},
		{name: "delete a NIC attached to a VM", method: "DELETE", path: withAPI(nicID("rg", "nic1")),
			status: 400, code: "NicInUse", watch: []string{vmID("rg", "vm1") + "?api-version=" + computeAPI}},
		{name: "delete a public IP in use", method: "DELETE", path: withAPI(pipID("rg", "pip-std")),
			status: 400, code: "PublicIPAddressCannotBeDeleted"},
		{name: "attach a NIC another VM holds", method: "PUT", path: vmID("rg", "vm2") + "?api-version=" + computeAPI, body: vmBody(nicID("rg", "nic1")),
			status: 400, code: "NicInUse", target: "properties.networkProfile.networkInterfaces[0].id"},

		// ---- SKUs and public IPs ----
		{name: "Standard LB on a Basic public IP", method: "PUT", path: newLB, body: publicLB("Standard", "pip-basic", nil),
			status: 400, code: "DifferentSkuLoadBalancersAndPublicIPAddressNotAllowed", target: "properties.frontendIPConfigurations[0].properties.publicIPAddress.id",
			watch: []string{withAPI(pipID("rg", "pip-basic"))}},
		{name: "Basic LB on a Standard public IP", method: "PUT", path: newLB, body: publicLB("Basic", "pip-std2", nil),
			status: 400, code: "DifferentSkuLoadBalancersAndPublicIPAddressNotAllowed", target: "properties.frontendIPConfigurations[0].properties.publicIPAddress.id",
			watch: []string{withAPI(pipID("rg", "pip-std2"))}},
		{name: "public IP another frontend uses", method: "PUT", path: newLB, body: publicLB("Standard", "pip-std", nil),
			status: 400, code: "PublicIPAddressInUse", target: "properties.frontendIPConfigurations[0].properties.publicIPAddress.id"},
		{name: "Standard public IP with Dynamic allocation", method: "PUT", path: newPIP,
			body: func() armnetwork.PublicIPAddress {
				p := pipBody("Standard")
				p.Properties.PublicIPAllocationMethod = to(armnetwork.IPAllocationMethodDynamic)
				return p
			}(),
			status: 400, code: "StandardSkuPublicIPAddressesMustBeStatic", target: "properties.publicIPAllocationMethod"},
		{name: "location missing", method: "PUT", path: newPIP, body: `{"sku":{"name":"Basic"},"properties":{}}`,
			status: 400, code: "LocationRequired", target: "location"},
		{name: "resource group without location", method: "PUT", path: rgID("rgx") + "?api-version=" + rgAPI, body: `{}`,
			status: 400, code: "LocationRequired", target: "location", watch: []string{rgID("rgx") + "?api-version=" + rgAPI}},
		{name: "invalid resource group name", method: "PUT", path: rgID("bad.") + "?api-version=" + rgAPI, body: `{"location":"eastus"}`,
			status: 400, code: "InvalidResourceGroupName"},
		{name: "invalid resource name", method: "PUT", path: withAPI(lbID("rg", "-lb")), body: lbWith(func(*armnetwork.LoadBalancer) {}),
			status: 400, code: "InvalidResourceName"},

		// ---- VNets ----
		{name: "overlapping subnets", method: "PUT", path: withAPI(vnetID("rg", "vnetx")),
			body: func() armnetwork.VirtualNetwork {
				v := vnetBody("10.5.0.0/16", "a", "b")
				v.Properties.Subnets[1].Properties.AddressPrefix = to("10.5.0.128/25")
				return v
			}(),
			status: 400, code: "NetcfgSubnetRangesOverlap", target: "properties.subnets[1].properties.addressPrefix"},
		{name: "subnet outside the VNet", method: "PUT", path: withAPI(subnetID("rg", "vnet", "s9")), body: `{"properties":{"addressPrefix":"10.7.0.0/24"}}`,
			status: 400, code: "NetcfgSubnetRangeOutsideVnet", target: "properties.addressPrefix", watch: []string{withAPI(vnet)}},
		{name: "existing subnet moved outside the VNet", method: "PUT", path: withAPI(subnetID("rg", "vnet", "s1")), body: `{"properties":{"addressPrefix":"10.7.0.0/24"}}`,
			status: 400, code: "NetcfgSubnetRangeOutsideVnet", target: "properties.addressPrefix", watch: []string{withAPI(vnet)}},
		{name: "subnet smaller than /29", method: "PUT", path: withAPI(subnetID("rg", "vnet", "s9")), body: `{"properties":{"addressPrefix":"10.0.9.0/30"}}`,
			status: 400, code: "InvalidSubnetPrefixLength", target: "properties.addressPrefix", watch: []string{withAPI(vnet)}},

		// ---- actions ----
		{name: "migrateToIpBased on Basic", method: "POST", path: withAPI(lbID("rg", "lb-basic") + "/migrateToIpBased"), body: `{"pools":["pool1"]}`,
			status: 400, code: "IPBasedBackendPoolNotSupportedForBasicSku", watch: []string{withAPI(lbID("rg", "lb-basic"))}},
		{name: "port mapping query without a member", method: "POST", path: withAPI(lbID("rg", "lb-std", "backendAddressPools", "ippool") + "/queryInboundNatRulePortMapping"), body: `{}`,
			status: 400, code: "InvalidRequestContent", target: "ipAddress"},
		{name: "port mapping query for a non-member", method: "POST", path: withAPI(lbID("rg", "lb-std", "backendAddressPools", "ippool") + "/queryInboundNatRulePortMapping"), body: `{"ipAddress":"10.0.0.99"}`,
			status: 400, code: "BackendAddressNotInPool"},

		// ---- preconditions ----
		{name: "stale If-Match", method: "PUT", path: withAPI(lbID("rg", "lb-basic")), body: internalLB("rg", "lb-basic", s0, "Basic"),
			header: []string{"If-Match", `W/"00000000-0000-0000-0000-000000000000"`}, status: 412, code: "PreconditionFailed"},
		{name: "If-None-Match on an existing resource", method: "PUT", path: withAPI(vnet), body: stdVNet,
			header: []string{"If-None-Match", "*"}, status: 412, code: "PreconditionFailed"},
		{name: "If-Match on a missing resource", method: "PUT", path: newLB, body: lbWith(func(*armnetwork.LoadBalancer) {}),
			header: []string{"If-Match", "*"}, status: 412, code: "PreconditionFailed"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			watch := append(fixturePaths(), tc.watch...)
			if tc.method != http.MethodGet && tc.method != http.MethodPost && strings.Contains(tc.path, "api-version=") {
				watch = append(watch, tc.path)
			}
			before := make([]rawResp, len(watch))
			for i, p := range watch {
				before[i] = e.do(http.MethodGet, p, nil)
			}
			r := e.do(tc.method, tc.path, tc.body, tc.header...)
			if r.Status != tc.status {
				t.Errorf("status %d, want %d; body %.600s", r.Status, tc.status, r.Body)
			}
			got := r.err(t)
			if got.Code != tc.code || got.Target != tc.target {
				t.Errorf("error code %q target %q, want %q %q\n%s", got.Code, got.Target, tc.code, tc.target, r.Body)
			}
			if h := r.Header.Get("x-ms-error-code"); h != got.Code {
				t.Errorf("x-ms-error-code header %q, body code %q", h, got.Code)
			}
			if got.Message == "" {
				t.Error("empty error message")
			}
			if tc.details != nil {
				var ds []detail
				for _, d := range got.Details {
					ds = append(ds, detail{d.Code, d.Target})
				}
				if diff := cmp.Diff(tc.details, ds); diff != "" {
					t.Errorf("details (-want +got):\n%s", diff)
				}
			}
			for i, p := range watch {
				after := e.do(http.MethodGet, p, nil)
				if after.Status != before[i].Status || !bytes.Equal(after.Body, before[i].Body) {
					t.Errorf("GET %s changed:\nbefore %d %.400s\nafter  %d %.400s", p, before[i].Status, before[i].Body, after.Status, after.Body)
				}
			}
		})
	}
}

// oversizeBody is a syntactically valid LB body just over the 16 MiB cap.
func oversizeBody() []byte {
	const limit = 16 << 20
	prefix := `{"location":"eastus","tags":{"pad":"`
	suffix := `"},"properties":{}}`
	b := make([]byte, 0, limit+1)
	b = append(b, prefix...)
	b = append(b, bytes.Repeat([]byte("x"), limit+1-len(prefix)-len(suffix))...)
	return append(b, suffix...)
}
