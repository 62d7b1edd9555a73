package server_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
	"github.com/google/go-cmp/cmp"

	"github.com/paddock-lb/paddock/internal/server"
)

// collect drains a pager and returns the sorted names and the page count.
func collect[R, T any](t *testing.T, p *runtime.Pager[R], items func(R) []*T, name func(*T) *string) ([]string, int) {
	t.Helper()
	var names []string
	pages := 0
	for p.More() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range items(page) {
			names = append(names, *name(it))
		}
	}
	slices.Sort(names)
	return names, pages
}

// TestSDKPaging lists five resources of every type in one group (and two
// more in another) with a page size of 2: the SDK pagers follow nextLink
// across pages per group and per subscription.
func TestSDKPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *server.Config) { c.PageSize = 2 })
	e.group("rg1")
	e.group("rg2")
	e.vnet("rg1", "net", "s0")
	s0 := subnetID("rg1", "net", "s0")
	var want1, wantAll []string
	for rg, n := range map[string]int{"rg1": 5, "rg2": 2} {
		for i := range n {
			name := fmt.Sprintf("%s-%d", rg, i)
			if rg == "rg1" {
				want1 = append(want1, name)
			}
			wantAll = append(wantAll, name)
			e.create(lbID(rg, name), map[string]any{"location": location, "properties": map[string]any{}}, nil)
			e.create(pipID(rg, name), pipBody("Basic"), nil)
			e.create(vnetID(rg, name), vnetBody("10.9.0.0/16"), nil)
			e.create(nicID(rg, name), nicBody(s0, ""), nil)
			e.create(vmID(rg, name), map[string]any{"location": location, "properties": map[string]any{}}, nil)
		}
	}
	slices.Sort(want1)
	slices.Sort(wantAll)
	// rg1 also holds the VNet "net" the NICs use.
	wantVNets1 := append([]string{"net"}, want1...)
	wantVNetsAll := append([]string{"net"}, wantAll...)
	slices.Sort(wantVNets1)
	slices.Sort(wantVNetsAll)

	n := e.net
	cases := []struct {
		name      string
		group     func() ([]string, int)
		all       func() ([]string, int)
		wantGroup []string
		wantAll   []string
	}{
		{"loadBalancers",
			func() ([]string, int) {
				return collect(t, n.NewLoadBalancersClient().NewListPager("rg1", nil), func(r armnetwork.LoadBalancersClientListResponse) []*armnetwork.LoadBalancer { return r.Value }, func(x *armnetwork.LoadBalancer) *string { return x.Name })
			},
			func() ([]string, int) {
				return collect(t, n.NewLoadBalancersClient().NewListAllPager(nil), func(r armnetwork.LoadBalancersClientListAllResponse) []*armnetwork.LoadBalancer { return r.Value }, func(x *armnetwork.LoadBalancer) *string { return x.Name })
			}, want1, wantAll},
		{"publicIPAddresses",
			func() ([]string, int) {
				return collect(t, n.NewPublicIPAddressesClient().NewListPager("rg1", nil), func(r armnetwork.PublicIPAddressesClientListResponse) []*armnetwork.PublicIPAddress { return r.Value }, func(x *armnetwork.PublicIPAddress) *string { return x.Name })
			},
			func() ([]string, int) {
				return collect(t, n.NewPublicIPAddressesClient().NewListAllPager(nil), func(r armnetwork.PublicIPAddressesClientListAllResponse) []*armnetwork.PublicIPAddress {
					return r.Value
				}, func(x *armnetwork.PublicIPAddress) *string { return x.Name })
			}, want1, wantAll},
		{"virtualNetworks",
			func() ([]string, int) {
				return collect(t, n.NewVirtualNetworksClient().NewListPager("rg1", nil), func(r armnetwork.VirtualNetworksClientListResponse) []*armnetwork.VirtualNetwork { return r.Value }, func(x *armnetwork.VirtualNetwork) *string { return x.Name })
			},
			func() ([]string, int) {
				return collect(t, n.NewVirtualNetworksClient().NewListAllPager(nil), func(r armnetwork.VirtualNetworksClientListAllResponse) []*armnetwork.VirtualNetwork { return r.Value }, func(x *armnetwork.VirtualNetwork) *string { return x.Name })
			}, wantVNets1, wantVNetsAll},
		{"networkInterfaces",
			func() ([]string, int) {
				return collect(t, n.NewInterfacesClient().NewListPager("rg1", nil), func(r armnetwork.InterfacesClientListResponse) []*armnetwork.Interface { return r.Value }, func(x *armnetwork.Interface) *string { return x.Name })
			},
			func() ([]string, int) {
				return collect(t, n.NewInterfacesClient().NewListAllPager(nil), func(r armnetwork.InterfacesClientListAllResponse) []*armnetwork.Interface { return r.Value }, func(x *armnetwork.Interface) *string { return x.Name })
			}, want1, wantAll},
		{"virtualMachines",
			func() ([]string, int) {
				return collect(t, e.comp.NewVirtualMachinesClient().NewListPager("rg1", nil), func(r armcompute.VirtualMachinesClientListResponse) []*armcompute.VirtualMachine { return r.Value }, func(x *armcompute.VirtualMachine) *string { return x.Name })
			},
			func() ([]string, int) {
				return collect(t, e.comp.NewVirtualMachinesClient().NewListAllPager(nil), func(r armcompute.VirtualMachinesClientListAllResponse) []*armcompute.VirtualMachine { return r.Value }, func(x *armcompute.VirtualMachine) *string { return x.Name })
			}, want1, wantAll},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, pages := tc.group()
			if diff := cmp.Diff(tc.wantGroup, got); diff != "" {
				t.Errorf("list in rg1 (-want +got):\n%s", diff)
			}
			if want := (len(tc.wantGroup) + 1) / 2; pages != want {
				t.Errorf("list in rg1 took %d pages, want %d", pages, want)
			}
			got, pages = tc.all()
			if diff := cmp.Diff(tc.wantAll, got); diff != "" {
				t.Errorf("list in the subscription (-want +got):\n%s", diff)
			}
			if want := (len(tc.wantAll) + 1) / 2; pages != want {
				t.Errorf("list in the subscription took %d pages, want %d", pages, want)
			}
		})
	}

	t.Run("resources", func(t *testing.T) {
		got, _ := collect(t, e.res.NewClient().NewListByResourceGroupPager("rg1", nil), func(r armresources.ClientListByResourceGroupResponse) []*armresources.GenericResourceExpanded {
			return r.Value
		}, func(x *armresources.GenericResourceExpanded) *string { return x.ID })
		var want []string
		for _, name := range want1 {
			want = append(want, lbID("rg1", name), pipID("rg1", name), vnetID("rg1", name), nicID("rg1", name), vmID("rg1", name))
		}
		want = append(want, vnetID("rg1", "net"))
		slices.Sort(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("resources in rg1 (-want +got):\n%s", diff)
		}
	})
}

func TestSDKResourceGroupDeleteCascades(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.group("keep")
	e.group("gone")
	e.vnet("keep", "vnet", "s0")
	keep := subnetID("keep", "vnet", "s0")
	e.vnet("gone", "vnet", "s0")
	pip := e.pip("gone", "pip", "Standard")
	e.putLB("gone", "lb", fullLB("gone", "lb", *pip.ID))
	e.putLB("gone", "ilb", internalLB("gone", "ilb", keep, "Basic")) // frontend 10.0.0.4 in the kept subnet
	e.nic("gone", "nic", keep, "10.0.0.30", lbID("gone", "lb", "backendAddressPools", "pool1"))
	e.nic("gone", "nic2", subnetID("gone", "vnet", "s0"), "")
	e.create(vmID("gone", "vm"), vmBody(nicID("gone", "nic"), nicID("gone", "nic2")), nil)
	if n := len(e.getSubnet("keep", "vnet", "s0").Properties.IPConfigurations); n != 2 {
		t.Fatalf("kept subnet has %d ipConfigurations before the delete, want 2", n)
	}

	p, err := e.res.NewResourceGroupsClient().BeginDelete(ctx, "gone", nil)
	done(t, p, err)

	_, err = e.res.NewResourceGroupsClient().Get(ctx, "gone", nil)
	wantStatus(t, err, http.StatusNotFound, "ResourceGroupNotFound")
	_, err = e.net.NewLoadBalancersClient().Get(ctx, "gone", "lb", nil)
	wantStatus(t, err, http.StatusNotFound, "ResourceGroupNotFound")
	if ipcs := e.getSubnet("keep", "vnet", "s0").Properties.IPConfigurations; len(ipcs) != 0 {
		t.Errorf("kept subnet still lists %d ipConfigurations", len(ipcs))
	}
	// Nothing of the old group survives in a new group of the same name,
	// and the addresses it held in the kept subnet are free.
	e.group("gone")
	got, _ := collect(t, e.res.NewClient().NewListByResourceGroupPager("gone", nil), func(r armresources.ClientListByResourceGroupResponse) []*armresources.GenericResourceExpanded {
		return r.Value
	}, func(x *armresources.GenericResourceExpanded) *string { return x.ID })
	if len(got) != 0 {
		t.Errorf("recreated group holds %v", got)
	}
	n := e.nic("keep", "nic", keep, "")
	if a := *n.Properties.IPConfigurations[0].Properties.PrivateIPAddress; a != "10.0.0.4" {
		t.Errorf("first free address in the kept subnet = %s, want 10.0.0.4", a)
	}
	e.nic("keep", "nic2", keep, "10.0.0.30")
	e.pip("gone", "pip", "Standard")

	// A delete the cascade cannot finish (a NIC of the group is attached
	// to a VM elsewhere) fails and leaves the group usable.
	e.group("held")
	e.nic("held", "nic", keep, "")
	e.create(vmID("keep", "vm"), vmBody(nicID("held", "nic")), nil)
	_, err = e.res.NewResourceGroupsClient().BeginDelete(ctx, "held", nil)
	wantStatus(t, err, http.StatusBadRequest, "NicInUse")
	g, err := e.res.NewResourceGroupsClient().Get(ctx, "held", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := *g.Properties.ProvisioningState; s != "Succeeded" {
		t.Errorf("group after a failed delete: provisioningState %s", s)
	}
	e.pip("held", "pip", "Basic")
}

// TestSDKConditionalRequests checks etags change on every write and that
// If-Match / If-None-Match are honoured (412 PreconditionFailed, nothing
// changed).
func TestSDKConditionalRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	e.group("rg")
	v := e.vnet("rg", "vnet", "s0")
	s0 := subnetID("rg", "vnet", "s0")
	lbc := e.net.NewLoadBalancersClient()
	body := internalLB("rg", "lb", s0, "Standard")
	lb1 := e.putLB("rg", "lb", body)
	withHeader := func(k, v string) context.Context {
		return policy.WithHTTPHeader(ctx, http.Header{k: []string{v}})
	}

	// Every write changes the etag.
	seen := map[string]bool{*lb1.Etag: true}
	fresh := func(what, etag string) {
		t.Helper()
		if seen[etag] {
			t.Errorf("%s: etag %s was seen before", what, etag)
		}
		seen[etag] = true
	}
	lb2 := e.putLB("rg", "lb", body)
	fresh("LB PUT", *lb2.Etag)
	var pool armnetwork.BackendAddressPool
	e.create(lbID("rg", "lb", "backendAddressPools", "pool2"), map[string]any{"properties": map[string]any{}}, &pool)
	fresh("pool PUT", *pool.Etag)
	lb3 := e.getLB("rg", "lb")
	if *lb3.Etag != *pool.Etag {
		t.Errorf("pool etag %s, LB etag %s", *pool.Etag, *lb3.Etag)
	}
	tagged, err := lbc.UpdateTags(ctx, "rg", "lb", armnetwork.TagsObject{Tags: map[string]*string{"x": to("y")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fresh("LB PATCH", *tagged.Etag)
	r := e.do(http.MethodDelete, withAPI(lbID("rg", "lb", "backendAddressPools", "pool2")), nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("pool DELETE: %d %s", r.Status, r.Body)
	}
	cur := e.getLB("rg", "lb")
	fresh("pool DELETE", *cur.Etag)
	var s1 armnetwork.Subnet
	e.create(subnetID("rg", "vnet", "s1"), map[string]any{"properties": map[string]any{"addressPrefix": "10.0.1.0/24"}}, &s1)
	fresh("VNet initial", *v.Etag)
	fresh("subnet PUT", *s1.Etag)
	pip1 := e.pip("rg", "pip", "Basic")
	fresh("PIP create", *pip1.Etag)
	fresh("PIP update", *e.pip("rg", "pip", "Basic").Etag)
	nic1 := e.nic("rg", "nic", s0, "")
	fresh("NIC create", *nic1.Etag)
	fresh("NIC update", *e.nic("rg", "nic", s0, "").Etag)

	// Preconditions through the SDK: a stale If-Match fails, the current
	// one passes; If-None-Match: * fails on an existing resource only.
	_, err = lbc.BeginCreateOrUpdate(withHeader("If-Match", *lb1.Etag), "rg", "lb", body, nil)
	wantStatus(t, err, http.StatusPreconditionFailed, "PreconditionFailed")
	_, err = lbc.BeginCreateOrUpdate(withHeader("If-None-Match", "*"), "rg", "lb", body, nil)
	wantStatus(t, err, http.StatusPreconditionFailed, "PreconditionFailed")
	_, err = lbc.BeginDelete(withHeader("If-Match", *lb1.Etag), "rg", "lb", nil)
	wantStatus(t, err, http.StatusPreconditionFailed, "PreconditionFailed")
	_, err = lbc.UpdateTags(withHeader("If-Match", *lb1.Etag), "rg", "lb", armnetwork.TagsObject{}, nil)
	wantStatus(t, err, http.StatusPreconditionFailed, "PreconditionFailed")
	_, err = e.net.NewLoadBalancerBackendAddressPoolsClient().BeginCreateOrUpdate(withHeader("If-None-Match", "*"), "rg", "lb", "pool1", armnetwork.BackendAddressPool{Properties: &armnetwork.BackendAddressPoolPropertiesFormat{}}, nil)
	wantStatus(t, err, http.StatusPreconditionFailed, "PreconditionFailed")
	if diff := cmp.Diff(cur, e.getLB("rg", "lb")); diff != "" {
		t.Errorf("a failed precondition changed the LB (-before +after):\n%s", diff)
	}
	p, err := lbc.BeginCreateOrUpdate(withHeader("If-Match", *cur.Etag), "rg", "lb", body, nil)
	done(t, p, err)
	p, err = lbc.BeginCreateOrUpdate(withHeader("If-None-Match", "*"), "rg", "lb-new", internalLB("rg", "lb-new", s0, "Standard"), nil)
	done(t, p, err)

	// The same with raw requests, on every top-level type.
	for _, path := range []string{lbID("rg", "lb"), vnetID("rg", "vnet"), subnetID("rg", "vnet", "s1"), nicID("rg", "nic"), pipID("rg", "pip"), lbID("rg", "lb", "backendAddressPools", "pool1")} {
		before := e.do(http.MethodGet, withAPI(path), nil)
		if before.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, before.Status)
		}
		for _, h := range [][2]string{{"If-Match", `W/"00000000-0000-0000-0000-000000000000"`}, {"If-None-Match", "*"}} {
			r := e.do(http.MethodPut, withAPI(path), before.Body, h[0], h[1])
			if r.Status != http.StatusPreconditionFailed || r.err(t).Code != "PreconditionFailed" {
				t.Errorf("PUT %s with %s: %d %s", path, h[0], r.Status, r.Body)
			}
		}
		r := e.do(http.MethodDelete, withAPI(path), nil, "If-Match", `W/"00000000-0000-0000-0000-000000000000"`)
		if r.Status != http.StatusPreconditionFailed {
			t.Errorf("DELETE %s with a stale If-Match: %d %s", path, r.Status, r.Body)
		}
		if after := e.do(http.MethodGet, withAPI(path), nil); string(after.Body) != string(before.Body) {
			t.Errorf("%s changed after failed preconditions:\nbefore %s\nafter  %s", path, before.Body, after.Body)
		}
	}
}
