package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/google/go-cmp/cmp"

	"github.com/paddock-lb/paddock/internal/lbplan"
	"github.com/paddock-lb/paddock/internal/server"
)

// idsOf returns the ids of resources that have an ID field, in order.
func idsOf[T any](items []*T, id func(*T) *string) []string {
	out := []string{}
	for _, it := range items {
		if p := id(it); p != nil {
			out = append(out, *p)
		}
	}
	return out
}

func subIDs(s []*armnetwork.SubResource) []string {
	return idsOf(s, func(x *armnetwork.SubResource) *string { return x.ID })
}

func namesOf[T any](items []*T, name func(*T) *string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, *name(it))
	}
	slices.Sort(out)
	return out
}

// wantStatus checks an SDK error's HTTP status and ARM error code.
func wantStatus(t *testing.T, err error, status int, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %d %s", status, code)
	}
	re := respErr(t, err)
	if re.StatusCode != status || re.ErrorCode != code {
		t.Fatalf("got %d %s, want %d %s (%v)", re.StatusCode, re.ErrorCode, status, code, err)
	}
}

func TestSDKResourceGroups(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	c := e.res.NewResourceGroupsClient()

	created, err := c.CreateOrUpdate(ctx, "rg-a", armresources.ResourceGroup{Location: to(location), Tags: map[string]*string{"env": to("test")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := *created.ID, rgID("rg-a"); got != want {
		t.Errorf("id = %s, want %s", got, want)
	}
	if got := *created.Properties.ProvisioningState; got != "Succeeded" {
		t.Errorf("provisioningState = %s", got)
	}
	e.group("rg-b")
	// A second PUT is an update (200) and keeps the group.
	if _, err := c.CreateOrUpdate(ctx, "rg-a", armresources.ResourceGroup{Location: to(location)}, nil); err != nil {
		t.Fatal(err)
	}

	got, err := c.Get(ctx, "RG-A", nil) // names match in any casing
	if err != nil {
		t.Fatal(err)
	}
	if *got.Name != "rg-a" || *got.Location != location {
		t.Errorf("get: name %s location %s", *got.Name, *got.Location)
	}
	if ex, err := c.CheckExistence(ctx, "rg-a", nil); err != nil || !ex.Success {
		t.Errorf("check existence of rg-a = %v, %v", ex.Success, err)
	}
	if ex, err := c.CheckExistence(ctx, "rg-none", nil); err != nil || ex.Success {
		t.Errorf("check existence of rg-none = %v, %v", ex.Success, err)
	}

	upd, err := c.Update(ctx, "rg-a", armresources.ResourceGroupPatchable{Tags: map[string]*string{"k": to("v")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]*string{"k": to("v")}, upd.Tags); diff != "" {
		t.Errorf("tags after update (-want +got):\n%s", diff)
	}

	var names []string
	for pg := c.NewListPager(nil); pg.More(); {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range page.Value {
			names = append(names, *g.Name)
		}
	}
	if diff := cmp.Diff([]string{"rg-a", "rg-b"}, names); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}

	p, err := c.BeginDelete(ctx, "rg-b", nil)
	done(t, p, err)
	_, err = c.Get(ctx, "rg-b", nil)
	wantStatus(t, err, http.StatusNotFound, "ResourceGroupNotFound")
}

func TestSDKVirtualNetworksAndSubnets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.group("rg")
	vc := e.net.NewVirtualNetworksClient()
	sc := e.net.NewSubnetsClient()

	p, err := vc.BeginCreateOrUpdate(ctx, "rg", "vnet1", vnetBody("10.0.0.0/16", "s0", "s1"), nil)
	v := done(t, p, err).VirtualNetwork
	if *v.ID != vnetID("rg", "vnet1") || *v.Type != "Microsoft.Network/virtualNetworks" || *v.Properties.ProvisioningState != armnetwork.ProvisioningStateSucceeded {
		t.Errorf("created vnet: id %s type %s state %s", *v.ID, *v.Type, *v.Properties.ProvisioningState)
	}
	if diff := cmp.Diff([]string{subnetID("rg", "vnet1", "s0"), subnetID("rg", "vnet1", "s1")}, idsOf(v.Properties.Subnets, func(s *armnetwork.Subnet) *string { return s.ID })); diff != "" {
		t.Errorf("subnet ids (-want +got):\n%s", diff)
	}
	e.vnet("rg", "vnet2")

	// Child PUT, GET, LIST, DELETE.
	sp, err := sc.BeginCreateOrUpdate(ctx, "rg", "vnet1", "s2", armnetwork.Subnet{Properties: &armnetwork.SubnetPropertiesFormat{AddressPrefix: to("10.0.2.0/24")}}, nil)
	s2 := done(t, sp, err).Subnet
	if *s2.ID != subnetID("rg", "vnet1", "s2") || *s2.Type != "Microsoft.Network/virtualNetworks/subnets" || *s2.Properties.AddressPrefix != "10.0.2.0/24" {
		t.Errorf("created subnet: %s %s %s", *s2.ID, *s2.Type, *s2.Properties.AddressPrefix)
	}
	got, err := sc.Get(ctx, "rg", "vnet1", "S2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Name != "s2" {
		t.Errorf("subnet name = %s", *got.Name)
	}
	var subnets []string
	for pg := sc.NewListPager("rg", "vnet1", nil); pg.More(); {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		subnets = append(subnets, namesOf(page.Value, func(s *armnetwork.Subnet) *string { return s.Name })...)
	}
	if diff := cmp.Diff([]string{"s0", "s1", "s2"}, subnets); diff != "" {
		t.Errorf("subnets (-want +got):\n%s", diff)
	}
	dp, err := sc.BeginDelete(ctx, "rg", "vnet1", "s1", nil)
	done(t, dp, err)
	_, err = sc.Get(ctx, "rg", "vnet1", "s1", nil)
	wantStatus(t, err, http.StatusNotFound, "NotFound")
	v2, err := vc.Get(ctx, "rg", "vnet1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"s0", "s2"}, namesOf(v2.Properties.Subnets, func(s *armnetwork.Subnet) *string { return s.Name })); diff != "" {
		t.Errorf("subnets after delete (-want +got):\n%s", diff)
	}
	// Every subnet carries the VNet's etag.
	for _, s := range v2.Properties.Subnets {
		if *s.Etag != *v2.Etag {
			t.Errorf("subnet %s etag %s, vnet etag %s", *s.Name, *s.Etag, *v2.Etag)
		}
	}

	var all []string
	for pg := vc.NewListAllPager(nil); pg.More(); {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, namesOf(page.Value, func(v *armnetwork.VirtualNetwork) *string { return v.Name })...)
	}
	if diff := cmp.Diff([]string{"vnet1", "vnet2"}, all); diff != "" {
		t.Errorf("vnets (-want +got):\n%s", diff)
	}

	vdp, err := vc.BeginDelete(ctx, "rg", "vnet2", nil)
	done(t, vdp, err)
	_, err = vc.Get(ctx, "rg", "vnet2", nil)
	wantStatus(t, err, http.StatusNotFound, "ResourceNotFound")
	// Deleting what does not exist succeeds (204).
	vdp, err = vc.BeginDelete(ctx, "rg", "vnet2", nil)
	done(t, vdp, err)
}

func TestSDKPublicIPAddresses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.group("rg")
	c := e.net.NewPublicIPAddressesClient()

	p, err := c.BeginCreateOrUpdate(ctx, "rg", "pip-std", pipBody("Standard"), nil)
	std := done(t, p, err).PublicIPAddress
	basic := e.pip("rg", "pip-basic", "Basic")
	for _, pip := range []armnetwork.PublicIPAddress{std, basic} {
		a, err := netip.ParseAddr(*pip.Properties.IPAddress)
		if err != nil || !netip.MustParsePrefix("127.224.0.0/16").Contains(a) {
			t.Errorf("%s: address %q not in the public range", *pip.Name, *pip.Properties.IPAddress)
		}
	}
	if *std.Properties.IPAddress == *basic.Properties.IPAddress {
		t.Errorf("both public IPs got %s", *std.Properties.IPAddress)
	}
	if *basic.Properties.PublicIPAllocationMethod != armnetwork.IPAllocationMethodDynamic || *std.SKU.Name != armnetwork.PublicIPAddressSKUNameStandard {
		t.Errorf("basic method %s, std sku %s", *basic.Properties.PublicIPAllocationMethod, *std.SKU.Name)
	}
	got, err := c.Get(ctx, "rg", "pip-std", nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(std, got.PublicIPAddress); diff != "" {
		t.Errorf("GET differs from the PUT answer (-put +get):\n%s", diff)
	}
	var names []string
	for pg := c.NewListPager("rg", nil); pg.More(); {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, namesOf(page.Value, func(p *armnetwork.PublicIPAddress) *string { return p.Name })...)
	}
	if diff := cmp.Diff([]string{"pip-basic", "pip-std"}, names); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	dp, err := c.BeginDelete(ctx, "rg", "pip-basic", nil)
	done(t, dp, err)
	_, err = c.Get(ctx, "rg", "pip-basic", nil)
	wantStatus(t, err, http.StatusNotFound, "ResourceNotFound")
}

func TestSDKNetworkInterfaces(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.group("rg")
	e.vnet("rg", "vnet", "s0")
	s0 := subnetID("rg", "vnet", "s0")
	c := e.net.NewInterfacesClient()

	p, err := c.BeginCreateOrUpdate(ctx, "rg", "nic1", nicBody(s0, ""), nil)
	n1 := done(t, p, err).Interface
	ic := n1.Properties.IPConfigurations[0]
	if *ic.Properties.PrivateIPAddress != "10.0.0.4" || *ic.Properties.PrivateIPAllocationMethod != armnetwork.IPAllocationMethodDynamic {
		t.Errorf("dynamic address %s (%s), want 10.0.0.4 (first usable)", *ic.Properties.PrivateIPAddress, *ic.Properties.PrivateIPAllocationMethod)
	}
	if *ic.ID != ipcID("rg", "nic1", "ipconfig1") || !*ic.Properties.Primary || n1.Properties.MacAddress == nil {
		t.Errorf("ipconfig id %s primary %v mac %v", *ic.ID, *ic.Properties.Primary, n1.Properties.MacAddress)
	}
	e.nic("rg", "nic2", s0, "10.0.0.20")

	// ipConfigurations GET and LIST.
	icc := e.net.NewInterfaceIPConfigurationsClient()
	gic, err := icc.Get(ctx, "rg", "nic2", "ipconfig1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if *gic.Properties.PrivateIPAddress != "10.0.0.20" || *gic.Properties.PrivateIPAllocationMethod != armnetwork.IPAllocationMethodStatic {
		t.Errorf("static ipconfig: %s %s", *gic.Properties.PrivateIPAddress, *gic.Properties.PrivateIPAllocationMethod)
	}
	if *gic.Type != "Microsoft.Network/networkInterfaces/ipConfigurations" {
		t.Errorf("ipconfig type %s", *gic.Type)
	}
	var ics []string
	for pg := icc.NewListPager("rg", "nic2", nil); pg.More(); {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ics = append(ics, idsOf(page.Value, func(x *armnetwork.InterfaceIPConfiguration) *string { return x.ID })...)
	}
	if diff := cmp.Diff([]string{ipcID("rg", "nic2", "ipconfig1")}, ics); diff != "" {
		t.Errorf("ipconfig list (-want +got):\n%s", diff)
	}
	_, err = icc.Get(ctx, "rg", "nic2", "nope", nil)
	wantStatus(t, err, http.StatusNotFound, "NotFound")

	// The NIC's load balancers: none, then the one whose pool it joins.
	lbs := func() []string {
		var out []string
		for pg := e.net.NewInterfaceLoadBalancersClient().NewListPager("rg", "nic1", nil); pg.More(); {
			page, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, idsOf(page.Value, func(x *armnetwork.LoadBalancer) *string { return x.ID })...)
		}
		return out
	}
	if got := lbs(); len(got) != 0 {
		t.Errorf("load balancers of a fresh NIC: %v", got)
	}
	e.putLB("rg", "lb", internalLB("rg", "lb", s0, "Basic"))
	e.nic("rg", "nic1", s0, "", lbID("rg", "lb", "backendAddressPools", "pool1"))
	if diff := cmp.Diff([]string{lbID("rg", "lb")}, lbs()); diff != "" {
		t.Errorf("load balancers of the NIC (-want +got):\n%s", diff)
	}

	var all []string
	for pg := c.NewListAllPager(nil); pg.More(); {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, namesOf(page.Value, func(x *armnetwork.Interface) *string { return x.Name })...)
	}
	if diff := cmp.Diff([]string{"nic1", "nic2"}, all); diff != "" {
		t.Errorf("nics (-want +got):\n%s", diff)
	}
	dp, err := c.BeginDelete(ctx, "rg", "nic2", nil)
	done(t, dp, err)
	_, err = c.Get(ctx, "rg", "nic2", nil)
	wantStatus(t, err, http.StatusNotFound, "ResourceNotFound")
	// The static address is free again.
	e.nic("rg", "nic3", s0, "10.0.0.20")
}

// internalLB is a load balancer of the given SKU with one internal
// frontend "fe1" (dynamic address in subnet), pool "pool1", Tcp probe
// "probe1" and rule "rule1" (Tcp 80).
func internalLB(rg, name, subnet, sku string) armnetwork.LoadBalancer {
	ref := func(coll, n string) *armnetwork.SubResource { return sub(lbID(rg, name, coll, n)) }
	return armnetwork.LoadBalancer{
		Location: to(location),
		SKU:      &armnetwork.LoadBalancerSKU{Name: to(armnetwork.LoadBalancerSKUName(sku))},
		Properties: &armnetwork.LoadBalancerPropertiesFormat{
			FrontendIPConfigurations: []*armnetwork.FrontendIPConfiguration{{
				Name:       to("fe1"),
				Properties: &armnetwork.FrontendIPConfigurationPropertiesFormat{Subnet: &armnetwork.Subnet{ID: to(subnet)}},
			}},
			BackendAddressPools: []*armnetwork.BackendAddressPool{{Name: to("pool1")}},
			Probes: []*armnetwork.Probe{{
				Name:       to("probe1"),
				Properties: &armnetwork.ProbePropertiesFormat{Protocol: to(armnetwork.ProbeProtocolTCP), Port: to[int32](80)},
			}},
			LoadBalancingRules: []*armnetwork.LoadBalancingRule{{
				Name: to("rule1"),
				Properties: &armnetwork.LoadBalancingRulePropertiesFormat{
					FrontendIPConfiguration: ref("frontendIPConfigurations", "fe1"),
					BackendAddressPool:      ref("backendAddressPools", "pool1"),
					Probe:                   ref("probes", "probe1"),
					Protocol:                to(armnetwork.TransportProtocolTCP),
					FrontendPort:            to[int32](80),
					BackendPort:             to[int32](80),
				},
			}},
		},
	}
}

// fullLB is a Standard public load balancer with every child collection.
func fullLB(rg, name, pip string) armnetwork.LoadBalancer {
	ref := func(coll, n string) *armnetwork.SubResource { return sub(lbID(rg, name, coll, n)) }
	fe := ref("frontendIPConfigurations", "fe1")
	rule := func(n string, port int32, probe string) *armnetwork.LoadBalancingRule {
		return &armnetwork.LoadBalancingRule{Name: to(n), Properties: &armnetwork.LoadBalancingRulePropertiesFormat{
			FrontendIPConfiguration: fe, BackendAddressPool: ref("backendAddressPools", "pool1"), Probe: ref("probes", probe),
			Protocol: to(armnetwork.TransportProtocolTCP), FrontendPort: to(port), BackendPort: to(port),
			DisableOutboundSnat: to(true), EnableTCPReset: to(true), IdleTimeoutInMinutes: to[int32](30),
		}}
	}
	return armnetwork.LoadBalancer{
		Location: to(location),
		SKU:      &armnetwork.LoadBalancerSKU{Name: to(armnetwork.LoadBalancerSKUNameStandard)},
		Tags:     map[string]*string{"role": to("web")},
		Properties: &armnetwork.LoadBalancerPropertiesFormat{
			FrontendIPConfigurations: []*armnetwork.FrontendIPConfiguration{{
				Name:       to("fe1"),
				Properties: &armnetwork.FrontendIPConfigurationPropertiesFormat{PublicIPAddress: &armnetwork.PublicIPAddress{ID: to(pip)}},
			}},
			BackendAddressPools: []*armnetwork.BackendAddressPool{{Name: to("pool1")}, {Name: to("pool2")}},
			Probes: []*armnetwork.Probe{
				{Name: to("probe1"), Properties: &armnetwork.ProbePropertiesFormat{Protocol: to(armnetwork.ProbeProtocolTCP), Port: to[int32](80), IntervalInSeconds: to[int32](5)}},
				{Name: to("probe2"), Properties: &armnetwork.ProbePropertiesFormat{Protocol: to(armnetwork.ProbeProtocolHTTP), Port: to[int32](8080), RequestPath: to("/healthz")}},
			},
			LoadBalancingRules: []*armnetwork.LoadBalancingRule{rule("rule1", 80, "probe1"), rule("rule2", 443, "probe2")},
			InboundNatRules: []*armnetwork.InboundNatRule{{Name: to("nat1"), Properties: &armnetwork.InboundNatRulePropertiesFormat{
				FrontendIPConfiguration: fe, Protocol: to(armnetwork.TransportProtocolTCP), FrontendPort: to[int32](50001), BackendPort: to[int32](22),
			}}},
			InboundNatPools: []*armnetwork.InboundNatPool{{Name: to("natpool1"), Properties: &armnetwork.InboundNatPoolPropertiesFormat{
				FrontendIPConfiguration: fe, Protocol: to(armnetwork.TransportProtocolTCP), FrontendPortRangeStart: to[int32](60000), FrontendPortRangeEnd: to[int32](60099), BackendPort: to[int32](3389),
			}}},
			OutboundRules: []*armnetwork.OutboundRule{{Name: to("out1"), Properties: &armnetwork.OutboundRulePropertiesFormat{
				FrontendIPConfigurations: []*armnetwork.SubResource{fe}, BackendAddressPool: ref("backendAddressPools", "pool2"),
				Protocol: to(armnetwork.LoadBalancerOutboundRuleProtocolAll), AllocatedOutboundPorts: to[int32](1024),
			}}},
		},
	}
}

func TestSDKLoadBalancerChildren(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.group("rg")
	pip := e.pip("rg", "pip", "Standard")
	lbc := e.net.NewLoadBalancersClient()

	p, err := lbc.BeginCreateOrUpdate(ctx, "rg", "lb", fullLB("rg", "lb", *pip.ID), nil)
	lb := done(t, p, err).LoadBalancer
	if *lb.ID != lbID("rg", "lb") || *lb.SKU.Name != armnetwork.LoadBalancerSKUNameStandard || *lb.Properties.ProvisioningState != armnetwork.ProvisioningStateSucceeded {
		t.Fatalf("created: %s %s %s", *lb.ID, *lb.SKU.Name, *lb.Properties.ProvisioningState)
	}
	if n := len(lb.Properties.InboundNatPools); n != 1 || *lb.Properties.InboundNatPools[0].Type != "Microsoft.Network/loadBalancers/inboundNatPools" {
		t.Errorf("inbound NAT pools: %d", n)
	}
	if got, err := lbc.Get(ctx, "rg", "lb", nil); err != nil {
		t.Fatal(err)
	} else if diff := cmp.Diff(lb, got.LoadBalancer); diff != "" {
		t.Errorf("GET differs from the PUT answer (-put +get):\n%s", diff)
	}

	// Every child collection: GET one, LIST all; ids, types and the
	// parent's etag.
	type child struct{ id, name, typ, etag string }
	check := func(kind string, want []string, list []child, one child) {
		t.Helper()
		var names []string
		for _, c := range list {
			names = append(names, c.name)
			if c.etag != *lb.Etag {
				t.Errorf("%s %s etag %s, LB etag %s", kind, c.name, c.etag, *lb.Etag)
			}
		}
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("%s list (-want +got):\n%s", kind, diff)
		}
		if one.id != lbID("rg", "lb", kind, want[0]) || one.typ != "Microsoft.Network/loadBalancers/"+kind {
			t.Errorf("%s get: id %s type %s", kind, one.id, one.typ)
		}
	}
	{
		c := e.net.NewLoadBalancerFrontendIPConfigurationsClient()
		one, err := c.Get(ctx, "rg", "lb", "fe1", nil)
		if err != nil {
			t.Fatal(err)
		}
		var list []child
		for pg := c.NewListPager("rg", "lb", nil); pg.More(); {
			page, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range page.Value {
				list = append(list, child{*x.ID, *x.Name, *x.Type, *x.Etag})
			}
		}
		check("frontendIPConfigurations", []string{"fe1"}, list, child{*one.ID, *one.Name, *one.Type, *one.Etag})
		fp := one.Properties
		if diff := cmp.Diff([]string{lbID("rg", "lb", "loadBalancingRules", "rule1"), lbID("rg", "lb", "loadBalancingRules", "rule2")}, subIDs(fp.LoadBalancingRules)); diff != "" {
			t.Errorf("frontend loadBalancingRules (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{lbID("rg", "lb", "inboundNatRules", "nat1")}, subIDs(fp.InboundNatRules)); diff != "" {
			t.Errorf("frontend inboundNatRules (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{lbID("rg", "lb", "inboundNatPools", "natpool1")}, subIDs(fp.InboundNatPools)); diff != "" {
			t.Errorf("frontend inboundNatPools (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{lbID("rg", "lb", "outboundRules", "out1")}, subIDs(fp.OutboundRules)); diff != "" {
			t.Errorf("frontend outboundRules (-want +got):\n%s", diff)
		}
	}
	{
		c := e.net.NewLoadBalancerBackendAddressPoolsClient()
		one, err := c.Get(ctx, "rg", "lb", "pool1", nil)
		if err != nil {
			t.Fatal(err)
		}
		var list []child
		for pg := c.NewListPager("rg", "lb", nil); pg.More(); {
			page, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range page.Value {
				list = append(list, child{*x.ID, *x.Name, *x.Type, *x.Etag})
			}
		}
		check("backendAddressPools", []string{"pool1", "pool2"}, list, child{*one.ID, *one.Name, *one.Type, *one.Etag})
		if diff := cmp.Diff([]string{lbID("rg", "lb", "loadBalancingRules", "rule1"), lbID("rg", "lb", "loadBalancingRules", "rule2")}, subIDs(one.Properties.LoadBalancingRules)); diff != "" {
			t.Errorf("pool1 loadBalancingRules (-want +got):\n%s", diff)
		}
		two, err := c.Get(ctx, "rg", "lb", "pool2", nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{lbID("rg", "lb", "outboundRules", "out1")}, subIDs(two.Properties.OutboundRules)); diff != "" {
			t.Errorf("pool2 outboundRules (-want +got):\n%s", diff)
		}
	}
	{
		c := e.net.NewLoadBalancerLoadBalancingRulesClient()
		one, err := c.Get(ctx, "rg", "lb", "rule1", nil)
		if err != nil {
			t.Fatal(err)
		}
		var list []child
		for pg := c.NewListPager("rg", "lb", nil); pg.More(); {
			page, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range page.Value {
				list = append(list, child{*x.ID, *x.Name, *x.Type, *x.Etag})
			}
		}
		check("loadBalancingRules", []string{"rule1", "rule2"}, list, child{*one.ID, *one.Name, *one.Type, *one.Etag})
		rp := one.Properties
		if *rp.LoadDistribution != armnetwork.LoadDistributionDefault || *rp.IdleTimeoutInMinutes != 30 || !*rp.EnableTCPReset || *rp.EnableFloatingIP {
			t.Errorf("rule1 properties: distribution %s idle %d reset %v floating %v", *rp.LoadDistribution, *rp.IdleTimeoutInMinutes, *rp.EnableTCPReset, *rp.EnableFloatingIP)
		}
	}
	{
		c := e.net.NewLoadBalancerProbesClient()
		one, err := c.Get(ctx, "rg", "lb", "probe1", nil)
		if err != nil {
			t.Fatal(err)
		}
		var list []child
		for pg := c.NewListPager("rg", "lb", nil); pg.More(); {
			page, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range page.Value {
				list = append(list, child{*x.ID, *x.Name, *x.Type, *x.Etag})
			}
		}
		check("probes", []string{"probe1", "probe2"}, list, child{*one.ID, *one.Name, *one.Type, *one.Etag})
		if diff := cmp.Diff([]string{lbID("rg", "lb", "loadBalancingRules", "rule1")}, subIDs(one.Properties.LoadBalancingRules)); diff != "" {
			t.Errorf("probe1 loadBalancingRules (-want +got):\n%s", diff)
		}
		if *one.Properties.IntervalInSeconds != 5 || *one.Properties.NumberOfProbes != 2 {
			t.Errorf("probe1 interval %d number %d", *one.Properties.IntervalInSeconds, *one.Properties.NumberOfProbes)
		}
	}
	{
		c := e.net.NewInboundNatRulesClient()
		one, err := c.Get(ctx, "rg", "lb", "nat1", nil)
		if err != nil {
			t.Fatal(err)
		}
		var list []child
		for pg := c.NewListPager("rg", "lb", nil); pg.More(); {
			page, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range page.Value {
				list = append(list, child{*x.ID, *x.Name, *x.Type, *x.Etag})
			}
		}
		check("inboundNatRules", []string{"nat1"}, list, child{*one.ID, *one.Name, *one.Type, *one.Etag})
	}
	{
		c := e.net.NewLoadBalancerOutboundRulesClient()
		one, err := c.Get(ctx, "rg", "lb", "out1", nil)
		if err != nil {
			t.Fatal(err)
		}
		var list []child
		for pg := c.NewListPager("rg", "lb", nil); pg.More(); {
			page, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range page.Value {
				list = append(list, child{*x.ID, *x.Name, *x.Type, *x.Etag})
			}
		}
		check("outboundRules", []string{"out1"}, list, child{*one.ID, *one.Name, *one.Type, *one.Etag})
		if *one.Properties.AllocatedOutboundPorts != 1024 {
			t.Errorf("out1 allocatedOutboundPorts %d", *one.Properties.AllocatedOutboundPorts)
		}
	}
	_, err = e.net.NewLoadBalancerProbesClient().Get(ctx, "rg", "lb", "nope", nil)
	wantStatus(t, err, http.StatusNotFound, "NotFound")

	// Backend pool PUT and DELETE through the child resource.
	pc := e.net.NewLoadBalancerBackendAddressPoolsClient()
	pp, err := pc.BeginCreateOrUpdate(ctx, "rg", "lb", "pool3", armnetwork.BackendAddressPool{Properties: &armnetwork.BackendAddressPoolPropertiesFormat{}}, nil)
	pool3 := done(t, pp, err).BackendAddressPool
	if *pool3.ID != lbID("rg", "lb", "backendAddressPools", "pool3") {
		t.Errorf("pool3 id %s", *pool3.ID)
	}
	after := e.getLB("rg", "lb")
	if diff := cmp.Diff([]string{"pool1", "pool2", "pool3"}, namesOf(after.Properties.BackendAddressPools, func(b *armnetwork.BackendAddressPool) *string { return b.Name })); diff != "" {
		t.Errorf("pools after child PUT (-want +got):\n%s", diff)
	}
	if *after.Etag == *lb.Etag || *pool3.Etag != *after.Etag {
		t.Errorf("etags after child PUT: before %s, after %s, pool %s", *lb.Etag, *after.Etag, *pool3.Etag)
	}
	pd, err := pc.BeginDelete(ctx, "rg", "lb", "pool3", nil)
	done(t, pd, err)
	_, err = pc.Get(ctx, "rg", "lb", "pool3", nil)
	wantStatus(t, err, http.StatusNotFound, "NotFound")

	// A second, internal LB: NAT rule PUT and DELETE through the child
	// resource, and the NICs behind the LB.
	e.vnet("rg", "vnet", "s0")
	s0 := subnetID("rg", "vnet", "s0")
	e.putLB("rg", "ilb", internalLB("rg", "ilb", s0, "Standard"))
	nc := e.net.NewInboundNatRulesClient()
	np, err := nc.BeginCreateOrUpdate(ctx, "rg", "ilb", "ssh", armnetwork.InboundNatRule{Properties: &armnetwork.InboundNatRulePropertiesFormat{
		FrontendIPConfiguration: sub(lbID("rg", "ilb", "frontendIPConfigurations", "fe1")),
		Protocol:                to(armnetwork.TransportProtocolTCP), FrontendPort: to[int32](2222), BackendPort: to[int32](22),
	}}, nil)
	ssh := done(t, np, err).InboundNatRule
	if *ssh.ID != lbID("rg", "ilb", "inboundNatRules", "ssh") || *ssh.Properties.IdleTimeoutInMinutes != 4 {
		t.Errorf("ssh rule: %s idle %v", *ssh.ID, ssh.Properties.IdleTimeoutInMinutes)
	}
	nic := nicBody(s0, "", lbID("rg", "ilb", "backendAddressPools", "pool1"))
	nic.Properties.IPConfigurations[0].Properties.LoadBalancerInboundNatRules = []*armnetwork.InboundNatRule{{ID: ssh.ID}}
	e.create(nicID("rg", "nic1"), nic, nil)
	got, err := nc.Get(ctx, "rg", "ilb", "ssh", nil)
	if err != nil {
		t.Fatal(err)
	}
	if bic := got.Properties.BackendIPConfiguration; bic == nil || *bic.ID != ipcID("rg", "nic1", "ipconfig1") {
		t.Errorf("ssh backendIPConfiguration = %v", bic)
	}
	var nics []string
	for pg := e.net.NewLoadBalancerNetworkInterfacesClient().NewListPager("rg", "ilb", nil); pg.More(); {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		nics = append(nics, idsOf(page.Value, func(x *armnetwork.Interface) *string { return x.ID })...)
	}
	if diff := cmp.Diff([]string{nicID("rg", "nic1")}, nics); diff != "" {
		t.Errorf("NICs of the LB (-want +got):\n%s", diff)
	}
	// Detach the NIC from the rule, then delete the rule.
	e.nic("rg", "nic1", s0, "")
	got, err = nc.Get(ctx, "rg", "ilb", "ssh", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Properties.BackendIPConfiguration != nil {
		t.Errorf("ssh backendIPConfiguration after detach = %v", *got.Properties.BackendIPConfiguration.ID)
	}
	nd, err := nc.BeginDelete(ctx, "rg", "ilb", "ssh", nil)
	done(t, nd, err)
	var rules []string
	for pg := nc.NewListPager("rg", "ilb", nil); pg.More(); {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, idsOf(page.Value, func(x *armnetwork.InboundNatRule) *string { return x.ID })...)
	}
	if len(rules) != 0 {
		t.Errorf("NAT rules after delete: %v", rules)
	}

	ld, err := lbc.BeginDelete(ctx, "rg", "lb", nil)
	done(t, ld, err)
	_, err = lbc.Get(ctx, "rg", "lb", nil)
	wantStatus(t, err, http.StatusNotFound, "ResourceNotFound")
	if ipc := e.getPIP("rg", "pip").Properties.IPConfiguration; ipc != nil {
		t.Errorf("public IP still held by %s after the LB was deleted", *ipc.ID)
	}
}

// vmBody is a VM attaching the given NICs (the first primary) with an
// admin password that must never come back.
func vmBody(nics ...string) armcompute.VirtualMachine {
	vm := armcompute.VirtualMachine{
		Location: to(location),
		Properties: &armcompute.VirtualMachineProperties{
			HardwareProfile: &armcompute.HardwareProfile{VMSize: to(armcompute.VirtualMachineSizeTypesStandardD1V2)},
			OSProfile:       &armcompute.OSProfile{ComputerName: to("vm"), AdminUsername: to("azureuser"), AdminPassword: to("S3cret!pass")},
			NetworkProfile:  &armcompute.NetworkProfile{},
		},
	}
	for i, n := range nics {
		vm.Properties.NetworkProfile.NetworkInterfaces = append(vm.Properties.NetworkProfile.NetworkInterfaces, &armcompute.NetworkInterfaceReference{
			ID: to(n), Properties: &armcompute.NetworkInterfaceReferenceProperties{Primary: to(i == 0)},
		})
	}
	return vm
}

func TestSDKVirtualMachines(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.group("rg")
	e.vnet("rg", "vnet", "s0")
	s0 := subnetID("rg", "vnet", "s0")
	e.nic("rg", "nic1", s0, "")
	e.nic("rg", "nic2", s0, "")
	c := e.comp.NewVirtualMachinesClient()

	noPassword := func(where string, vm *armcompute.VirtualMachine) {
		t.Helper()
		if vm.Properties == nil || vm.Properties.OSProfile == nil {
			t.Fatalf("%s: no osProfile", where)
		}
		if vm.Properties.OSProfile.AdminPassword != nil {
			t.Errorf("%s: adminPassword returned: %q", where, *vm.Properties.OSProfile.AdminPassword)
		}
		if *vm.Properties.OSProfile.AdminUsername != "azureuser" {
			t.Errorf("%s: adminUsername %v", where, vm.Properties.OSProfile.AdminUsername)
		}
	}
	p, err := c.BeginCreateOrUpdate(ctx, "rg", "vm1", vmBody(nicID("rg", "nic1"), nicID("rg", "nic2")), nil)
	vm := done(t, p, err).VirtualMachine
	noPassword("create", &vm)
	if *vm.ID != vmID("rg", "vm1") || *vm.Type != "Microsoft.Compute/virtualMachines" || vm.Properties.VMID == nil {
		t.Errorf("vm: %s %s", *vm.ID, *vm.Type)
	}
	got, err := c.Get(ctx, "rg", "vm1", nil)
	if err != nil {
		t.Fatal(err)
	}
	noPassword("get", &got.VirtualMachine)
	for _, n := range []string{"nic1", "nic2"} {
		if ref := e.getNIC("rg", n).Properties.VirtualMachine; ref == nil || *ref.ID != vmID("rg", "vm1") {
			t.Errorf("%s virtualMachine = %v", n, ref)
		}
	}

	// Update: detach nic2.
	p, err = c.BeginCreateOrUpdate(ctx, "rg", "vm1", vmBody(nicID("rg", "nic1")), nil)
	done(t, p, err)
	if ref := e.getNIC("rg", "nic2").Properties.VirtualMachine; ref != nil {
		t.Errorf("nic2 still attached to %s", *ref.ID)
	}
	_, err = e.net.NewInterfacesClient().BeginDelete(ctx, "rg", "nic1", nil)
	wantStatus(t, err, http.StatusBadRequest, "NicInUse")

	var vms []string
	for pg := c.NewListPager("rg", nil); pg.More(); {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Value {
			noPassword("list", v)
			vms = append(vms, *v.Name)
		}
	}
	if diff := cmp.Diff([]string{"vm1"}, vms); diff != "" {
		t.Errorf("vms (-want +got):\n%s", diff)
	}

	up, err := c.BeginUpdate(ctx, "rg", "vm1", armcompute.VirtualMachineUpdate{Tags: map[string]*string{"owner": to("ops")}}, nil)
	updated := done(t, up, err)
	if diff := cmp.Diff(map[string]*string{"owner": to("ops")}, updated.Tags); diff != "" {
		t.Errorf("vm tags (-want +got):\n%s", diff)
	}

	dp, err := c.BeginDelete(ctx, "rg", "vm1", nil)
	done(t, dp, err)
	_, err = c.Get(ctx, "rg", "vm1", nil)
	wantStatus(t, err, http.StatusNotFound, "ResourceNotFound")
	if ref := e.getNIC("rg", "nic1").Properties.VirtualMachine; ref != nil {
		t.Errorf("nic1 still attached to %s after the VM was deleted", *ref.ID)
	}
}

// TestSDKUpdateTags sends PATCH {tags} (updateTags) to every top-level
// type: the tags are replaced, the etag (the resource's and its
// children's) changes, nothing else does.
func TestSDKUpdateTags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.group("rg")
	e.vnet("rg", "vnet", "s0")
	s0 := subnetID("rg", "vnet", "s0")
	pip := e.pip("rg", "pip", "Standard")
	e.putLB("rg", "lb", fullLB("rg", "lb", *pip.ID))
	e.nic("rg", "nic", s0, "")
	e.create(vmID("rg", "vm"), vmBody(nicID("rg", "nic")), nil)
	tags := map[string]*string{"a": to("1"), "b": to("2")}
	obj := armnetwork.TagsObject{Tags: tags}
	nc := e.net

	cases := []struct {
		name  string
		get   func() (any, error)
		patch func() (any, error)
		etag  bool
	}{
		{"loadBalancers",
			func() (any, error) {
				r, err := nc.NewLoadBalancersClient().Get(ctx, "rg", "lb", nil)
				return r.LoadBalancer, err
			},
			func() (any, error) {
				r, err := nc.NewLoadBalancersClient().UpdateTags(ctx, "rg", "lb", obj, nil)
				return r.LoadBalancer, err
			}, true},
		{"virtualNetworks",
			func() (any, error) {
				r, err := nc.NewVirtualNetworksClient().Get(ctx, "rg", "vnet", nil)
				return r.VirtualNetwork, err
			},
			func() (any, error) {
				r, err := nc.NewVirtualNetworksClient().UpdateTags(ctx, "rg", "vnet", obj, nil)
				return r.VirtualNetwork, err
			}, true},
		{"networkInterfaces",
			func() (any, error) {
				r, err := nc.NewInterfacesClient().Get(ctx, "rg", "nic", nil)
				return r.Interface, err
			},
			func() (any, error) {
				r, err := nc.NewInterfacesClient().UpdateTags(ctx, "rg", "nic", obj, nil)
				return r.Interface, err
			}, true},
		{"publicIPAddresses",
			func() (any, error) {
				r, err := nc.NewPublicIPAddressesClient().Get(ctx, "rg", "pip", nil)
				return r.PublicIPAddress, err
			},
			func() (any, error) {
				r, err := nc.NewPublicIPAddressesClient().UpdateTags(ctx, "rg", "pip", obj, nil)
				return r.PublicIPAddress, err
			}, true},
		{"virtualMachines",
			func() (any, error) {
				r, err := e.comp.NewVirtualMachinesClient().Get(ctx, "rg", "vm", nil)
				return r.VirtualMachine, err
			},
			func() (any, error) {
				p, err := e.comp.NewVirtualMachinesClient().BeginUpdate(ctx, "rg", "vm", armcompute.VirtualMachineUpdate{Tags: tags}, nil)
				if err != nil {
					return nil, err
				}
				r, err := p.PollUntilDone(ctx, pollOpts)
				return r.VirtualMachine, err
			}, false},
		{"resourceGroups",
			func() (any, error) {
				r, err := e.res.NewResourceGroupsClient().Get(ctx, "rg", nil)
				return r.ResourceGroup, err
			},
			func() (any, error) {
				r, err := e.res.NewResourceGroupsClient().Update(ctx, "rg", armresources.ResourceGroupPatchable{Tags: tags}, nil)
				return r.ResourceGroup, err
			}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, err := tc.get()
			if err != nil {
				t.Fatal(err)
			}
			patched, err := tc.patch()
			if err != nil {
				t.Fatal(err)
			}
			after, err := tc.get()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(jsonOf(t, after), jsonOf(t, patched)); diff != "" {
				t.Errorf("PATCH answer differs from a later GET (-get +patch):\n%s", diff)
			}
			want := jsonOf(t, before)
			want["tags"] = map[string]any{"a": "1", "b": "2"}
			if diff := cmp.Diff(dropEtags(want), dropEtags(jsonOf(t, after))); diff != "" {
				t.Errorf("PATCH changed more than the tags (-want +got):\n%s", diff)
			}
			if !tc.etag {
				return
			}
			old, now := jsonOf(t, before)["etag"], jsonOf(t, after)["etag"]
			if old == nil || old == now {
				t.Errorf("etag %v did not change (now %v)", old, now)
			}
			for path, tag := range etagsOf(jsonOf(t, after), "") {
				if tag != now {
					t.Errorf("%s: etag %v, resource etag %v", path, tag, now)
				}
			}
		})
	}
}

// jsonOf renders v as generic JSON.
func jsonOf(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// dropEtags removes every "etag" property, at any depth.
func dropEtags(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			if k != "etag" {
				out[k] = dropEtags(val)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = dropEtags(val)
		}
		return out
	}
	return v
}

// etagsOf returns every "etag" property with its path.
func etagsOf(v any, path string) map[string]any {
	out := map[string]any{}
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if k == "etag" {
				out[path+".etag"] = val
				continue
			}
			for p, e := range etagsOf(val, path+"."+k) {
				out[p] = e
			}
		}
	case []any:
		for i, val := range x {
			for p, e := range etagsOf(val, fmt.Sprintf("%s[%d]", path, i)) {
				out[p] = e
			}
		}
	}
	return out
}

// TestSDKPollersWithDataPlane runs writes through the SDK against a server
// whose userspace data plane acknowledges them asynchronously (Updating /
// InProgress until applied): every poller must still finish, with the
// resource Succeeded. The VNet is served on 127.231.0.0/16 and public
// addresses on 127.232.0.0/24, loopback ranges no other test uses.
func TestSDKPollersWithDataPlane(t *testing.T) {
	t.Parallel()
	m, err := lbplan.ParseMapping("10.0.0.0/16=127.231.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *server.Config) {
		c.DataPlane = "userspace"
		c.AddressMap = lbplan.AddressMap{m}
		c.PublicIPRange = netip.MustParsePrefix("127.232.0.0/24")
	})
	ctx := t.Context()
	e.group("rg")
	e.vnet("rg", "vnet", "s0")
	s0 := subnetID("rg", "vnet", "s0")
	body := internalLB("rg", "lb", s0, "Standard")
	body.Properties.LoadBalancingRules[0].Properties.FrontendPort = to[int32](18080)
	lbc := e.net.NewLoadBalancersClient()
	p, err := lbc.BeginCreateOrUpdate(ctx, "rg", "lb", body, nil)
	lb := done(t, p, err).LoadBalancer
	if s := *lb.Properties.ProvisioningState; s != armnetwork.ProvisioningStateSucceeded {
		t.Errorf("LB provisioningState after the poller: %s", s)
	}
	np, err := e.net.NewInterfacesClient().BeginCreateOrUpdate(ctx, "rg", "nic", nicBody(s0, "", lbID("rg", "lb", "backendAddressPools", "pool1")), nil)
	nic := done(t, np, err).Interface
	if s := *nic.Properties.ProvisioningState; s != armnetwork.ProvisioningStateSucceeded {
		t.Errorf("NIC provisioningState after the poller: %s", s)
	}
	pp, err := e.net.NewLoadBalancerBackendAddressPoolsClient().BeginCreateOrUpdate(ctx, "rg", "lb", "pool2", ipPool(vnetID("rg", "vnet"), "10.0.0.40"), nil)
	if pool := done(t, pp, err).BackendAddressPool; *pool.Properties.ProvisioningState != armnetwork.ProvisioningStateSucceeded {
		t.Errorf("pool provisioningState after the poller: %s", *pool.Properties.ProvisioningState)
	}
	dp, err := e.net.NewInterfacesClient().BeginDelete(ctx, "rg", "nic", nil)
	done(t, dp, err)
	ld, err := lbc.BeginDelete(ctx, "rg", "lb", nil)
	done(t, ld, err)
	_, err = lbc.Get(ctx, "rg", "lb", nil)
	wantStatus(t, err, http.StatusNotFound, "ResourceNotFound")
}
