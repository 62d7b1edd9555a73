package rp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/store"
	"github.com/paddock-lb/paddock/internal/store/memstore"
)

// The fuzz tests feed arbitrary bodies to Put on a freshly prepared
// service (a new memstore per input) and check the contract of the write path: no panic; success, or
// an *arm.Error with a 4xx status (never an unclassified error that would
// become a 500); a refused write leaves the store untouched; and whatever
// was accepted can be read back.
//
// Seeds are the request bodies of Azure's REST API examples for the
// load balancer and network interface operations
// (azure-rest-api-specs, Microsoft.Network/stable/2026-01-01/examples),
// plus a few variants that reach deeper validation. The prepared state
// uses the examples' names (subscription subid, group rg1, VNets vnetlb,
// lbvnet and rg1-vnet, public IPs pip and test-ip), so the seeds resolve.
//
//	go test -run='^$' -fuzz=FuzzPutLoadBalancer -fuzztime=60s -fuzzminimizetime=5s ./internal/rp
//
// (without -fuzzminimizetime the default minute of minimizing each new
// input takes most of a short run).

const fuzzSub, fuzzRG = "subid", "rg1"

func fuzzID(typ, name string) arm.ResourceID {
	return arm.Resource(fuzzSub, fuzzRG, arm.NamespaceNetwork, typ, name)
}

// fuzzAPIVersions are the api-versions a fuzz input may pick from.
var fuzzAPIVersions = []arm.APIVersion{"2020-05-01", "2021-08-01", "2023-09-01", "2024-05-01", "2026-01-01"}

// Seeds from the Azure examples (LoadBalancerCreate*.json).
const (
	seedLBCreate = `{"location": "eastus", "properties": {"scope": "Public", "frontendIPConfigurations": [{"name": "fe-lb", "properties": {"subnet": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnetlb/subnets/subnetlb"}}}], "backendAddressPools": [{"name": "be-lb", "properties": {}}], "loadBalancingRules": [{"name": "rulelb", "properties": {"frontendIPConfiguration": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe-lb"}, "frontendPort": 80, "backendPort": 80, "enableFloatingIP": true, "idleTimeoutInMinutes": 15, "protocol": "Tcp", "enableTcpReset": false, "loadDistribution": "Default", "backendAddressPool": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/backendAddressPools/be-lb"}, "probe": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/probes/probe-lb"}}}], "probes": [{"name": "probe-lb", "properties": {"protocol": "Http", "port": 80, "requestPath": "healthcheck.aspx", "intervalInSeconds": 15, "numberOfProbes": 2, "probeThreshold": 1}}], "inboundNatRules": [{"name": "in-nat-rule", "properties": {"frontendIPConfiguration": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe-lb"}, "frontendPort": 3389, "backendPort": 3389, "enableFloatingIP": true, "idleTimeoutInMinutes": 15, "protocol": "Tcp", "enableTcpReset": false}}], "inboundNatPools": []}}`

	seedLBStandard = `{"location": "eastus", "sku": {"name": "Standard"}, "properties": {"frontendIPConfigurations": [{"name": "fe-lb", "properties": {"subnet": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnetlb/subnets/subnetlb"}}}], "backendAddressPools": [{"name": "be-lb", "properties": {}}], "loadBalancingRules": [{"name": "rulelb", "properties": {"frontendIPConfiguration": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe-lb"}, "frontendPort": 80, "backendPort": 80, "enableFloatingIP": true, "idleTimeoutInMinutes": 15, "protocol": "Tcp", "loadDistribution": "Default", "backendAddressPool": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/backendAddressPools/be-lb"}, "probe": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/probes/probe-lb"}}}], "probes": [{"name": "probe-lb", "properties": {"protocol": "Http", "port": 80, "requestPath": "healthcheck.aspx", "intervalInSeconds": 15, "numberOfProbes": 2, "probeThreshold": 1}}], "inboundNatRules": [{"name": "in-nat-rule", "properties": {"frontendIPConfiguration": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe-lb"}, "frontendPort": 3389, "backendPort": 3389, "enableFloatingIP": true, "idleTimeoutInMinutes": 15, "protocol": "Tcp"}}], "inboundNatPools": [], "outboundRules": []}}`

	seedLBOutbound = `{"location": "eastus", "sku": {"name": "Standard"}, "properties": {"frontendIPConfigurations": [{"name": "fe-lb", "properties": {"publicIPAddress": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/publicIPAddresses/pip"}}}], "backendAddressPools": [{"name": "be-lb", "properties": {}}], "loadBalancingRules": [{"name": "rulelb", "properties": {"frontendIPConfiguration": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe-lb"}, "backendAddressPool": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/backendAddressPools/be-lb"}, "probe": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/probes/probe-lb"}, "protocol": "Tcp", "loadDistribution": "Default", "frontendPort": 80, "backendPort": 80, "idleTimeoutInMinutes": 15, "enableFloatingIP": true, "disableOutboundSnat": true}}], "probes": [{"name": "probe-lb", "properties": {"protocol": "Http", "port": 80, "requestPath": "healthcheck.aspx", "intervalInSeconds": 15, "numberOfProbes": 2, "probeThreshold": 1}}], "inboundNatRules": [{"name": "in-nat-rule", "properties": {"frontendIPConfiguration": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe-lb"}, "frontendPort": 3389, "backendPort": 3389, "enableFloatingIP": true, "idleTimeoutInMinutes": 15, "protocol": "Tcp"}}], "inboundNatPools": [], "outboundRules": [{"name": "rule1", "properties": {"backendAddressPool": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/backendAddressPools/be-lb"}, "frontendIPConfigurations": [{"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe-lb"}], "protocol": "All"}}]}}`

	seedLBNATPool = `{"location": "eastus", "sku": {"name": "Standard"}, "properties": {"frontendIPConfigurations": [{"properties": {"privateIPAllocationMethod": "Dynamic", "subnet": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/lbvnet/subnets/lbsubnet"}}, "name": "test", "zones": [], "id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/test"}], "backendAddressPools": [], "loadBalancingRules": [], "probes": [], "inboundNatRules": [], "outboundRules": [], "inboundNatPools": [{"properties": {"frontendIPConfiguration": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/test"}, "protocol": "Tcp", "frontendPortRangeStart": 8080, "frontendPortRangeEnd": 8085, "backendPort": 8888, "idleTimeoutInMinutes": 10, "enableFloatingIP": true, "enableTcpReset": true}, "name": "test", "id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/inboundNatPools/test"}]}}`

	seedLBZones = `{"location": "eastus", "sku": {"name": "Standard"}, "properties": {"frontendIPConfigurations": [{"name": "fe-lb", "properties": {"subnet": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnetlb/subnets/subnetlb"}}, "zones": ["1"]}], "backendAddressPools": [{"name": "be-lb", "properties": {}}], "loadBalancingRules": [{"name": "rulelb", "properties": {"frontendIPConfiguration": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe-lb"}, "frontendPort": 80, "backendPort": 80, "enableFloatingIP": true, "idleTimeoutInMinutes": 15, "protocol": "Tcp", "loadDistribution": "Default", "backendAddressPool": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/backendAddressPools/be-lb"}, "probe": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/probes/probe-lb"}}}], "probes": [{"name": "probe-lb", "properties": {"protocol": "Http", "port": 80, "requestPath": "healthcheck.aspx", "intervalInSeconds": 15, "numberOfProbes": 2, "probeThreshold": 1}}], "inboundNatRules": [{"name": "in-nat-rule", "properties": {"frontendIPConfiguration": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe-lb"}, "frontendPort": 3389, "backendPort": 3389, "enableFloatingIP": true, "idleTimeoutInMinutes": 15, "protocol": "Tcp"}}], "inboundNatPools": [], "outboundRules": []}}`

	seedLBSyncModePool = `{"location": "eastus", "sku": {"name": "Standard"}, "properties": {"frontendIPConfigurations": [{"name": "fe-lb", "properties": {"subnet": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnetlb/subnets/subnetlb"}}}], "backendAddressPools": [{"name": "be-lb", "properties": {"syncMode": "Automatic", "virtualNetwork": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnetlb"}}}], "loadBalancingRules": [{"name": "rulelb", "properties": {"frontendIPConfiguration": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe-lb"}, "frontendPort": 80, "backendPort": 80, "enableFloatingIP": true, "idleTimeoutInMinutes": 15, "protocol": "Tcp", "loadDistribution": "Default", "backendAddressPool": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/backendAddressPools/be-lb"}, "probe": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/probes/probe-lb"}}}], "probes": [{"name": "probe-lb", "properties": {"protocol": "Http", "port": 80, "requestPath": "healthcheck.aspx", "intervalInSeconds": 15, "numberOfProbes": 2, "probeThreshold": 1}}], "inboundNatRules": [{"name": "in-nat-rule", "properties": {"frontendIPConfiguration": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe-lb"}, "frontendPort": 3389, "backendPort": 3389, "enableFloatingIP": true, "idleTimeoutInMinutes": 15, "protocol": "Tcp"}}], "inboundNatPools": [], "outboundRules": []}}`

	// IP-based pool (LBBackendAddressPoolWithBackendAddressesPut.json's
	// addresses) and a NAT rule v2 on it.
	seedLBIPPoolNATv2 = `{"location": "eastus", "sku": {"name": "Standard"}, "properties": {"frontendIPConfigurations": [{"name": "fe-lb", "properties": {"subnet": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnetlb/subnets/subnetlb"}, "privateIPAllocationMethod": "Static", "privateIPAddress": "10.0.0.10"}}], "backendAddressPools": [{"name": "backend", "properties": {"loadBalancerBackendAddresses": [{"name": "address1", "properties": {"virtualNetwork": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnetlb"}, "ipAddress": "10.0.0.4"}}, {"name": "address2", "properties": {"virtualNetwork": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnetlb"}, "ipAddress": "10.0.0.5"}}]}}], "inboundNatRules": [{"name": "nat-v2", "properties": {"frontendIPConfiguration": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe-lb"}, "backendAddressPool": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/backendAddressPools/backend"}, "frontendPortRangeStart": 3000, "frontendPortRangeEnd": 3100, "backendPort": 22, "protocol": "Tcp"}}]}}`
)

// Seeds from the Azure examples (NetworkInterfaceCreate*.json), and NICs
// that join the prepared load balancer "lbnic".
const (
	seedNICCreate = `{"properties": {"enableAcceleratedNetworking": true, "disableTcpStateTracking": true, "ipConfigurations": [{"name": "ipconfig1", "properties": {"publicIPAddress": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/publicIPAddresses/test-ip"}, "subnet": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/rg1-vnet/subnets/default"}}}, {"name": "ipconfig2", "properties": {"privateIPAddressPrefixLength": 28}}]}, "location": "eastus"}`

	seedNICGateway = `{"properties": {"enableAcceleratedNetworking": true, "ipConfigurations": [{"name": "ipconfig1", "properties": {"publicIPAddress": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/publicIPAddresses/test-ip"}, "subnet": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/rg1-vnet/subnets/default"}, "gatewayLoadBalancer": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe-lb-provider"}}}]}, "location": "eastus"}`

	seedNICPoolNAT = `{"location": "eastus", "properties": {"enableIPForwarding": false, "ipConfigurations": [{"name": "ipconfig1", "properties": {"privateIPAllocationMethod": "Dynamic", "subnet": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnetlb/subnets/subnetlb"}, "loadBalancerBackendAddressPools": [{"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lbnic/backendAddressPools/be-lb"}], "loadBalancerInboundNatRules": [{"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lbnic/inboundNatRules/in-nat-rule"}]}}]}}`

	seedNICTwoConfigs = `{"location": "eastus", "properties": {"ipConfigurations": [{"name": "primary", "properties": {"primary": true, "privateIPAllocationMethod": "Static", "privateIPAddress": "10.0.0.20", "subnet": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnetlb/subnets/subnetlb"}, "publicIPAddress": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/publicIPAddresses/test-ip"}}}, {"name": "secondary", "properties": {"primary": false, "subnet": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnetlb/subnets/subnetlb"}, "loadBalancerBackendAddressPools": [{"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lbnic/backendAddressPools/be-lb"}]}}]}}`
)

// fuzzTarget is the resource a fuzz test PUTs and the prepared store
// states it starts from, kept as key-value snapshots so that each input
// gets a fresh store cheaply.
type fuzzTarget struct {
	id arm.ResourceID
	// base holds the group, the virtual networks and public IPs the seeds
	// reference, and a load balancer "lbnic" (pool be-lb, NAT rule
	// in-nat-rule) for NICs to join; withExisting adds a valid resource
	// at id, so that the update path runs.
	base, withExisting []store.KV
}

func newFuzzTarget(f *testing.F, id arm.ResourceID, valid string) *fuzzTarget {
	f.Helper()
	ctx := f.Context()
	st := memstore.New()
	svc := New(Options{Store: st})
	if _, err := svc.PutGroup(ctx, &Call{ID: arm.ResourceID{SubscriptionID: fuzzSub, ResourceGroup: fuzzRG}, APIVersion: "2021-04-01", Body: []byte(`{"location":"eastus"}`)}); err != nil {
		f.Fatalf("prepare group: %v", err)
	}
	put := func(id arm.ResourceID, body string) {
		f.Helper()
		if _, err := svc.Put(ctx, &Call{ID: id, APIVersion: arm.LatestNetworkAPIVersion, Body: []byte(body)}); err != nil {
			f.Fatalf("prepare %s: %v", id, err)
		}
	}
	snapshot := func() []store.KV {
		f.Helper()
		kvs, _, err := st.List(ctx, "", store.ListOptions{})
		if err != nil {
			f.Fatalf("snapshot: %v", err)
		}
		return kvs
	}
	put(fuzzID("virtualNetworks", "vnetlb"), `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"subnets":[{"name":"subnetlb","properties":{"addressPrefix":"10.0.0.0/24"}}]}}`)
	put(fuzzID("virtualNetworks", "rg1-vnet"), `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.1.0.0/16"]},"subnets":[{"name":"default","properties":{"addressPrefix":"10.1.0.0/24"}}]}}`)
	put(fuzzID("virtualNetworks", "lbvnet"), `{"location":"eastus","properties":{"addressSpace":{"addressPrefixes":["10.2.0.0/16"]},"subnets":[{"name":"lbsubnet","properties":{"addressPrefix":"10.2.0.0/24"}}]}}`)
	put(fuzzID("publicIPAddresses", "pip"), `{"location":"eastus","sku":{"name":"Standard"},"properties":{"publicIPAllocationMethod":"Static"}}`)
	put(fuzzID("publicIPAddresses", "test-ip"), `{"location":"eastus","sku":{"name":"Standard"},"properties":{"publicIPAllocationMethod":"Static"}}`)
	put(fuzzID("loadBalancers", "lbnic"), strings.ReplaceAll(seedLBStandard, "/loadBalancers/lb/", "/loadBalancers/lbnic/"))
	ft := &fuzzTarget{id: id, base: snapshot()}
	put(id, valid)
	ft.withExisting = snapshot()
	return ft
}

// service returns a service over a fresh store holding a snapshot.
func (ft *fuzzTarget) service(t testing.TB, existing bool) (*Service, *memstore.Store) {
	t.Helper()
	kvs := ft.base
	if existing {
		kvs = ft.withExisting
	}
	ops := make([]store.Op, len(kvs))
	for i, kv := range kvs {
		ops[i] = store.Op{Key: kv.Key, Value: kv.Value}
	}
	st := memstore.New()
	if _, err := st.Txn(t.Context(), nil, ops); err != nil {
		t.Fatalf("restore snapshot: %v", err)
	}
	return New(Options{Store: st}), st
}

// check calls Put with body and checks the write-path contract.
func (ft *fuzzTarget) check(t *testing.T, body []byte, existing bool, api uint8) {
	svc, st := ft.service(t, existing)
	ctx := t.Context()
	id := ft.id
	v := fuzzAPIVersions[int(api)%len(fuzzAPIVersions)]
	before := rev(ctx, t, st)
	res, err := svc.Put(ctx, &Call{ID: id, APIVersion: v, Body: body})
	after := rev(ctx, t, st)
	if err != nil {
		var ae *arm.Error
		if !errors.As(err, &ae) {
			t.Fatalf("Put(%s, api %s) returned %T %q, want *arm.Error (it would be a 500)\nbody: %s", id, v, err, err, body)
		}
		if ae.Status < 400 || ae.Status >= 500 {
			t.Fatalf("Put(%s, api %s) returned status %d (%v), want 4xx\nbody: %s", id, v, ae.Status, ae, body)
		}
		if after != before {
			t.Fatalf("Put(%s, api %s) failed with %v but the store revision moved from %d to %d\nbody: %s", id, v, ae, before, after, body)
		}
		return
	}
	if res.Status != http.StatusOK && res.Status != http.StatusCreated {
		t.Fatalf("Put(%s) succeeded with status %d, want 200 or 201", id, res.Status)
	}
	if !json.Valid(res.Body) {
		t.Fatalf("Put(%s) answered an invalid JSON body: %q", id, res.Body)
	}
	got, err := svc.Get(ctx, &Call{ID: id, APIVersion: v})
	if err != nil {
		t.Fatalf("GET %s after an accepted PUT: %v\nbody: %s", id, err, body)
	}
	if !json.Valid(got.Body) {
		t.Fatalf("GET %s answered an invalid JSON body: %q", id, got.Body)
	}
}

func rev(ctx context.Context, t *testing.T, st *memstore.Store) int64 {
	t.Helper()
	r, err := st.Rev(ctx)
	if err != nil {
		t.Fatalf("store revision: %v", err)
	}
	return r
}

func FuzzPutLoadBalancer(f *testing.F) {
	for _, s := range []string{seedLBCreate, seedLBStandard, seedLBOutbound, seedLBNATPool, seedLBZones, seedLBSyncModePool, seedLBIPPoolNATv2} {
		for api := range uint8(len(fuzzAPIVersions)) {
			f.Add([]byte(s), false, api)
		}
		f.Add([]byte(s), true, uint8(4))
	}
	for _, s := range []string{``, `{}`, `null`, `[]`, `{"location":"eastus"}`, `{"location":"eastus","properties":{"frontendIPConfigurations":[null]}}`} {
		f.Add([]byte(s), false, uint8(0))
	}
	ft := newFuzzTarget(f, fuzzID("loadBalancers", "lb"), seedLBStandard)
	f.Fuzz(func(t *testing.T, body []byte, existing bool, api uint8) {
		ft.check(t, body, existing, api)
	})
}

func FuzzPutNetworkInterface(f *testing.F) {
	valid := `{"location":"eastus","properties":{"ipConfigurations":[{"name":"ipconfig1","properties":{"subnet":{"id":"/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/rg1-vnet/subnets/default"}}}]}}`
	for _, s := range []string{seedNICCreate, seedNICGateway, seedNICPoolNAT, seedNICTwoConfigs, valid} {
		for api := range uint8(len(fuzzAPIVersions)) {
			f.Add([]byte(s), false, api)
		}
		f.Add([]byte(s), true, uint8(4))
	}
	for _, s := range []string{``, `{}`, `null`, `{"location":"eastus","properties":{"ipConfigurations":[null,{}]}}`} {
		f.Add([]byte(s), false, uint8(0))
	}
	ft := newFuzzTarget(f, fuzzID("networkInterfaces", "test-nic"), valid)
	f.Fuzz(func(t *testing.T, body []byte, existing bool, api uint8) {
		ft.check(t, body, existing, api)
	})
}
