package rp

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/store/memstore"
)

// dpFixture is a service with a data plane attached (writes wait for
// CompletePending), a group and a VNet.
func dpFixture(t *testing.T) (*Service, *memstore.Store) {
	t.Helper()
	st := memstore.New()
	svc := New(Options{Store: st, DataPlane: true})
	ctx := t.Context()
	if _, err := svc.PutGroup(ctx, &Call{ID: arm.ResourceID{SubscriptionID: "s", ResourceGroup: "rg"}, APIVersion: "2021-04-01", Body: []byte(`{"location":"l"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Put(ctx, &Call{ID: arm.Resource("s", "rg", arm.NamespaceNetwork, "virtualNetworks", "vnet"), APIVersion: arm.LatestNetworkAPIVersion,
		Body: []byte(`{"location":"l","properties":{"addressSpace":{"addressPrefixes":["10.0.0.0/16"]},"subnets":[{"name":"sn","properties":{"addressPrefix":"10.0.0.0/24"}}]}}`)}); err != nil {
		t.Fatal(err)
	}
	return svc, st
}

const dpLB = `{"location":"l","sku":{"name":"Standard"},"properties":{
 "frontendIPConfigurations":[{"name":"fe","properties":{"subnet":{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/sn"}}}],
 "probes":[{"name":"p","properties":{"protocol":"Tcp","port":80,"numberOfProbes":3}}]}}`

func lbState(t *testing.T, svc *Service, id arm.ResourceID) (state string, probe map[string]any) {
	t.Helper()
	res, err := svc.Get(t.Context(), &Call{ID: id, APIVersion: arm.LatestNetworkAPIVersion})
	if err != nil {
		t.Fatal(err)
	}
	var lb struct {
		Properties struct {
			ProvisioningState string `json:"provisioningState"`
			Probes            []struct {
				Properties map[string]any `json:"properties"`
			} `json:"probes"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(res.Body, &lb); err != nil {
		t.Fatal(err)
	}
	return lb.Properties.ProvisioningState, lb.Properties.Probes[0].Properties
}

// TestCompletePending: a write waits Updating/InProgress until the data
// plane reports the revision applied; a failure ends it Failed with the
// reason; a write newer than the applied revision stays pending.
func TestCompletePending(t *testing.T) {
	svc, st := dpFixture(t)
	ctx := t.Context()
	id := arm.Resource("s", "rg", arm.NamespaceNetwork, "loadBalancers", "lb")
	res, err := svc.Put(ctx, &Call{ID: id, APIVersion: arm.LatestNetworkAPIVersion, Body: []byte(dpLB)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Operation.Status != OpInProgress {
		t.Fatalf("operation status %q, want InProgress", res.Operation.Status)
	}
	state, probe := lbState(t, svc, id)
	if state != "Updating" {
		t.Errorf("provisioningState %q, want Updating", state)
	}
	// The probe keeps its numberOfProbes as the threshold: probeThreshold
	// is not defaulted.
	if _, set := probe["probeThreshold"]; set {
		t.Errorf("probeThreshold defaulted: %v", probe)
	}
	applied, _ := st.Rev(ctx)

	// A second write after the applied revision.
	res2, err := svc.Put(ctx, &Call{ID: id, APIVersion: arm.LatestNetworkAPIVersion, Body: []byte(strings.Replace(dpLB, `"numberOfProbes":3`, `"numberOfProbes":4`, 1))})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.CompletePending(ctx, applied, nil); err != nil {
		t.Fatal(err)
	}
	op, err := svc.GetOperation(ctx, "s", res.Operation.ID)
	if err != nil || op.Status != OpSucceeded {
		t.Fatalf("first operation = %+v, %v; want Succeeded", op, err)
	}
	op2, _ := svc.GetOperation(ctx, "s", res2.Operation.ID)
	if op2.Status != OpInProgress {
		t.Errorf("second operation %q, want InProgress", op2.Status)
	}
	if state, _ := lbState(t, svc, id); state != "Updating" {
		t.Errorf("provisioningState %q while a newer write is pending, want Updating", state)
	}

	now, _ := st.Rev(ctx)
	why := "The data plane cannot serve listener x: bind: address already in use."
	if err := svc.CompletePending(ctx, now, map[string]string{id.Key(): why}); err != nil {
		t.Fatal(err)
	}
	op2, _ = svc.GetOperation(ctx, "s", res2.Operation.ID)
	if op2.Status != OpFailed || op2.Error == nil || op2.Error.Message != why {
		t.Errorf("second operation = %+v, want Failed with the reason", op2)
	}
	if state, _ := lbState(t, svc, id); state != "Failed" {
		t.Errorf("provisioningState %q, want Failed", state)
	}
	if kvs, _, _ := st.List(ctx, prefixPend, storeListAll); len(kvs) != 0 {
		t.Errorf("%d pending keys left", len(kvs))
	}
}
