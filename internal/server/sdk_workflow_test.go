package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// sameIDs compares two id lists as sets.
func sameIDs(t *testing.T, what string, want, got []string) {
	t.Helper()
	want, got = slices.Clone(want), slices.Clone(got)
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

func ipcIDs(s []*armnetwork.InterfaceIPConfiguration) []string {
	return idsOf(s, func(x *armnetwork.InterfaceIPConfiguration) *string { return x.ID })
}

func ipConfigIDs(s []*armnetwork.IPConfiguration) []string {
	return idsOf(s, func(x *armnetwork.IPConfiguration) *string { return x.ID })
}

// seedLB is the load balancer of the seed document
// (shared/seed/backend-pool-management.md) with subid replaced.
func seedLB() armnetwork.LoadBalancer {
	ref := func(coll, n string) *armnetwork.SubResource { return sub(lbID("rg1", "lb", coll, n)) }
	return armnetwork.LoadBalancer{
		Location: to("eastus"),
		Properties: &armnetwork.LoadBalancerPropertiesFormat{
			FrontendIPConfigurations: []*armnetwork.FrontendIPConfiguration{{
				Name:       to("fe-lb"),
				Properties: &armnetwork.FrontendIPConfigurationPropertiesFormat{Subnet: &armnetwork.Subnet{ID: to(subnetID("rg1", "vnetlb", "subnetlb"))}},
			}},
			BackendAddressPools: []*armnetwork.BackendAddressPool{{Name: to("be-lb"), Properties: &armnetwork.BackendAddressPoolPropertiesFormat{}}},
			LoadBalancingRules: []*armnetwork.LoadBalancingRule{{
				Name: to("rulelb"),
				Properties: &armnetwork.LoadBalancingRulePropertiesFormat{
					FrontendIPConfiguration: ref("frontendIPConfigurations", "fe-lb"),
					FrontendPort:            to[int32](80), BackendPort: to[int32](80),
					EnableFloatingIP: to(true), IdleTimeoutInMinutes: to[int32](15),
					Protocol: to(armnetwork.TransportProtocolTCP), EnableTCPReset: to(false),
					LoadDistribution:   to(armnetwork.LoadDistributionDefault),
					BackendAddressPool: ref("backendAddressPools", "be-lb"),
					Probe:              ref("probes", "probe-lb"),
				},
			}},
			Probes: []*armnetwork.Probe{{
				Name: to("probe-lb"),
				Properties: &armnetwork.ProbePropertiesFormat{
					Protocol: to(armnetwork.ProbeProtocolHTTP), Port: to[int32](80), RequestPath: to("healthcheck.aspx"),
					IntervalInSeconds: to[int32](15), NumberOfProbes: to[int32](2),
				},
			}},
			InboundNatRules: []*armnetwork.InboundNatRule{{
				Name: to("in-nat-rule"),
				Properties: &armnetwork.InboundNatRulePropertiesFormat{
					FrontendIPConfiguration: ref("frontendIPConfigurations", "fe-lb"),
					FrontendPort:            to[int32](3389), BackendPort: to[int32](3389),
					EnableFloatingIP: to(true), IdleTimeoutInMinutes: to[int32](15),
					Protocol: to(armnetwork.TransportProtocolTCP), EnableTCPReset: to(false),
				},
			}},
			InboundNatPools: []*armnetwork.InboundNatPool{},
		},
	}
}

// TestSDKSeedWorkflow runs the seed flow (LB PUT, NIC PUT joining the
// pool, VM PUT attaching the NIC, GET of the pool) through the SDK.
func TestSDKSeedWorkflow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.group("rg1")
	e.create(vnetID("rg1", "vnetlb"), vnetBody("10.0.0.0/16", "subnetlb"), nil)
	e.create(vnetID("rg1", "rg1-vnet"), vnetBody("10.1.0.0/16", "default"), nil)
	e.pip("rg1", "test-ip", "Basic")

	p, err := e.net.NewLoadBalancersClient().BeginCreateOrUpdate(ctx, "rg1", "lb", seedLB(), nil)
	lb := done(t, p, err).LoadBalancer
	if *lb.SKU.Name != armnetwork.LoadBalancerSKUNameBasic {
		t.Errorf("LB without sku is %s, want Basic", *lb.SKU.Name)
	}
	if a := *lb.Properties.FrontendIPConfigurations[0].Properties.PrivateIPAddress; a != "10.0.0.4" {
		t.Errorf("frontend address %s, want 10.0.0.4", a)
	}
	// The rule references a probe defined later in the same body.
	if pr := lb.Properties.Probes[0].Properties; *pr.RequestPath != "healthcheck.aspx" || len(pr.LoadBalancingRules) != 1 {
		t.Errorf("probe: path %s rules %v", *pr.RequestPath, subIDs(pr.LoadBalancingRules))
	}

	nic := armnetwork.Interface{
		Location: to("eastus"),
		Properties: &armnetwork.InterfacePropertiesFormat{
			EnableAcceleratedNetworking: to(true),
			IPConfigurations: []*armnetwork.InterfaceIPConfiguration{{
				Name: to("ipconfig1"),
				Properties: &armnetwork.InterfaceIPConfigurationPropertiesFormat{
					PublicIPAddress:                 &armnetwork.PublicIPAddress{ID: to(pipID("rg1", "test-ip"))},
					Subnet:                          &armnetwork.Subnet{ID: to(subnetID("rg1", "rg1-vnet", "default"))},
					LoadBalancerBackendAddressPools: []*armnetwork.BackendAddressPool{{ID: to(lbID("rg1", "lb", "backendAddressPools", "be-lb"))}},
				},
			}},
		},
	}
	np, err := e.net.NewInterfacesClient().BeginCreateOrUpdate(ctx, "rg1", "test-nic", nic, nil)
	n := done(t, np, err).Interface
	if !*n.Properties.EnableAcceleratedNetworking {
		t.Error("enableAcceleratedNetworking lost")
	}

	vm := armcompute.VirtualMachine{
		Location: to("eastus"),
		Properties: &armcompute.VirtualMachineProperties{
			HardwareProfile: &armcompute.HardwareProfile{VMSize: to(armcompute.VirtualMachineSizeTypesStandardD1V2)},
			StorageProfile: &armcompute.StorageProfile{OSDisk: &armcompute.OSDisk{
				Name:         to("myVMosdisk"),
				Image:        &armcompute.VirtualHardDisk{URI: to("http://account.blob.core.windows.net/container/image.vhd")},
				OSType:       to(armcompute.OperatingSystemTypesWindows),
				CreateOption: to(armcompute.DiskCreateOptionTypesFromImage),
				Caching:      to(armcompute.CachingTypesReadWrite),
				Vhd:          &armcompute.VirtualHardDisk{URI: to("http://account.blob.core.windows.net/container/myDisk.vhd")},
			}},
			OSProfile: &armcompute.OSProfile{AdminUsername: to("azureuser"), ComputerName: to("myVM"), AdminPassword: to("Pa55w.rd1234")},
			NetworkProfile: &armcompute.NetworkProfile{NetworkInterfaces: []*armcompute.NetworkInterfaceReference{{
				ID: to(nicID("rg1", "test-nic")), Properties: &armcompute.NetworkInterfaceReferenceProperties{Primary: to(true)},
			}}},
		},
	}
	vp, err := e.comp.NewVirtualMachinesClient().BeginCreateOrUpdate(ctx, "rg1", "myVM", vm, nil)
	got := done(t, vp, err).VirtualMachine
	if got.Properties.OSProfile.AdminPassword != nil {
		t.Error("adminPassword returned")
	}
	if d := got.Properties.StorageProfile.OSDisk; d == nil || *d.Vhd.URI != "http://account.blob.core.windows.net/container/myDisk.vhd" {
		t.Errorf("storage profile not kept: %+v", d)
	}

	pool := e.getPool("rg1", "lb", "be-lb")
	sameIDs(t, "be-lb backendIPConfigurations", []string{ipcID("rg1", "test-nic", "ipconfig1")}, ipcIDs(pool.Properties.BackendIPConfigurations))
	sameIDs(t, "be-lb loadBalancingRules", []string{lbID("rg1", "lb", "loadBalancingRules", "rulelb")}, subIDs(pool.Properties.LoadBalancingRules))
	if ref := e.getNIC("rg1", "test-nic").Properties.VirtualMachine; ref == nil || *ref.ID != vmID("rg1", "myVM") {
		t.Errorf("test-nic virtualMachine = %v", ref)
	}
	if ref := e.getPIP("rg1", "test-ip").Properties.IPConfiguration; ref == nil || *ref.ID != ipcID("rg1", "test-nic", "ipconfig1") {
		t.Errorf("test-ip ipConfiguration = %v", ref)
	}
}

// TestSeedRawBodies sends the seed document's bodies byte for byte (only
// the subscription and the VM placeholders substituted) at the seed's
// api-versions, including the NIC's single-object
// loadBalancerBackendAddressPools.
func TestSeedRawBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.group("rg1")
	e.create(vnetID("rg1", "vnetlb"), vnetBody("10.0.0.0/16", "subnetlb"), nil)
	e.create(vnetID("rg1", "rg1-vnet"), vnetBody("10.1.0.0/16", "default"), nil)
	e.pip("rg1", "test-ip", "Basic")
	subst := strings.NewReplacer("/subscriptions/subid/", "/subscriptions/"+testSub+"/",
		"{subscription-id}", testSub, "myResourceGroup", "rg1", "{existing-nic-name}", "test-nic",
		"{your-username}", "azureuser", "{your-password}", "Pa55w.rd1234")
	steps := []struct{ path, api, body string }{
		{lbID("rg1", "lb"), "2020-05-01", seedLBBody},
		{nicID("rg1", "test-nic"), "2020-05-01", seedNICBody},
		{vmID("rg1", "myVM"), "2019-12-01", seedVMBody},
	}
	for _, s := range steps {
		r := e.do(http.MethodPut, s.path+"?api-version="+s.api, subst.Replace(s.body))
		if r.Status != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", s.path, r.Status, r.Body)
		}
		if r.Header.Get("Azure-AsyncOperation") == "" || r.Header.Get("Retry-After") == "" {
			t.Errorf("PUT %s: no LRO headers: %v", s.path, r.Header)
		}
	}
	r := e.do(http.MethodGet, lbID("rg1", "lb", "backendAddressPools", "be-lb")+"?api-version=2020-05-01", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET pool: %d %s", r.Status, r.Body)
	}
	var pool armnetwork.BackendAddressPool
	if err := pool.UnmarshalJSON(r.Body); err != nil {
		t.Fatal(err)
	}
	sameIDs(t, "be-lb backendIPConfigurations", []string{ipcID("rg1", "test-nic", "ipconfig1")}, ipcIDs(pool.Properties.BackendIPConfigurations))
	if strings.Contains(string(r.Body), "Pa55w.rd") {
		t.Error("password leaked")
	}
	vm := e.do(http.MethodGet, vmID("rg1", "myVM")+"?api-version=2019-12-01", nil)
	if strings.Contains(string(vm.Body), "adminPassword") || !strings.Contains(string(vm.Body), `"adminUsername":"azureuser"`) {
		t.Errorf("VM osProfile: %s", vm.Body)
	}
}

const seedLBBody = `{
  "location": "eastus",
  "properties": {
    "frontendIPConfigurations": [
      {
        "name": "fe-lb",
        "properties": {
          "subnet": {
            "id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnetlb/subnets/subnetlb"
          }
        }
      }
    ],
    "backendAddressPools": [
      {
        "name": "be-lb",
        "properties": {}
      }
    ],
    "loadBalancingRules": [
      {
        "name": "rulelb",
        "properties": {
          "frontendIPConfiguration": {
            "id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe-lb"
          },
          "frontendPort": 80,
          "backendPort": 80,
          "enableFloatingIP": true,
          "idleTimeoutInMinutes": 15,
          "protocol": "Tcp",
          "enableTcpReset": false,
          "loadDistribution": "Default",
          "backendAddressPool": {
            "id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/backendAddressPools/be-lb"
          },
          "probe": {
            "id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/probes/probe-lb"
          }
        }
      }
    ],
    "probes": [
      {
        "name": "probe-lb",
        "properties": {
          "protocol": "Http",
          "port": 80,
          "requestPath": "healthcheck.aspx",
          "intervalInSeconds": 15,
          "numberOfProbes": 2
        }
      }
    ],
    "inboundNatRules": [
      {
        "name": "in-nat-rule",
        "properties": {
          "frontendIPConfiguration": {
            "id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations/fe-lb"
          },
          "frontendPort": 3389,
          "backendPort": 3389,
          "enableFloatingIP": true,
          "idleTimeoutInMinutes": 15,
          "protocol": "Tcp",
          "enableTcpReset": false
        }
      }
    ],
    "inboundNatPools": []
  }
}`

const seedNICBody = `{
  "properties": {
    "enableAcceleratedNetworking": true,
    "ipConfigurations": [
      {
        "name": "ipconfig1",
        "properties": {
          "publicIPAddress": {
            "id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/publicIPAddresses/test-ip"
          },
          "subnet": {
            "id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/rg1-vnet/subnets/default"
          },
          "loadBalancerBackendAddressPools": {
                                    "id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/backendAddressPools/be-lb"
          }
        }
      }
    ]
  },
  "location": "eastus"
}`

const seedVMBody = `{
  "location": "eastus",
  "properties": {
    "hardwareProfile": {
      "vmSize": "Standard_D1_v2"
    },
    "storageProfile": {
      "osDisk": {
        "name": "myVMosdisk",
        "image": {
          "uri": "http://{existing-storage-account-name}.blob.core.windows.net/{existing-container-name}/{existing-generalized-os-image-blob-name}.vhd"
        },
        "osType": "Windows",
        "createOption": "FromImage",
        "caching": "ReadWrite",
        "vhd": {
          "uri": "http://{existing-storage-account-name}.blob.core.windows.net/{existing-container-name}/myDisk.vhd"
        }
      }
    },
    "osProfile": {
      "adminUsername": "{your-username}",
      "computerName": "myVM",
      "adminPassword": "{your-password}"
    },
    "networkProfile": {
      "networkInterfaces": [
        {
          "id": "/subscriptions/{subscription-id}/resourceGroups/myResourceGroup/providers/Microsoft.Network/networkInterfaces/{existing-nic-name}",
          "properties": {
            "primary": true
          }
        }
      ]
    }
  }
}`

// ipPool is an IP-based pool body with the given addresses in vnet.
func ipPool(vnet string, addrs ...string) armnetwork.BackendAddressPool {
	p := armnetwork.BackendAddressPool{Properties: &armnetwork.BackendAddressPoolPropertiesFormat{}}
	for i, a := range addrs {
		p.Properties.LoadBalancerBackendAddresses = append(p.Properties.LoadBalancerBackendAddresses, &armnetwork.LoadBalancerBackendAddress{
			Name:       to(fmt.Sprintf("addr%d", i+1)),
			Properties: &armnetwork.LoadBalancerBackendAddressPropertiesFormat{IPAddress: to(a), VirtualNetwork: sub(vnet)},
		})
	}
	return p
}

// TestSDKIPBasedPool: a Standard LB's pool by IP address and VNet, and a
// NIC that later takes one of those addresses.
func TestSDKIPBasedPool(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.group("rg")
	e.vnet("rg", "vnet", "s0")
	s0 := subnetID("rg", "vnet", "s0")
	e.putLB("rg", "lb", internalLB("rg", "lb", s0, "Standard"))
	pc := e.net.NewLoadBalancerBackendAddressPoolsClient()

	p, err := pc.BeginCreateOrUpdate(ctx, "rg", "lb", "ippool", ipPool(vnetID("rg", "vnet"), "10.0.0.10", "10.0.0.11"), nil)
	created := done(t, p, err).BackendAddressPool
	addrs := func(b armnetwork.BackendAddressPool) map[string][2]string {
		out := map[string][2]string{}
		for _, a := range b.Properties.LoadBalancerBackendAddresses {
			ic := ""
			if a.Properties.NetworkInterfaceIPConfiguration != nil {
				ic = *a.Properties.NetworkInterfaceIPConfiguration.ID
			}
			if a.Properties.VirtualNetwork == nil || *a.Properties.VirtualNetwork.ID != vnetID("rg", "vnet") {
				t.Errorf("address %s lost its virtualNetwork", *a.Name)
			}
			out[*a.Properties.IPAddress] = [2]string{*a.Name, ic}
		}
		return out
	}
	want := map[string][2]string{"10.0.0.10": {"addr1", ""}, "10.0.0.11": {"addr2", ""}}
	if diff := cmp.Diff(want, addrs(created)); diff != "" {
		t.Errorf("created pool addresses (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, addrs(e.getPool("rg", "lb", "ippool"))); diff != "" {
		t.Errorf("pool addresses on GET (-want +got):\n%s", diff)
	}

	e.nic("rg", "nic", s0, "10.0.0.10")
	want["10.0.0.10"] = [2]string{"addr1", ipcID("rg", "nic", "ipconfig1")}
	if diff := cmp.Diff(want, addrs(e.getPool("rg", "lb", "ippool"))); diff != "" {
		t.Errorf("pool addresses once a NIC holds 10.0.0.10 (-want +got):\n%s", diff)
	}
	// The LB GET shows the same.
	for _, b := range e.getLB("rg", "lb").Properties.BackendAddressPools {
		if *b.Name == "ippool" {
			if diff := cmp.Diff(want, addrs(*b)); diff != "" {
				t.Errorf("pool in the LB body (-want +got):\n%s", diff)
			}
		}
	}
	// The NIC holds the address but is not a NIC-based member.
	if ics := e.getPool("rg", "lb", "ippool").Properties.BackendIPConfigurations; len(ics) != 0 {
		t.Errorf("IP-based pool lists backendIPConfigurations %v", ipcIDs(ics))
	}
	r := e.do(http.MethodDelete, withAPI(nicID("rg", "nic")), nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("delete NIC: %d %s", r.Status, r.Body)
	}
	want["10.0.0.10"] = [2]string{"addr1", ""}
	if diff := cmp.Diff(want, addrs(e.getPool("rg", "lb", "ippool"))); diff != "" {
		t.Errorf("pool addresses after the NIC is gone (-want +got):\n%s", diff)
	}
}

func TestSDKMigrateToIPBased(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.group("rg")
	e.vnet("rg", "vnet", "s0")
	s0 := subnetID("rg", "vnet", "s0")
	body := internalLB("rg", "lb", s0, "Standard")
	body.Properties.BackendAddressPools = append(body.Properties.BackendAddressPools, &armnetwork.BackendAddressPool{Name: to("pool2")})
	e.putLB("rg", "lb", body)
	pool1, pool2 := lbID("rg", "lb", "backendAddressPools", "pool1"), lbID("rg", "lb", "backendAddressPools", "pool2")
	e.nic("rg", "nic1", s0, "10.0.0.10", pool1, pool2)
	e.nic("rg", "nic2", s0, "10.0.0.11", pool1)
	sameIDs(t, "pool1 members before", []string{ipcID("rg", "nic1", "ipconfig1"), ipcID("rg", "nic2", "ipconfig1")}, ipcIDs(e.getPool("rg", "lb", "pool1").Properties.BackendIPConfigurations))

	res, err := e.net.NewLoadBalancersClient().MigrateToIPBased(ctx, "rg", "lb", &armnetwork.LoadBalancersClientMigrateToIPBasedOptions{
		Parameters: &armnetwork.MigrateLoadBalancerToIPBasedRequest{Pools: []*string{to("pool1")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*string{to("pool1")}, res.MigratedPools.MigratedPools); diff != "" {
		t.Errorf("migratedPools (-want +got):\n%s", diff)
	}

	p1 := e.getPool("rg", "lb", "pool1")
	if ics := p1.Properties.BackendIPConfigurations; len(ics) != 0 {
		t.Errorf("migrated pool still lists NIC members %v", ipcIDs(ics))
	}
	got := map[string]string{}
	for _, a := range p1.Properties.LoadBalancerBackendAddresses {
		if a.Properties.VirtualNetwork == nil || *a.Properties.VirtualNetwork.ID != vnetID("rg", "vnet") {
			t.Errorf("address %v: virtualNetwork %v", *a.Properties.IPAddress, a.Properties.VirtualNetwork)
		}
		ic := ""
		if a.Properties.NetworkInterfaceIPConfiguration != nil {
			ic = *a.Properties.NetworkInterfaceIPConfiguration.ID
		}
		got[*a.Properties.IPAddress] = ic
	}
	want := map[string]string{"10.0.0.10": ipcID("rg", "nic1", "ipconfig1"), "10.0.0.11": ipcID("rg", "nic2", "ipconfig1")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("migrated addresses (-want +got):\n%s", diff)
	}
	// The NICs no longer reference the migrated pool; pool2 is untouched.
	nicPools := func(n string) []string {
		return idsOf(e.getNIC("rg", n).Properties.IPConfigurations[0].Properties.LoadBalancerBackendAddressPools, func(x *armnetwork.BackendAddressPool) *string { return x.ID })
	}
	sameIDs(t, "nic1 pools", []string{pool2}, nicPools("nic1"))
	sameIDs(t, "nic2 pools", nil, nicPools("nic2"))
	sameIDs(t, "pool2 members", []string{ipcID("rg", "nic1", "ipconfig1")}, ipcIDs(e.getPool("rg", "lb", "pool2").Properties.BackendIPConfigurations))
	// The rule still points at the migrated pool.
	sameIDs(t, "pool1 rules", []string{lbID("rg", "lb", "loadBalancingRules", "rule1")}, subIDs(p1.Properties.LoadBalancingRules))
}

func TestSDKInboundNatRulePortMapping(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.group("rg")
	e.vnet("rg", "vnet", "s0")
	s0 := subnetID("rg", "vnet", "s0")
	body := internalLB("rg", "lb", s0, "Standard")
	pool := ipPool(vnetID("rg", "vnet"), "10.0.0.12", "10.0.0.10", "10.0.0.11")
	pool.Name = to("pool1")
	body.Properties.BackendAddressPools = []*armnetwork.BackendAddressPool{&pool}
	nat := func(name string, start, end, backend int32) *armnetwork.InboundNatRule {
		return &armnetwork.InboundNatRule{Name: to(name), Properties: &armnetwork.InboundNatRulePropertiesFormat{
			FrontendIPConfiguration: sub(lbID("rg", "lb", "frontendIPConfigurations", "fe1")),
			BackendAddressPool:      sub(lbID("rg", "lb", "backendAddressPools", "pool1")),
			Protocol:                to(armnetwork.TransportProtocolTCP),
			FrontendPortRangeStart:  to(start), FrontendPortRangeEnd: to(end), BackendPort: to(backend),
		}}
	}
	body.Properties.InboundNatRules = []*armnetwork.InboundNatRule{nat("ssh", 5000, 5009, 22), nat("rdp", 6000, 6001, 3389)}
	p, err := e.net.NewLoadBalancersClient().BeginCreateOrUpdate(ctx, "rg", "lb", body, nil)
	done(t, p, err)

	type mapping struct {
		Rule       string
		Front, Bak int32
	}
	query := func(ip string) []mapping {
		t.Helper()
		p, err := e.net.NewLoadBalancersClient().BeginListInboundNatRulePortMappings(ctx, "rg", "lb", "pool1", armnetwork.QueryInboundNatRulePortMappingRequest{IPAddress: to(ip)}, nil)
		res := done(t, p, err)
		var out []mapping
		for _, m := range res.InboundNatRulePortMappings {
			if *m.Protocol != armnetwork.TransportProtocolTCP {
				t.Errorf("%s: protocol %s", ip, *m.Protocol)
			}
			out = append(out, mapping{*m.InboundNatRuleName, *m.FrontendPort, *m.BackendPort})
		}
		return out
	}
	// Members get ports in address order; the rdp range has room for two.
	want := map[string][]mapping{
		"10.0.0.10": {{"ssh", 5000, 22}, {"rdp", 6000, 3389}},
		"10.0.0.11": {{"ssh", 5001, 22}, {"rdp", 6001, 3389}},
		"10.0.0.12": {{"ssh", 5002, 22}},
	}
	for ip, w := range want {
		if diff := cmp.Diff(w, query(ip)); diff != "" {
			t.Errorf("mappings of %s (-want +got):\n%s", ip, diff)
		}
	}
	// The pool body shows the same mappings per address.
	got := map[string][]mapping{}
	pl := e.getPool("rg", "lb", "pool1")
	for _, a := range pl.Properties.LoadBalancerBackendAddresses {
		for _, m := range a.Properties.InboundNatRulesPortMapping {
			got[*a.Properties.IPAddress] = append(got[*a.Properties.IPAddress], mapping{*m.InboundNatRuleName, *m.FrontendPort, *m.BackendPort})
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inboundNatRulesPortMapping in the pool (-want +got):\n%s", diff)
	}
	sameIDs(t, "pool inboundNatRules", []string{lbID("rg", "lb", "inboundNatRules", "ssh"), lbID("rg", "lb", "inboundNatRules", "rdp")}, subIDs(pl.Properties.InboundNatRules))

	_, err = e.net.NewLoadBalancersClient().BeginListInboundNatRulePortMappings(ctx, "rg", "lb", "pool1", armnetwork.QueryInboundNatRulePortMappingRequest{IPAddress: to("10.0.0.99")}, nil)
	wantStatus(t, err, http.StatusBadRequest, "BackendAddressNotInPool")
}

// TestSDKBackReferences checks every read-only back-reference after the
// referencing resource is created, updated and deleted.
func TestSDKBackReferences(t *testing.T) {
	t.Parallel()

	t.Run("pool backendIPConfigurations", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.group("rg")
		e.vnet("rg", "vnet", "s0")
		s0 := subnetID("rg", "vnet", "s0")
		body := internalLB("rg", "lb", s0, "Basic")
		body.Properties.BackendAddressPools = append(body.Properties.BackendAddressPools, &armnetwork.BackendAddressPool{Name: to("pool2")})
		e.putLB("rg", "lb", body)
		p1, p2 := lbID("rg", "lb", "backendAddressPools", "pool1"), lbID("rg", "lb", "backendAddressPools", "pool2")
		ic1, ic2 := ipcID("rg", "nic1", "ipconfig1"), ipcID("rg", "nic2", "ipconfig1")
		check := func(step string, want1, want2 []string) {
			t.Helper()
			sameIDs(t, step+": pool1", want1, ipcIDs(e.getPool("rg", "lb", "pool1").Properties.BackendIPConfigurations))
			sameIDs(t, step+": pool2", want2, ipcIDs(e.getPool("rg", "lb", "pool2").Properties.BackendIPConfigurations))
			// The LB body agrees with the child GETs.
			for _, b := range e.getLB("rg", "lb").Properties.BackendAddressPools {
				want := want1
				if *b.Name == "pool2" {
					want = want2
				}
				sameIDs(t, step+": LB body "+*b.Name, want, ipcIDs(b.Properties.BackendIPConfigurations))
			}
		}
		e.nic("rg", "nic1", s0, "", p1)
		check("create nic1", []string{ic1}, nil)
		e.nic("rg", "nic2", s0, "", p1, p2)
		check("create nic2", []string{ic1, ic2}, []string{ic2})
		e.nic("rg", "nic1", s0, "", p2)
		check("move nic1", []string{ic2}, []string{ic1, ic2})
		e.do(http.MethodDelete, withAPI(nicID("rg", "nic2")), nil)
		check("delete nic2", nil, []string{ic1})
		e.nic("rg", "nic1", s0, "")
		check("detach nic1", nil, nil)
	})

	t.Run("subnet ipConfigurations", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.group("rg")
		e.vnet("rg", "vnet", "s0", "s1")
		s0, s1 := subnetID("rg", "vnet", "s0"), subnetID("rg", "vnet", "s1")
		ic, fe := ipcID("rg", "nic", "ipconfig1"), lbID("rg", "lb", "frontendIPConfigurations", "fe1")
		check := func(step string, want0, want1 []string) {
			t.Helper()
			sameIDs(t, step+": s0", want0, ipConfigIDs(e.getSubnet("rg", "vnet", "s0").Properties.IPConfigurations))
			sameIDs(t, step+": s1", want1, ipConfigIDs(e.getSubnet("rg", "vnet", "s1").Properties.IPConfigurations))
		}
		e.nic("rg", "nic", s0, "")
		check("create NIC", []string{ic}, nil)
		e.putLB("rg", "lb", internalLB("rg", "lb", s0, "Basic"))
		check("create LB", []string{ic, fe}, nil)
		e.nic("rg", "nic", s1, "")
		check("move NIC", []string{fe}, []string{ic})
		e.putLB("rg", "lb", internalLB("rg", "lb", s1, "Basic"))
		check("move LB frontend", nil, []string{ic, fe})
		// The VNet body shows the same lists.
		vn, err := e.net.NewVirtualNetworksClient().Get(t.Context(), "rg", "vnet", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, sn := range vn.Properties.Subnets {
			want := []string{ic, fe}
			if *sn.Name == "s0" {
				want = nil
			}
			sameIDs(t, "VNet body "+*sn.Name, want, ipConfigIDs(sn.Properties.IPConfigurations))
		}
		e.do(http.MethodDelete, withAPI(lbID("rg", "lb")), nil)
		check("delete LB", nil, []string{ic})
		e.do(http.MethodDelete, withAPI(nicID("rg", "nic")), nil)
		check("delete NIC", nil, nil)
		for _, s := range []string{s0, s1} {
			if r := e.do(http.MethodDelete, withAPI(s), nil); r.Status != http.StatusAccepted {
				t.Errorf("delete emptied subnet %s: %d %s", s, r.Status, r.Body)
			}
		}
	})

	t.Run("publicIP ipConfiguration", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.group("rg")
		e.vnet("rg", "vnet", "s0")
		s0 := subnetID("rg", "vnet", "s0")
		e.pip("rg", "a", "Basic")
		e.pip("rg", "b", "Basic")
		check := func(step, wantA, wantB string) {
			t.Helper()
			for name, want := range map[string]string{"a": wantA, "b": wantB} {
				got := ""
				if ref := e.getPIP("rg", name).Properties.IPConfiguration; ref != nil {
					got = *ref.ID
				}
				if got != want {
					t.Errorf("%s: pip %s ipConfiguration %q, want %q", step, name, got, want)
				}
			}
		}
		nicWith := func(pip string) armnetwork.Interface {
			n := nicBody(s0, "")
			if pip != "" {
				n.Properties.IPConfigurations[0].Properties.PublicIPAddress = &armnetwork.PublicIPAddress{ID: to(pipID("rg", pip))}
			}
			return n
		}
		ic := ipcID("rg", "nic", "ipconfig1")
		e.create(nicID("rg", "nic"), nicWith("a"), nil)
		check("create NIC", ic, "")
		e.create(nicID("rg", "nic"), nicWith("b"), nil)
		check("NIC switches", "", ic)
		e.do(http.MethodDelete, withAPI(nicID("rg", "nic")), nil)
		check("delete NIC", "", "")

		lbWith := func(pip string) armnetwork.LoadBalancer {
			return armnetwork.LoadBalancer{Location: to(location), Properties: &armnetwork.LoadBalancerPropertiesFormat{
				FrontendIPConfigurations: []*armnetwork.FrontendIPConfiguration{{Name: to("fe1"), Properties: &armnetwork.FrontendIPConfigurationPropertiesFormat{
					PublicIPAddress: &armnetwork.PublicIPAddress{ID: to(pipID("rg", pip))},
				}}},
			}}
		}
		fe := lbID("rg", "lb", "frontendIPConfigurations", "fe1")
		e.putLB("rg", "lb", lbWith("a"))
		check("create LB", fe, "")
		e.putLB("rg", "lb", lbWith("b"))
		check("LB switches", "", fe)
		e.do(http.MethodDelete, withAPI(lbID("rg", "lb")), nil)
		check("delete LB", "", "")
	})

	t.Run("NIC virtualMachine", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.group("rg")
		e.vnet("rg", "vnet", "s0")
		s0 := subnetID("rg", "vnet", "s0")
		e.nic("rg", "nic1", s0, "")
		e.nic("rg", "nic2", s0, "")
		check := func(step, want1, want2 string) {
			t.Helper()
			for name, want := range map[string]string{"nic1": want1, "nic2": want2} {
				got := ""
				if ref := e.getNIC("rg", name).Properties.VirtualMachine; ref != nil {
					got = *ref.ID
				}
				if got != want {
					t.Errorf("%s: %s virtualMachine %q, want %q", step, name, got, want)
				}
			}
		}
		vm := vmID("rg", "vm")
		e.create(vm, vmBody(nicID("rg", "nic1")), nil)
		check("create VM", vm, "")
		e.create(vm, vmBody(nicID("rg", "nic2")), nil)
		check("VM switches NIC", "", vm)
		e.do(http.MethodDelete, vm+"?api-version="+computeAPI, nil)
		check("delete VM", "", "")
	})

	t.Run("rule lists", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.group("rg")
		e.vnet("rg", "vnet", "s0")
		s0 := subnetID("rg", "vnet", "s0")
		ref := func(coll, n string) *armnetwork.SubResource { return sub(lbID("rg", "lb", coll, n)) }
		rule := func(name, fe, pool, probe string, port int32) *armnetwork.LoadBalancingRule {
			return &armnetwork.LoadBalancingRule{Name: to(name), Properties: &armnetwork.LoadBalancingRulePropertiesFormat{
				FrontendIPConfiguration: ref("frontendIPConfigurations", fe), BackendAddressPool: ref("backendAddressPools", pool),
				Probe: ref("probes", probe), Protocol: to(armnetwork.TransportProtocolTCP), FrontendPort: to(port), BackendPort: to(port),
			}}
		}
		body := internalLB("rg", "lb", s0, "Basic")
		pp := body.Properties
		pp.FrontendIPConfigurations = append(pp.FrontendIPConfigurations, &armnetwork.FrontendIPConfiguration{Name: to("fe2"), Properties: &armnetwork.FrontendIPConfigurationPropertiesFormat{Subnet: &armnetwork.Subnet{ID: to(s0)}}})
		pp.BackendAddressPools = append(pp.BackendAddressPools, &armnetwork.BackendAddressPool{Name: to("pool2")})
		pp.Probes = append(pp.Probes, &armnetwork.Probe{Name: to("probe2"), Properties: &armnetwork.ProbePropertiesFormat{Protocol: to(armnetwork.ProbeProtocolTCP), Port: to[int32](81)}})
		r1, r2 := lbID("rg", "lb", "loadBalancingRules", "rule1"), lbID("rg", "lb", "loadBalancingRules", "rule2")
		check := func(step string, want map[string][]string) {
			t.Helper()
			lb := e.getLB("rg", "lb")
			got := map[string][]string{}
			for _, f := range lb.Properties.FrontendIPConfigurations {
				got[*f.Name] = subIDs(f.Properties.LoadBalancingRules)
			}
			for _, b := range lb.Properties.BackendAddressPools {
				got[*b.Name] = subIDs(b.Properties.LoadBalancingRules)
			}
			for _, p := range lb.Properties.Probes {
				got[*p.Name] = subIDs(p.Properties.LoadBalancingRules)
			}
			for k := range got {
				slices.Sort(got[k])
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: rule back-references (-want +got):\n%s", step, diff)
			}
			// The child GETs agree.
			fe, err := e.net.NewLoadBalancerFrontendIPConfigurationsClient().Get(t.Context(), "rg", "lb", "fe1", nil)
			if err != nil {
				t.Fatal(err)
			}
			sameIDs(t, step+": fe1 child GET", want["fe1"], subIDs(fe.Properties.LoadBalancingRules))
			pr, err := e.net.NewLoadBalancerProbesClient().Get(t.Context(), "rg", "lb", "probe2", nil)
			if err != nil {
				t.Fatal(err)
			}
			sameIDs(t, step+": probe2 child GET", want["probe2"], subIDs(pr.Properties.LoadBalancingRules))
		}
		e.putLB("rg", "lb", body)
		check("create", map[string][]string{"fe1": {r1}, "fe2": nil, "pool1": {r1}, "pool2": nil, "probe1": {r1}, "probe2": nil})
		pp.LoadBalancingRules = []*armnetwork.LoadBalancingRule{rule("rule1", "fe1", "pool2", "probe2", 80), rule("rule2", "fe2", "pool2", "probe2", 81)}
		e.putLB("rg", "lb", body)
		check("update", map[string][]string{"fe1": {r1}, "fe2": {r2}, "pool1": nil, "pool2": {r1, r2}, "probe1": nil, "probe2": {r1, r2}})
		pp.LoadBalancingRules = nil
		e.putLB("rg", "lb", body)
		check("delete rules", map[string][]string{"fe1": nil, "fe2": nil, "pool1": nil, "pool2": nil, "probe1": nil, "probe2": nil})
	})
}

// TestSDKReadModifyWrite GETs every type and PUTs the answer back through
// the SDK, as clients that read-modify-write do: the read-only properties
// they echo (back-references, NAT targets, addresses, port mappings) are
// accepted and nothing changes but the etag.
func TestSDKReadModifyWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.group("rg")
	e.vnet("rg", "vnet", "s0")
	s0 := subnetID("rg", "vnet", "s0")
	pip := e.pip("rg", "pip", "Standard")
	e.putLB("rg", "lb", fullLB("rg", "lb", *pip.ID))
	ilb := internalLB("rg", "ilb", s0, "Standard")
	ipp := ipPool(vnetID("rg", "vnet"), "10.0.0.20", "10.0.0.21")
	ipp.Name = to("ippool")
	ilb.Properties.BackendAddressPools = append(ilb.Properties.BackendAddressPools, &ipp)
	ilb.Properties.InboundNatRules = []*armnetwork.InboundNatRule{{Name: to("v2"), Properties: &armnetwork.InboundNatRulePropertiesFormat{
		FrontendIPConfiguration: sub(lbID("rg", "ilb", "frontendIPConfigurations", "fe1")), BackendAddressPool: sub(lbID("rg", "ilb", "backendAddressPools", "ippool")),
		Protocol: to(armnetwork.TransportProtocolTCP), FrontendPortRangeStart: to[int32](7000), FrontendPortRangeEnd: to[int32](7100), BackendPort: to[int32](22),
	}}}
	e.putLB("rg", "ilb", ilb)
	nic := nicBody(s0, "10.0.0.20", lbID("rg", "lb", "backendAddressPools", "pool1"), lbID("rg", "ilb", "backendAddressPools", "pool1"))
	nic.Properties.IPConfigurations[0].Properties.LoadBalancerInboundNatRules = []*armnetwork.InboundNatRule{{ID: to(lbID("rg", "lb", "inboundNatRules", "nat1"))}}
	e.create(nicID("rg", "nic"), nic, nil)
	e.create(vmID("rg", "vm"), vmBody(nicID("rg", "nic")), nil)

	lbc := e.net.NewLoadBalancersClient()
	cases := []struct {
		name string
		get  func() (any, error)
		put  func(v any) (any, error)
	}{
		{"public LB with NAT pools and a NAT rule in use",
			func() (any, error) { r, err := lbc.Get(ctx, "rg", "lb", nil); return r.LoadBalancer, err },
			func(v any) (any, error) {
				p, err := lbc.BeginCreateOrUpdate(ctx, "rg", "lb", v.(armnetwork.LoadBalancer), nil)
				if err != nil {
					return nil, err
				}
				r, err := p.PollUntilDone(ctx, pollOpts)
				return r.LoadBalancer, err
			}},
		{"internal LB with NIC members, an IP-based pool and a NAT rule v2",
			func() (any, error) { r, err := lbc.Get(ctx, "rg", "ilb", nil); return r.LoadBalancer, err },
			func(v any) (any, error) {
				p, err := lbc.BeginCreateOrUpdate(ctx, "rg", "ilb", v.(armnetwork.LoadBalancer), nil)
				if err != nil {
					return nil, err
				}
				r, err := p.PollUntilDone(ctx, pollOpts)
				return r.LoadBalancer, err
			}},
		{"NIC attached to a VM",
			func() (any, error) {
				r, err := e.net.NewInterfacesClient().Get(ctx, "rg", "nic", nil)
				return r.Interface, err
			},
			func(v any) (any, error) {
				p, err := e.net.NewInterfacesClient().BeginCreateOrUpdate(ctx, "rg", "nic", v.(armnetwork.Interface), nil)
				if err != nil {
					return nil, err
				}
				r, err := p.PollUntilDone(ctx, pollOpts)
				return r.Interface, err
			}},
		{"VNet with a subnet in use",
			func() (any, error) {
				r, err := e.net.NewVirtualNetworksClient().Get(ctx, "rg", "vnet", nil)
				return r.VirtualNetwork, err
			},
			func(v any) (any, error) {
				p, err := e.net.NewVirtualNetworksClient().BeginCreateOrUpdate(ctx, "rg", "vnet", v.(armnetwork.VirtualNetwork), nil)
				if err != nil {
					return nil, err
				}
				r, err := p.PollUntilDone(ctx, pollOpts)
				return r.VirtualNetwork, err
			}},
		{"public IP in use",
			func() (any, error) {
				r, err := e.net.NewPublicIPAddressesClient().Get(ctx, "rg", "pip", nil)
				return r.PublicIPAddress, err
			},
			func(v any) (any, error) {
				p, err := e.net.NewPublicIPAddressesClient().BeginCreateOrUpdate(ctx, "rg", "pip", v.(armnetwork.PublicIPAddress), nil)
				if err != nil {
					return nil, err
				}
				r, err := p.PollUntilDone(ctx, pollOpts)
				return r.PublicIPAddress, err
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before, err := tc.get()
			if err != nil {
				t.Fatal(err)
			}
			put, err := tc.put(before)
			if err != nil {
				t.Fatalf("PUT of the GET answer: %v", err)
			}
			after, err := tc.get()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(dropEtags(jsonOf(t, before)), dropEtags(jsonOf(t, after))); diff != "" {
				t.Errorf("PUT of the GET answer changed the resource (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(jsonOf(t, after), jsonOf(t, put)); diff != "" {
				t.Errorf("PUT answer differs from a later GET (-get +put):\n%s", diff)
			}
		})
	}
}

// TestEchoedNICMembersIgnored: Azure renders a NIC-based pool's members
// as loadBalancerBackendAddresses that carry only the (read-only)
// networkInterfaceIPConfiguration, and clients echo them back in the next
// PUT; such entries are read-only data, not IP-based members
// (azure-lb-api.md §1.9).
func TestEchoedNICMembersIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.group("rg")
	e.vnet("rg", "vnet", "s0")
	s0 := subnetID("rg", "vnet", "s0")
	e.putLB("rg", "lb", internalLB("rg", "lb", s0, "Standard"))
	e.nic("rg", "nic", s0, "", lbID("rg", "lb", "backendAddressPools", "pool1"))
	lb := e.getLB("rg", "lb")
	lb.Properties.BackendAddressPools[0].Properties.LoadBalancerBackendAddresses = []*armnetwork.LoadBalancerBackendAddress{{
		Name:       to("rg_nic_ipconfig1"),
		Properties: &armnetwork.LoadBalancerBackendAddressPropertiesFormat{NetworkInterfaceIPConfiguration: sub(ipcID("rg", "nic", "ipconfig1"))},
	}}
	r := e.do(http.MethodPut, withAPI(lbID("rg", "lb")), lb)
	if r.Status != http.StatusOK {
		t.Fatalf("PUT with echoed NIC members: %d %s", r.Status, r.Body)
	}
	pool := e.getPool("rg", "lb", "pool1")
	sameIDs(t, "pool1 members", []string{ipcID("rg", "nic", "ipconfig1")}, ipcIDs(pool.Properties.BackendIPConfigurations))
	if n := len(pool.Properties.LoadBalancerBackendAddresses); n != 0 {
		t.Errorf("pool1 became IP-based: %d addresses", n)
	}
	// The same echo through the pool's own PUT.
	body := pool
	body.Properties.LoadBalancerBackendAddresses = lb.Properties.BackendAddressPools[0].Properties.LoadBalancerBackendAddresses
	if r := e.do(http.MethodPut, withAPI(lbID("rg", "lb", "backendAddressPools", "pool1")), body); r.Status != http.StatusOK {
		t.Fatalf("pool PUT with echoed NIC members: %d %s", r.Status, r.Body)
	}
}
