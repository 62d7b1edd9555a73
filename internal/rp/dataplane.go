package rp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/resources/network"
	"github.com/paddock-lb/paddock/internal/store"
)

// Writes that change traffic (load balancers and their children, NICs)
// are acknowledged with provisioningState Updating and an InProgress
// operation when a data plane is attached (Options.DataPlane). A pending
// key pend/{operation id} marks them; the controller calls CompletePending
// once the data plane has applied the state up to a store revision, and
// the operations end Succeeded, or Failed with the data plane's reason.
func pendingKey(opID string) string { return prefixPend + strings.ToLower(opID) }

// tracksDataPlane reports whether writes to id wait for the data plane.
func tracksDataPlane(id arm.ResourceID) bool {
	if !strings.EqualFold(id.Namespace, arm.NamespaceNetwork) || id.Depth() == 0 {
		return false
	}
	switch strings.ToLower(id.Types[0]) {
	case "loadbalancers", "networkinterfaces":
		return true
	}
	return false
}

// DataPlaneSnapshot is the state the data plane is compiled from.
type DataPlaneSnapshot struct {
	// Rev is a store revision the snapshot includes every write up to.
	Rev           int64
	LoadBalancers []*network.LoadBalancer
	// IPConfigs maps lower-cased NIC IP configuration ids to their address.
	IPConfigs map[string]netip.Addr
	// PublicIPs maps lower-cased public IP ids to their address.
	PublicIPs map[string]netip.Addr
	// NATPoolMembers maps a lower-cased inbound NAT pool id to the NIC IP
	// configurations that reference it.
	NATPoolMembers map[string][]string
}

// DataPlaneSnapshot reads every load balancer, rendered, with the
// addresses of the NIC IP configurations and public IPs it uses.
func (s *Service) DataPlaneSnapshot(ctx context.Context) (*DataPlaneSnapshot, error) {
	rev, err := s.st.Rev(ctx)
	if err != nil {
		return nil, err
	}
	snap := &DataPlaneSnapshot{Rev: rev, IPConfigs: map[string]netip.Addr{}, PublicIPs: map[string]netip.Addr{}, NATPoolMembers: map[string][]string{}}
	subs, err := s.Subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	t := newTxn(ctx, s.st)
	for _, sub := range subs {
		kvs, _, err := s.st.List(ctx, typePrefix(sub, arm.NamespaceNetwork, "loadBalancers", ""), store.ListOptions{})
		if err != nil {
			return nil, err
		}
		for _, kv := range kvs {
			var lb network.LoadBalancer
			if err := json.Unmarshal(kv.Value, &lb); err != nil {
				return nil, err
			}
			if err := s.renderLB(t, &lb); err != nil {
				return nil, err
			}
			snap.LoadBalancers = append(snap.LoadBalancers, &lb)
		}
	}
	addIC := func(id string) error {
		k := strings.ToLower(id)
		if _, ok := snap.IPConfigs[k]; ok {
			return nil
		}
		ic, _, err := s.ipConfig(t, id)
		if err != nil || ic == nil {
			return err
		}
		if a, err := netip.ParseAddr(ic.Properties.PrivateIPAddress); err == nil {
			snap.IPConfigs[k] = a
		}
		return nil
	}
	for _, lb := range snap.LoadBalancers {
		for _, b := range lb.Properties.BackendAddressPools {
			for _, ic := range b.Properties.BackendIPConfigurations {
				if err := addIC(ic.ID); err != nil {
					return nil, err
				}
			}
		}
		for _, r := range lb.Properties.InboundNATRules {
			if r.Properties.BackendIPConfiguration != nil {
				if err := addIC(r.Properties.BackendIPConfiguration.ID); err != nil {
					return nil, err
				}
			}
		}
		for _, np := range lb.Properties.InboundNATPools {
			users, err := s.poolMembers(t, np.ID)
			if err != nil {
				return nil, err
			}
			for _, u := range users {
				if err := addIC(u); err != nil {
					return nil, err
				}
			}
			snap.NATPoolMembers[strings.ToLower(np.ID)] = users
		}
		for _, fe := range lb.Properties.FrontendIPConfigurations {
			if pr := fe.Properties.PublicIPAddress; pr != nil && pr.ID != "" {
				id, err := arm.ParseResourceID(pr.ID)
				if err != nil {
					continue
				}
				pip, ok, err := s.loadPIP(t, id)
				if err != nil {
					return nil, err
				}
				if ok {
					if a, err := netip.ParseAddr(pip.Properties.IPAddress); err == nil {
						snap.PublicIPs[strings.ToLower(pr.ID)] = a
					}
				}
			}
		}
	}
	return snap, nil
}

// CompletePending ends the operations whose writes are at or below rev.
// failures maps a lower-cased load balancer id to why the data plane
// cannot serve it; operations on that load balancer end Failed with
// that reason, and it shows provisioningState Failed.
func (s *Service) CompletePending(ctx context.Context, rev int64, failures map[string]string) error {
	kvs, _, err := s.st.List(ctx, prefixPend, store.ListOptions{})
	if err != nil {
		return err
	}
	var due []store.KV
	for _, kv := range kvs {
		if kv.ModRev <= rev {
			due = append(due, kv)
		}
	}
	if len(due) == 0 {
		return nil
	}
	_, err = s.retry(ctx, func(t *txn) (*Result, error) {
		// The newest state per resource wins: a resource flips only when
		// none of its operations is still pending past rev.
		later := map[string]bool{}
		for _, kv := range kvs {
			if kv.ModRev > rev {
				later[strings.ToLower(string(kv.Value))] = true
			}
		}
		done := map[string]string{} // resource key -> final state
		now := s.now().UTC()
		for _, kv := range due {
			if _, ok, err := t.get(kv.Key); err != nil {
				return nil, err
			} else if !ok {
				continue // completed by another server
			}
			opID := strings.TrimPrefix(kv.Key, prefixPend)
			var rec opRecord
			ok, err := t.getJSON(opKey(opID), &rec)
			if err != nil {
				return nil, err
			}
			t.del(kv.Key)
			if !ok {
				continue
			}
			rid, err := arm.ParseResourceID(rec.Resource)
			if err != nil {
				continue
			}
			rec.Status, rec.EndTime = OpSucceeded, &now
			state := string(arm.Succeeded)
			if rid.Depth() > 0 && strings.EqualFold(rid.Types[0], "loadBalancers") {
				if why, bad := failures[rid.Root().Key()]; bad && rec.Kind != "delete" {
					rec.Status, state = OpFailed, string(arm.Failed)
					rec.Error = arm.Errorf(http.StatusOK, "LoadBalancerDataPlaneFailed", "%s", why)
				}
			}
			if err := t.putJSON(opKey(opID), rec); err != nil {
				return nil, err
			}
			if rec.Kind != "delete" && rid.Depth() > 0 && !later[strings.ToLower(string(kv.Value))] {
				done[rid.Root().String()] = state
			}
		}
		for id, state := range done {
			rid, err := arm.ParseResourceID(id)
			if err != nil {
				continue
			}
			if err := s.setProvisioningState(t, rid, state); err != nil {
				return nil, err
			}
		}
		return &Result{}, nil
	})
	return err
}

// setProvisioningState sets the state of a stored LB or NIC and its
// children, keeping its etag.
func (s *Service) setProvisioningState(t *txn, id arm.ResourceID, state string) error {
	switch strings.ToLower(id.Types[0]) {
	case "loadbalancers":
		lb, ok, err := s.loadLB(t, id)
		if err != nil || !ok {
			return err
		}
		setLBState(lb, state)
		return t.putJSON(resKey(id), lb)
	case "networkinterfaces":
		nic, ok, err := s.loadNIC(t, id)
		if err != nil || !ok {
			return err
		}
		nic.Properties.ProvisioningState = state
		for _, ic := range nic.Properties.IPConfigurations {
			ic.Properties.ProvisioningState = state
		}
		return t.putJSON(resKey(id), nic)
	}
	return nil
}

func setLBState(lb *network.LoadBalancer, state string) {
	lb.Properties.ProvisioningState = state
	for _, c := range lbChildren(lb) {
		*c.state = state
	}
}

// markUpdating sets provisioningState Updating on an object about to be
// stored while its operation waits for the data plane.
func (s *Service) markUpdating(obj any) bool {
	switch o := obj.(type) {
	case *network.LoadBalancer:
		setLBState(o, string(arm.Updating))
		return true
	case *network.NetworkInterface:
		o.Properties.ProvisioningState = string(arm.Updating)
		for _, ic := range o.Properties.IPConfigurations {
			ic.Properties.ProvisioningState = string(arm.Updating)
		}
		return true
	}
	return false
}
