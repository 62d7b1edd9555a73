package rp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"sort"
	"strings"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/arm/field"
	"github.com/paddock-lb/paddock/internal/resources/network"
)

// member is one backend of a pool with its address.
type member struct {
	// IPConfiguration is the NIC IP configuration id (NIC-based members, or
	// IP members backed by a NIC); empty otherwise.
	IPConfiguration string
	// Name is the backend address name (IP-based members).
	Name       string
	Addr       netip.Addr
	VNet       string
	AdminState string
}

// poolMembersResolved returns the members of a pool with their addresses,
// sorted by address (the order NAT rule v2 ports are assigned in).
func (s *Service) poolMembersResolved(t *txn, lb *network.LoadBalancer, b *network.BackendAddressPool) ([]member, error) {
	var out []member
	if len(b.Properties.LoadBalancerBackendAddresses) > 0 {
		for _, a := range b.Properties.LoadBalancerBackendAddresses {
			ip, err := netip.ParseAddr(a.Properties.IPAddress)
			if err != nil {
				continue
			}
			m := member{Name: a.Name, Addr: ip, VNet: addressVNet(b, a), AdminState: a.Properties.AdminState}
			if a.Properties.NetworkInterfaceIPConfiguration != nil {
				m.IPConfiguration = a.Properties.NetworkInterfaceIPConfiguration.ID
			}
			out = append(out, m)
		}
	} else {
		ids, err := s.poolMembers(t, b.ID)
		if err != nil {
			return nil, err
		}
		for _, icID := range ids {
			ic, vnet, err := s.ipConfig(t, icID)
			if err != nil {
				return nil, err
			}
			if ic == nil {
				continue
			}
			ip, err := netip.ParseAddr(ic.Properties.PrivateIPAddress)
			if err != nil {
				continue
			}
			out = append(out, member{IPConfiguration: ic.ID, Addr: ip, VNet: vnet})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Addr.Less(out[j].Addr) })
	return out, nil
}

// ipConfig loads a NIC IP configuration by id and returns it with its VNet id.
func (s *Service) ipConfig(t *txn, icID string) (*network.NICIPConfiguration, string, error) {
	id, err := arm.ParseResourceID(icID)
	if err != nil || id.Depth() != 2 {
		return nil, "", nil
	}
	nic, ok, err := s.loadNIC(t, id.Root())
	if err != nil || !ok {
		return nil, "", err
	}
	for _, ic := range nic.Properties.IPConfigurations {
		if strings.EqualFold(ic.Name, id.Name()) {
			vnet := ""
			if ic.Properties.Subnet != nil {
				if sid, err := arm.ParseResourceID(ic.Properties.Subnet.ID); err == nil {
					vnet = sid.Root().String()
				}
			}
			return ic, vnet, nil
		}
	}
	return nil, "", nil
}

// QueryNATPortMapping answers queryInboundNatRulePortMapping for a pool.
func (s *Service) QueryNATPortMapping(ctx context.Context, c *Call) (*Result, error) {
	var in struct {
		IPConfiguration *network.SubResource `json:"ipConfiguration"`
		IPAddress       string               `json:"ipAddress"`
	}
	if err := decodeBody(c.Body, &in); err != nil {
		return nil, err
	}
	hasCfg := in.IPConfiguration != nil && in.IPConfiguration.ID != ""
	if hasCfg == (in.IPAddress != "") {
		return nil, arm.BadRequest(arm.CodeInvalidRequestContent, "Specify exactly one of ipConfiguration and ipAddress.").WithTarget("ipAddress")
	}
	t := newTxn(ctx, s.st)
	lb, ok, err := s.loadLB(t, c.ID.Root())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound(c.ID.Root())
	}
	v, ok := childOf(lb, "backendAddressPools", c.ID.Name())
	if !ok {
		return nil, notFound(c.ID)
	}
	pool := v.(*network.BackendAddressPool)
	members, err := s.poolMembersResolved(t, lb, pool)
	if err != nil {
		return nil, err
	}
	type mapping struct {
		InboundNATRuleName string `json:"inboundNatRuleName"`
		Protocol           string `json:"protocol"`
		FrontendPort       int32  `json:"frontendPort"`
		BackendPort        int32  `json:"backendPort"`
	}
	out := struct {
		InboundNATRulePortMappings []mapping `json:"inboundNatRulePortMappings"`
	}{InboundNATRulePortMappings: []mapping{}}
	idx := -1
	for i, m := range members {
		if hasCfg && arm.SameID(m.IPConfiguration, in.IPConfiguration.ID) || !hasCfg && m.Addr.String() == in.IPAddress {
			idx = i
		}
	}
	if idx < 0 {
		target := in.IPAddress
		if hasCfg {
			target = in.IPConfiguration.ID
		}
		return nil, arm.BadRequest("BackendAddressNotInPool", "%s is not a member of backend address pool %s.", target, pool.ID)
	}
	for _, r := range lb.Properties.InboundNATRules {
		rp := r.Properties
		if rp.BackendAddressPool == nil || !arm.SameID(rp.BackendAddressPool.ID, pool.ID) || rp.FrontendPortRangeStart == nil || rp.FrontendPortRangeEnd == nil {
			continue
		}
		port := *rp.FrontendPortRangeStart + int32(idx)
		if port > *rp.FrontendPortRangeEnd {
			continue
		}
		out.InboundNATRulePortMappings = append(out.InboundNATRulePortMappings, mapping{InboundNATRuleName: r.Name, Protocol: rp.Protocol, FrontendPort: port, BackendPort: deref(rp.BackendPort, 0)})
	}
	body, err := marshal(out)
	return &Result{Status: http.StatusOK, Body: body}, err
}

// MigrateToIPBased converts NIC-based pools of a load balancer into
// IP-based pools: each member NIC IP configuration becomes an address
// (its private IP in its VNet) and the NIC stops referencing the pool.
func (s *Service) MigrateToIPBased(ctx context.Context, c *Call) (*Result, error) {
	var in struct {
		Pools []string `json:"pools"`
	}
	if len(strings.TrimSpace(string(c.Body))) > 0 {
		if err := decodeBody(c.Body, &in); err != nil {
			return nil, err
		}
	}
	return s.retry(ctx, func(t *txn) (*Result, error) {
		lb, ok, err := s.loadLB(t, c.ID.Root())
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, notFound(c.ID.Root())
		}
		if !isStandard(lb.SKU.Name) {
			return nil, arm.BadRequest("IPBasedBackendPoolNotSupportedForBasicSku", "Load balancer %s is Basic; only Standard load balancers can have IP-based backend pools.", lb.ID)
		}
		var errs field.ErrorList
		names := in.Pools
		if names == nil {
			for _, b := range lb.Properties.BackendAddressPools {
				names = append(names, b.Name)
			}
		}
		migrated := []string{}
		for i, name := range names {
			v, ok := childOf(lb, "backendAddressPools", name)
			if !ok {
				errs.Add(arm.CodeInvalidResourceReference, field.NewPath("pools").Index(i), "Backend address pool %s was not found in load balancer %s.", name, lb.ID)
				continue
			}
			pool := v.(*network.BackendAddressPool)
			members, err := s.poolMembersResolved(t, lb, pool)
			if err != nil {
				return nil, err
			}
			if len(pool.Properties.LoadBalancerBackendAddresses) > 0 {
				continue // already IP-based
			}
			for _, m := range members {
				pool.Properties.LoadBalancerBackendAddresses = append(pool.Properties.LoadBalancerBackendAddresses, &network.LoadBalancerBackendAddress{
					Name: addressName(m.IPConfiguration),
					Properties: network.LoadBalancerBackendAddressProperties{
						IPAddress:      m.Addr.String(),
						VirtualNetwork: network.Ref(m.VNet),
					},
				})
				if err := s.dropPoolFromNIC(t, m.IPConfiguration, pool.ID); err != nil {
					return nil, err
				}
			}
			migrated = append(migrated, pool.Name)
		}
		if e := errs.ToError(); e != nil {
			return nil, e
		}
		existing, _, err := s.loadLB(t, c.ID.Root())
		if err != nil {
			return nil, err
		}
		// The NIC references are gone in this transaction, so the pools
		// may now list addresses.
		saved, verrs, err := s.putLB(t, &Call{ID: c.ID.Root(), APIVersion: c.APIVersion}, lb, existing)
		if err != nil {
			return nil, err
		}
		if e := verrs.ToError(); e != nil {
			return nil, e
		}
		_ = saved
		body, err := json.Marshal(map[string][]string{"migratedPools": migrated})
		return &Result{Status: http.StatusOK, Body: body}, err
	})
}

func addressName(icID string) string {
	id, err := arm.ParseResourceID(icID)
	if err != nil || id.Depth() < 2 {
		return icID
	}
	return id.Names[0] + "_" + id.Name()
}

// dropPoolFromNIC removes a pool reference from a NIC IP configuration.
func (s *Service) dropPoolFromNIC(t *txn, icID, poolID string) error {
	id, err := arm.ParseResourceID(icID)
	if err != nil || id.Depth() != 2 {
		return nil
	}
	nic, ok, err := s.loadNIC(t, id.Root())
	if err != nil || !ok {
		return err
	}
	for _, ic := range nic.Properties.IPConfigurations {
		if !strings.EqualFold(ic.Name, id.Name()) {
			continue
		}
		out := ic.Properties.LoadBalancerBackendAddressPools[:0]
		for _, p := range ic.Properties.LoadBalancerBackendAddressPools {
			if !arm.SameID(p.ID, poolID) {
				out = append(out, p)
			}
		}
		ic.Properties.LoadBalancerBackendAddressPools = out
	}
	t.del(refKey(poolID, icID))
	return t.putJSON(resKey(id.Root()), nic)
}

// LBNetworkInterfaces lists the NICs whose IP configurations are members of
// the load balancer's pools or targets of its NAT rules.
func (s *Service) LBNetworkInterfaces(ctx context.Context, c *Call) ([]json.RawMessage, error) {
	t := newTxn(ctx, s.st)
	lb, ok, err := s.loadLB(t, c.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound(c.ID)
	}
	seen := map[string]bool{}
	var nics []string
	add := func(icID string) {
		id, err := arm.ParseResourceID(icID)
		if err != nil || id.Depth() != 2 || seen[id.Root().Key()] {
			return
		}
		seen[id.Root().Key()] = true
		nics = append(nics, id.Root().String())
	}
	for _, b := range lb.Properties.BackendAddressPools {
		ms, err := s.poolMembers(t, b.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			add(m)
		}
	}
	for _, r := range lb.Properties.InboundNATRules {
		if r.Properties.BackendIPConfiguration != nil {
			add(r.Properties.BackendIPConfiguration.ID)
		}
	}
	out := []json.RawMessage{}
	for _, n := range nics {
		id, _ := arm.ParseResourceID(n)
		nic, ok, err := s.loadNIC(t, id)
		if err != nil {
			return nil, err
		}
		if ok {
			b, err := marshal(nic)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
	}
	return out, nil
}

// NICLoadBalancers lists the load balancers a NIC is wired to.
func (s *Service) NICLoadBalancers(ctx context.Context, c *Call) ([]json.RawMessage, error) {
	t := newTxn(ctx, s.st)
	nic, ok, err := s.loadNIC(t, c.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound(c.ID)
	}
	seen := map[string]bool{}
	out := []json.RawMessage{}
	add := func(ref string) error {
		id, err := arm.ParseResourceID(ref)
		if err != nil || seen[id.Root().Key()] {
			return nil
		}
		seen[id.Root().Key()] = true
		lb, ok, err := s.loadLB(t, id.Root())
		if err != nil || !ok {
			return err
		}
		b, err := s.renderBody(t, lb, c.APIVersion)
		if err != nil {
			return err
		}
		out = append(out, b)
		return nil
	}
	for _, ic := range nic.Properties.IPConfigurations {
		for _, p := range ic.Properties.LoadBalancerBackendAddressPools {
			if err := add(p.ID); err != nil {
				return nil, err
			}
		}
		for _, r := range ic.Properties.LoadBalancerInboundNATRules {
			if err := add(r.ID); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
