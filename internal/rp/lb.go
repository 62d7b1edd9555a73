package rp

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/arm/field"
	"github.com/paddock-lb/paddock/internal/resources/network"
)

func (s *Service) loadLB(t *txn, id arm.ResourceID) (*network.LoadBalancer, bool, error) {
	var lb network.LoadBalancer
	ok, err := t.getJSON(resKey(id), &lb)
	if err != nil || !ok {
		return nil, ok, err
	}
	return &lb, true, nil
}

// normalizeLB gives every child its id, type and the load balancer's etag,
// applies Azure's defaults and carries server-owned values (resourceGuid,
// allocated addresses, NAT back-references) over from the stored version.
func normalizeLB(lb *network.LoadBalancer, id arm.ResourceID, existing *network.LoadBalancer, etag string, api arm.APIVersion) {
	lb.ID, lb.Name, lb.Type, lb.Etag = id.String(), id.Name(), network.TypeLoadBalancer, etag
	if existing != nil {
		lb.ID, lb.Name = existing.ID, existing.Name
		lb.Properties.ResourceGUID = existing.Properties.ResourceGUID
		if lb.SKU == nil {
			lb.SKU = existing.SKU
		}
	}
	lbID, _ := arm.ParseResourceID(lb.ID)
	if lb.Properties.ResourceGUID == "" {
		lb.Properties.ResourceGUID = arm.NewGUID()
	}
	if lb.SKU == nil || lb.SKU.Name == "" {
		lb.SKU = &network.SKU{Name: "Basic"}
	}
	if strings.EqualFold(lb.SKU.Name, "Standard") || strings.EqualFold(lb.SKU.Name, "Gateway") {
		if lb.SKU.Tier == "" && api.AtLeast("2020-07-01") {
			lb.SKU.Tier = "Regional"
		}
	}
	lb.Properties.ProvisioningState = string(arm.Succeeded)
	p := &lb.Properties
	// Nil entries are reported by validation; drop them here so the rest
	// of the pipeline can rely on non-nil children.
	p.FrontendIPConfigurations = compact(p.FrontendIPConfigurations)
	p.BackendAddressPools = compact(p.BackendAddressPools)
	p.LoadBalancingRules = compact(p.LoadBalancingRules)
	p.Probes = compact(p.Probes)
	p.InboundNATRules = compact(p.InboundNATRules)
	p.InboundNATPools = compact(p.InboundNATPools)
	p.OutboundRules = compact(p.OutboundRules)
	var old network.LoadBalancerProperties
	if existing != nil {
		old = existing.Properties
	}
	child := func(c *network.Child, coll, typ string, oldNames map[string]string) {
		if on, ok := oldNames[strings.ToLower(c.Name)]; ok {
			c.Name = on
		}
		c.ID = lbID.Child(coll, c.Name).String()
		c.Type = typ
		c.Etag = etag
	}
	frontendIPConfigurationsNames := namesOf(old.FrontendIPConfigurations, func(f *network.FrontendIPConfiguration) string { return f.Name })
	for _, fe := range p.FrontendIPConfigurations {
		child(&fe.Child, "frontendIPConfigurations", network.TypeFrontend, frontendIPConfigurationsNames)
		fp := &fe.Properties
		fp.ProvisioningState = string(arm.Succeeded)
		fp.LoadBalancingRules, fp.InboundNATRules, fp.InboundNATPools, fp.OutboundRules = nil, nil, nil, nil
		if fp.Subnet != nil && fp.Subnet.ID != "" {
			if fp.PrivateIPAllocationMethod == "" {
				fp.PrivateIPAllocationMethod = "Dynamic"
			}
			if fp.PrivateIPAddressVersion == "" && api.AtLeast("2020-05-01") {
				fp.PrivateIPAddressVersion = "IPv4"
			}
			if strings.EqualFold(fp.PrivateIPAllocationMethod, "Dynamic") {
				fp.PrivateIPAddress = ""
				for _, o := range old.FrontendIPConfigurations {
					if strings.EqualFold(o.Name, fe.Name) && o.Properties.Subnet != nil && arm.SameID(o.Properties.Subnet.ID, fp.Subnet.ID) {
						fp.PrivateIPAddress = o.Properties.PrivateIPAddress
					}
				}
			}
		} else {
			// Azure shows Dynamic / IPv4 on public frontends too.
			fp.PrivateIPAddress = ""
			fp.PrivateIPAllocationMethod = "Dynamic"
			if fp.PrivateIPAddressVersion == "" {
				fp.PrivateIPAddressVersion = "IPv4"
			}
		}
	}
	backendAddressPoolsNames := namesOf(old.BackendAddressPools, func(b *network.BackendAddressPool) string { return b.Name })
	for _, pool := range p.BackendAddressPools {
		child(&pool.Child, "backendAddressPools", network.TypeBackendPool, backendAddressPoolsNames)
		pp := &pool.Properties
		pp.ProvisioningState = string(arm.Succeeded)
		pp.BackendIPConfigurations, pp.LoadBalancingRules, pp.OutboundRule, pp.OutboundRules, pp.InboundNATRules = nil, nil, nil, nil, nil
		pp.LoadBalancerBackendAddresses = dropEchoedNICMembers(compact(pp.LoadBalancerBackendAddresses))
		for i, a := range pp.LoadBalancerBackendAddresses {
			a.Properties.NetworkInterfaceIPConfiguration = nil
			a.Properties.InboundNATRulesPortMapping = nil
			if a.Name == "" {
				a.Name = pool.Name + "-address-" + itoa(i+1)
			}
		}
	}
	loadBalancingRulesNames := namesOf(old.LoadBalancingRules, func(x *network.LoadBalancingRule) string { return x.Name })
	for _, r := range p.LoadBalancingRules {
		child(&r.Child, "loadBalancingRules", network.TypeLBRule, loadBalancingRulesNames)
		rp := &r.Properties
		rp.ProvisioningState = string(arm.Succeeded)
		if rp.BackendPort == nil && rp.FrontendPort != nil {
			rp.BackendPort = ptr(*rp.FrontendPort)
		}
		if rp.IdleTimeoutInMinutes == nil && !strings.EqualFold(rp.Protocol, "Udp") {
			rp.IdleTimeoutInMinutes = ptr(int32(4))
		}
		if rp.EnableFloatingIP == nil {
			rp.EnableFloatingIP = ptr(false)
		}
		if rp.EnableTCPReset == nil {
			rp.EnableTCPReset = ptr(false)
		}
		if rp.DisableOutboundSnat == nil {
			rp.DisableOutboundSnat = ptr(false)
		}
		if rp.LoadDistribution == "" {
			rp.LoadDistribution = "Default"
		}
		if rp.EnableConnectionTracking == nil {
			rp.EnableConnectionTracking = ptr(false)
		}
		if rp.BackendAddressPool != nil && rp.BackendAddressPool.ID == "" {
			rp.BackendAddressPool = nil
		}
	}
	probesNames := namesOf(old.Probes, func(x *network.Probe) string { return x.Name })
	for _, pr := range p.Probes {
		child(&pr.Child, "probes", network.TypeProbe, probesNames)
		pp := &pr.Properties
		pp.ProvisioningState = string(arm.Succeeded)
		pp.LoadBalancingRules = nil
		if pp.IntervalInSeconds == nil {
			pp.IntervalInSeconds = ptr(int32(15))
		}
		if pp.NumberOfProbes == nil {
			pp.NumberOfProbes = ptr(int32(2))
		}
	}
	oldNATTargets := make(map[string]*network.IPConfigurationRef, len(old.InboundNATRules))
	for _, o := range old.InboundNATRules {
		oldNATTargets[strings.ToLower(o.Name)] = o.Properties.BackendIPConfiguration
	}
	inboundNatRulesNames := namesOf(old.InboundNATRules, func(x *network.InboundNATRule) string { return x.Name })
	for _, r := range p.InboundNATRules {
		child(&r.Child, "inboundNatRules", network.TypeInboundNATRule, inboundNatRulesNames)
		rp := &r.Properties
		rp.ProvisioningState = string(arm.Succeeded)
		rp.BackendIPConfiguration = oldNATTargets[strings.ToLower(r.Name)]
		if rp.IdleTimeoutInMinutes == nil && !strings.EqualFold(rp.Protocol, "Udp") {
			rp.IdleTimeoutInMinutes = ptr(int32(4))
		}
		if rp.EnableFloatingIP == nil {
			rp.EnableFloatingIP = ptr(false)
		}
		if rp.EnableTCPReset == nil {
			rp.EnableTCPReset = ptr(false)
		}
		if rp.BackendAddressPool != nil && rp.BackendAddressPool.ID != "" && rp.FrontendPort == nil {
			rp.FrontendPort = ptr(int32(0))
		}
	}
	inboundNatPoolsNames := namesOf(old.InboundNATPools, func(x *network.InboundNATPool) string { return x.Name })
	for _, np := range p.InboundNATPools {
		child(&np.Child, "inboundNatPools", network.TypeInboundNATPool, inboundNatPoolsNames)
		np.Properties.ProvisioningState = string(arm.Succeeded)
		if np.Properties.IdleTimeoutInMinutes == nil && !strings.EqualFold(np.Properties.Protocol, "Udp") {
			np.Properties.IdleTimeoutInMinutes = ptr(int32(4))
		}
		if np.Properties.EnableFloatingIP == nil {
			np.Properties.EnableFloatingIP = ptr(false)
		}
		if np.Properties.EnableTCPReset == nil {
			np.Properties.EnableTCPReset = ptr(false)
		}
	}
	outboundRulesNames := namesOf(old.OutboundRules, func(x *network.OutboundRule) string { return x.Name })
	for _, o := range p.OutboundRules {
		child(&o.Child, "outboundRules", network.TypeOutboundRule, outboundRulesNames)
		o.Properties.ProvisioningState = string(arm.Succeeded)
		if o.Properties.AllocatedOutboundPorts == nil {
			o.Properties.AllocatedOutboundPorts = ptr(int32(0))
		}
		if o.Properties.IdleTimeoutInMinutes == nil {
			o.Properties.IdleTimeoutInMinutes = ptr(int32(4))
		}
		if o.Properties.EnableTCPReset == nil {
			o.Properties.EnableTCPReset = ptr(false)
		}
	}
}

// dropEchoedNICMembers removes the backend addresses that carry nothing but
// a networkInterfaceIPConfiguration: that is how NRP renders the members of
// a NIC-based pool, and clients echo GET bodies back. They are read-only
// data, not IP-based members (azure-lb-api.md §1.9).
func dropEchoedNICMembers(addrs []*network.LoadBalancerBackendAddress) []*network.LoadBalancerBackendAddress {
	out := addrs[:0]
	for _, a := range addrs {
		p := a.Properties
		if p.NetworkInterfaceIPConfiguration != nil && p.IPAddress == "" && p.VirtualNetwork == nil && p.Subnet == nil && p.LoadBalancerFrontendIPConfiguration == nil {
			continue
		}
		out = append(out, a)
	}
	return out
}

func compact[T any](s []*T) []*T {
	out := s[:0:0]
	for _, v := range s {
		if v != nil {
			out = append(out, v)
		}
	}
	if out == nil {
		out = []*T{}
	}
	return out
}

// namesOf maps the lower-cased names of a stored collection to their
// casing, so an update keeps the casing given at creation.
func namesOf[T any](s []T, name func(T) string) map[string]string {
	out := make(map[string]string, len(s))
	for _, v := range s {
		out[strings.ToLower(name(v))] = name(v)
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

// putLB validates and stores a whole load balancer. It is also the tail of
// every child write (pools, NAT rules), which edit the stored LB and come
// through here.
func (s *Service) putLB(t *txn, c *Call, lb *network.LoadBalancer, existing *network.LoadBalancer) (*network.LoadBalancer, field.ErrorList, error) {
	lbID := c.ID.Root()
	normalizeLB(lb, lbID, existing, arm.NewETag(), c.APIVersion)
	errs := validateLB(lb, lbID, c.APIVersion)
	// NAT pools and NAT rules: NRP only accepts NAT rules passed unchanged
	// while pools exist.
	if existing != nil && len(lb.Properties.InboundNATPools) > 0 && natRulesChanged(existing.Properties.InboundNATRules, lb.Properties.InboundNATRules) {
		errs.Add("AddingOrUpdatingNatRulesWhenNatPoolIsPresentOnLoadbalancerIsNotSupported", field.NewPath("properties", "inboundNatRules"),
			"Adding or updating NAT rules when NAT pool is present on loadbalancer %s is not supported. To modify the load balancer, pass in all NAT rules unchanged or remove the LoadBalancerInboundNatRules property from your PUT request.", lbID)
	}
	if err := s.resolveLB(t, lb, existing, &errs); err != nil {
		return nil, nil, err
	}
	if len(errs) > 0 {
		return nil, errs, nil
	}
	if err := t.putJSON(resKey(lbID), lb); err != nil {
		return nil, nil, err
	}
	return lb, nil, nil
}

func natRulesChanged(old, now []*network.InboundNATRule) bool {
	if len(old) != len(now) {
		return true
	}
	for i := range old {
		a, b := old[i].Properties, now[i].Properties
		if !strings.EqualFold(old[i].Name, now[i].Name) || deref(a.FrontendPort, 0) != deref(b.FrontendPort, 0) || deref(a.BackendPort, 0) != deref(b.BackendPort, 0) || !strings.EqualFold(a.Protocol, b.Protocol) {
			return true
		}
	}
	return false
}

// resolveLB checks and applies everything that reaches outside the body:
// subnets and public IPs of frontends, private address allocation, public IP
// back-references, subnet usage, and the NICs that use pools and NAT rules.
func (s *Service) resolveLB(t *txn, lb *network.LoadBalancer, existing *network.LoadBalancer, errs *field.ErrorList) error {
	p := &lb.Properties
	// Frontends.
	newSubnetUse := map[string]string{} // frontend id key -> subnet id
	newPIPUse := map[string]string{}    // pip key -> frontend id
	for i, fe := range p.FrontendIPConfigurations {
		fp := &fe.Properties
		path := field.NewPath("properties", "frontendIPConfigurations").Index(i).Child("properties")
		if fp.Subnet != nil && fp.Subnet.ID != "" {
			ref, ok := parseRef(fp.Subnet.ID, network.TypeSubnet, path.Child("subnet", "id"), errs)
			if !ok {
				continue
			}
			vnet, sn, prefix, err := s.findSubnet(t, ref)
			if err != nil {
				return err
			}
			if sn == nil {
				errs.Append(invalidRef(fp.Subnet.ID, fe.ID, path.Child("subnet", "id")))
				continue
			}
			fp.Subnet.ID = sn.ID
			if err := s.assignPrivateIP(t, vnet, prefix, fe.ID, &fp.PrivateIPAddress, fp.PrivateIPAllocationMethod, path.Child("privateIPAddress"), errs); err != nil {
				return err
			}
			newSubnetUse[arm.IDKey(fe.ID)] = sn.ID
		}
		if fp.PublicIPAddress != nil && fp.PublicIPAddress.ID != "" {
			ref, ok := parseRef(fp.PublicIPAddress.ID, network.TypePublicIPAddress, path.Child("publicIPAddress", "id"), errs)
			if !ok {
				continue
			}
			pip, found, err := s.loadPIP(t, ref)
			if err != nil {
				return err
			}
			if !found {
				errs.Append(invalidRef(fp.PublicIPAddress.ID, fe.ID, path.Child("publicIPAddress", "id")))
				continue
			}
			fp.PublicIPAddress.ID = pip.ID
			if holder := pip.Properties.IPConfiguration; holder != nil && !arm.SameID(holder.ID, fe.ID) {
				errs.Add("PublicIPAddressInUse", path.Child("publicIPAddress", "id"), "Resource %s is referenced by %s and cannot be used by %s at the same time.", pip.ID, holder.ID, fe.ID)
				continue
			}
			if prev, dup := newPIPUse[ref.Key()]; dup {
				errs.Add("PublicIPAddressInUse", path.Child("publicIPAddress", "id"), "Public IP address %s is used by both %s and %s.", pip.ID, prev, fe.ID)
				continue
			}
			pipSKU := "Basic"
			if pip.SKU != nil && pip.SKU.Name != "" {
				pipSKU = pip.SKU.Name
			}
			if !strings.EqualFold(strings.TrimSuffix(pipSKU, "V2"), lb.SKU.Name) {
				errs.Add("DifferentSkuLoadBalancersAndPublicIPAddressNotAllowed", path.Child("publicIPAddress", "id"), "Load balancer %s of SKU %s cannot reference public IP address %s of SKU %s: the SKUs must match.", lb.ID, lb.SKU.Name, pip.ID, pipSKU)
				continue
			}
			if strings.EqualFold(lb.SKU.Name, "Standard") && !strings.EqualFold(pip.Properties.PublicIPAllocationMethod, "Static") {
				errs.Add("StandardSkuLoadBalancerRequiresStaticPublicIP", path.Child("publicIPAddress", "id"), "Standard load balancer %s requires public IP address %s to use the Static allocation method.", lb.ID, pip.ID)
				continue
			}
			newPIPUse[ref.Key()] = fe.ID
		}
	}
	// Internal and public frontends are not mixed on one load balancer.
	if len(newPIPUse) > 0 && len(newSubnetUse) > 0 {
		errs.Add("LoadBalancerCannotMixPublicAndPrivateFrontends", field.NewPath("properties", "frontendIPConfigurations"), "Load balancer %s cannot have both public and private frontend IP configurations.", lb.ID)
	}
	// IP-based pool members must name existing virtual networks.
	for i, pool := range p.BackendAddressPools {
		path := field.NewPath("properties", "backendAddressPools").Index(i).Child("properties")
		if vn := pool.Properties.VirtualNetwork; vn != nil && vn.ID != "" {
			ref, ok := parseRef(vn.ID, network.TypeVirtualNetwork, path.Child("virtualNetwork", "id"), errs)
			if ok {
				if _, found, err := s.loadVNet(t, ref); err != nil {
					return err
				} else if !found {
					errs.Append(invalidRef(vn.ID, pool.ID, path.Child("virtualNetwork", "id")))
				}
			}
		}
		checked := map[string]bool{}
		for j, a := range pool.Properties.LoadBalancerBackendAddresses {
			vn := a.Properties.VirtualNetwork
			if vn == nil || vn.ID == "" {
				continue
			}
			ref, err := arm.ParseResourceID(vn.ID)
			if err != nil || !ref.IsType(network.TypeVirtualNetwork) || checked[ref.Key()] {
				continue
			}
			checked[ref.Key()] = true
			if _, found, err := s.loadVNet(t, ref); err != nil {
				return err
			} else if !found {
				errs.Append(invalidRef(vn.ID, pool.ID, path.Child("loadBalancerBackendAddresses").Index(j).Child("properties", "virtualNetwork", "id")))
			}
		}
	}
	// Pools with NIC members: they must stay, and must not take IP members.
	var old network.LoadBalancerProperties
	if existing != nil {
		old = existing.Properties
	}
	for _, op := range old.BackendAddressPools {
		members, err := s.poolMembers(t, op.ID)
		if err != nil {
			return err
		}
		if len(members) == 0 {
			continue
		}
		var now *network.BackendAddressPool
		nowIdx := -1
		for i, np := range p.BackendAddressPools {
			if strings.EqualFold(np.Name, op.Name) {
				now, nowIdx = np, i
			}
		}
		switch {
		case now == nil:
			errs.Add("BackendAddressPoolInUseByNetworkInterface", field.NewPath("properties", "backendAddressPools"), "Backend address pool %s cannot be removed because it is referenced by %s. Remove the reference from the network interface first.", op.ID, members[0])
		case len(now.Properties.LoadBalancerBackendAddresses) > 0:
			errs.Add("BackendAddressPoolCannotMixNicAndIpMembers", field.NewPath("properties", "backendAddressPools").Index(nowIdx).Child("properties", "loadBalancerBackendAddresses"), "Backend address pool %s has network interface members (%s) and cannot also list IP addresses; a pool is either NIC-based or IP-based.", op.ID, members[0])
		}
	}
	for _, or := range old.InboundNATRules {
		if or.Properties.BackendIPConfiguration == nil {
			continue
		}
		found := false
		for _, nr := range p.InboundNATRules {
			if strings.EqualFold(nr.Name, or.Name) {
				found = true
			}
		}
		if !found {
			errs.Add("InboundNatRuleInUseByNetworkInterface", field.NewPath("properties", "inboundNatRules"), "Inbound NAT rule %s cannot be removed because it is referenced by %s. Remove the reference from the network interface first.", or.ID, or.Properties.BackendIPConfiguration.ID)
		}
	}
	for _, onp := range old.InboundNATPools {
		found := false
		for _, np := range p.InboundNATPools {
			if strings.EqualFold(np.Name, onp.Name) {
				found = true
			}
		}
		if found {
			continue
		}
		users, err := t.refsOf(onp.ID)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			errs.Add("InboundNatPoolInUseByNetworkInterface", field.NewPath("properties", "inboundNatPools"), "Inbound NAT pool %s cannot be removed because it is referenced by %s. Remove the reference from the network interface first.", onp.ID, users[0])
		}
	}
	if len(*errs) > 0 {
		return nil
	}
	// Apply: release what the old version held and no longer does.
	for _, ofe := range old.FrontendIPConfigurations {
		k := arm.IDKey(ofe.ID)
		if sub := ofe.Properties.Subnet; sub != nil && sub.ID != "" {
			if newSubnetUse[k] == "" || !arm.SameID(newSubnetUse[k], sub.ID) {
				t.del(refKey(sub.ID, ofe.ID))
			}
			if a, err := netip.ParseAddr(ofe.Properties.PrivateIPAddress); err == nil {
				keep := false
				for _, nfe := range p.FrontendIPConfigurations {
					if arm.SameID(nfe.ID, ofe.ID) && nfe.Properties.PrivateIPAddress == ofe.Properties.PrivateIPAddress && nfe.Properties.Subnet != nil && arm.SameID(nfe.Properties.Subnet.ID, sub.ID) {
						keep = true
					}
				}
				if !keep {
					if sid, err := arm.ParseResourceID(sub.ID); err == nil {
						if err := t.releaseIP(sid.Root().String(), a, ofe.ID); err != nil {
							return err
						}
					}
				}
			}
		}
		if pr := ofe.Properties.PublicIPAddress; pr != nil && pr.ID != "" {
			if _, still := newPIPUse[arm.IDKey(pr.ID)]; !still {
				if err := s.setPIPHolder(t, pr.ID, ofe.ID, ""); err != nil {
					return err
				}
			}
		}
	}
	for feKey, sub := range newSubnetUse {
		for _, fe := range p.FrontendIPConfigurations {
			if arm.IDKey(fe.ID) == feKey {
				t.addRef(sub, fe.ID)
			}
		}
	}
	for pipKey, feID := range newPIPUse {
		if err := s.setPIPHolder(t, pipKey, "", feID); err != nil {
			return err
		}
	}
	return nil
}

// assignPrivateIP allocates (Dynamic) or checks (Static) the private address
// of a frontend or NIC IP configuration and claims it for holder.
func (s *Service) assignPrivateIP(t *txn, vnet *network.VirtualNetwork, prefix netip.Prefix, holder string, addr *string, method string, path field.Path, errs *field.ErrorList) error {
	if strings.EqualFold(method, "Static") {
		a, err := netip.ParseAddr(*addr)
		if err != nil {
			errs.Add("InvalidPrivateIPAddressFormat", path, "Private IP address '%s' of %s is not a valid IP address.", *addr, holder)
			return nil
		}
		if !prefix.Contains(a) {
			errs.Add("PrivateIPAddressNotInSubnet", path, "Private static IP address %s does not belong to the range of subnet prefix %s of %s.", a, prefix, holder)
			return nil
		}
		if reservedIP(prefix, a) {
			errs.Add("PrivateIPAddressInReservedRange", path, "Private static IP address %s falls within reserved IP range of subnet prefix %s.", a, prefix)
			return nil
		}
		if w, mine := t.writes[ipKey(vnet.ID, a)]; !mine || w.Delete {
			// Not claimed earlier in this request: is it held in the store?
			if h, taken, err := t.get(ipKey(vnet.ID, a)); err != nil {
				return err
			} else if taken && !strings.EqualFold(string(h), holder) {
				errs.Add("PrivateIPAddressIsAllocated", path, "IP configuration %s is requesting the private IP address %s, which is already allocated to resource %s.", holder, a, h)
				return nil
			}
		}
		if other, err := t.claimIP(vnet.ID, a, holder); err != nil {
			return err
		} else if other != "" {
			errs.Add("MultipleIpConfigsRequestSamePrivateIpAddress", path, "IP configuration %s is requesting the same private IP address %s as IP Configurations %s. Private IP address %s from the subnet can be assigned to only one IP configuration.", holder, a, other, a)
		}
		*addr = a.String()
		return nil
	}
	if a, err := netip.ParseAddr(*addr); err == nil && prefix.Contains(a) {
		if v, ok, err := t.get(ipKey(vnet.ID, a)); err != nil {
			return err
		} else if ok && strings.EqualFold(string(v), holder) {
			return nil // keeps its dynamic address
		}
	}
	a, ok, err := s.allocateFree(t, arm.IDKey(vnet.ID)+"|"+prefix.String(), prefix,
		func(a netip.Addr) string { return ipKey(vnet.ID, a) },
		func(a netip.Addr) (string, error) { return t.claimIP(vnet.ID, a, holder) })
	if err != nil {
		return err
	}
	if !ok {
		errs.Add("SubnetIsFull", path, "Subnet with prefix %s has no free private IP address for %s.", prefix, holder)
		return nil
	}
	*addr = a.String()
	return nil
}

// poolMembers lists the NIC IP configurations that reference a pool.
func (s *Service) poolMembers(t *txn, poolID string) ([]string, error) {
	return t.refsOf(poolID)
}

// renderLB fills the read-only back-references of a stored load balancer.
func (s *Service) renderLB(t *txn, lb *network.LoadBalancer) error {
	p := &lb.Properties
	fe := map[string]*network.FrontendIPConfiguration{}
	for _, f := range p.FrontendIPConfigurations {
		fe[arm.IDKey(f.ID)] = f
	}
	pools := map[string]*network.BackendAddressPool{}
	for _, b := range p.BackendAddressPools {
		pools[arm.IDKey(b.ID)] = b
	}
	probes := map[string]*network.Probe{}
	for _, pr := range p.Probes {
		probes[arm.IDKey(pr.ID)] = pr
	}
	ref := func(id string) network.SubResource { return network.SubResource{ID: id} }
	for _, r := range p.LoadBalancingRules {
		rp := r.Properties
		if rp.FrontendIPConfiguration != nil {
			if f := fe[arm.IDKey(rp.FrontendIPConfiguration.ID)]; f != nil {
				f.Properties.LoadBalancingRules = append(f.Properties.LoadBalancingRules, ref(r.ID))
			}
		}
		seen := map[string]bool{}
		addPool := func(sr *network.SubResource) {
			if sr == nil || seen[arm.IDKey(sr.ID)] {
				return
			}
			seen[arm.IDKey(sr.ID)] = true
			if b := pools[arm.IDKey(sr.ID)]; b != nil {
				b.Properties.LoadBalancingRules = append(b.Properties.LoadBalancingRules, ref(r.ID))
			}
		}
		addPool(rp.BackendAddressPool)
		for i := range rp.BackendAddressPools {
			addPool(&rp.BackendAddressPools[i])
		}
		if rp.Probe != nil {
			if pr := probes[arm.IDKey(rp.Probe.ID)]; pr != nil {
				pr.Properties.LoadBalancingRules = append(pr.Properties.LoadBalancingRules, ref(r.ID))
			}
		}
	}
	for _, r := range p.InboundNATRules {
		if r.Properties.FrontendIPConfiguration != nil {
			if f := fe[arm.IDKey(r.Properties.FrontendIPConfiguration.ID)]; f != nil {
				f.Properties.InboundNATRules = append(f.Properties.InboundNATRules, ref(r.ID))
			}
		}
		if r.Properties.BackendAddressPool != nil {
			if b := pools[arm.IDKey(r.Properties.BackendAddressPool.ID)]; b != nil {
				b.Properties.InboundNATRules = append(b.Properties.InboundNATRules, ref(r.ID))
			}
		}
	}
	for _, np := range p.InboundNATPools {
		if np.Properties.FrontendIPConfiguration != nil {
			if f := fe[arm.IDKey(np.Properties.FrontendIPConfiguration.ID)]; f != nil {
				f.Properties.InboundNATPools = append(f.Properties.InboundNATPools, ref(np.ID))
			}
		}
	}
	for _, o := range p.OutboundRules {
		for _, f := range o.Properties.FrontendIPConfigurations {
			if x := fe[arm.IDKey(f.ID)]; x != nil {
				x.Properties.OutboundRules = append(x.Properties.OutboundRules, ref(o.ID))
			}
		}
		if o.Properties.BackendAddressPool != nil {
			if b := pools[arm.IDKey(o.Properties.BackendAddressPool.ID)]; b != nil {
				b.Properties.OutboundRules = append(b.Properties.OutboundRules, ref(o.ID))
				b.Properties.OutboundRule = &network.SubResource{ID: o.ID}
			}
		}
	}
	for _, b := range p.BackendAddressPools {
		if err := s.fillPool(t, lb, b); err != nil {
			return err
		}
	}
	return nil
}

// fillPool joins a pool's NIC members and the NIC IP configurations behind
// its IP members, and computes NAT rule v2 port mappings.
func (s *Service) fillPool(t *txn, lb *network.LoadBalancer, b *network.BackendAddressPool) error {
	members, err := s.poolMembers(t, b.ID)
	if err != nil {
		return err
	}
	b.Properties.BackendIPConfigurations = nil
	for _, m := range members {
		b.Properties.BackendIPConfigurations = append(b.Properties.BackendIPConfigurations, &network.IPConfigurationRef{ID: m})
	}
	addrs := b.Properties.LoadBalancerBackendAddresses
	if len(addrs) == 0 {
		return nil
	}
	holders := map[string]map[netip.Addr]string{}
	for _, a := range addrs {
		vn := addressVNet(b, a)
		if vn == "" {
			continue
		}
		h, ok := holders[arm.IDKey(vn)]
		if !ok {
			h, err = s.usedIPs(t, vn)
			if err != nil {
				return err
			}
			holders[arm.IDKey(vn)] = h
		}
		ip, err := netip.ParseAddr(a.Properties.IPAddress)
		if err != nil {
			continue
		}
		if holder := h[ip]; holder != "" {
			if hid, err := arm.ParseResourceID(holder); err == nil && hid.IsType(network.TypeNICIPConfig) {
				a.Properties.NetworkInterfaceIPConfiguration = &network.SubResource{ID: holder}
			}
		}
	}
	for _, m := range natV2Mappings(lb, b) {
		addrs[m.member].Properties.InboundNATRulesPortMapping = append(addrs[m.member].Properties.InboundNATRulesPortMapping, m.mapping)
	}
	return nil
}

func addressVNet(b *network.BackendAddressPool, a *network.LoadBalancerBackendAddress) string {
	switch {
	case a.Properties.VirtualNetwork != nil && a.Properties.VirtualNetwork.ID != "":
		return a.Properties.VirtualNetwork.ID
	case a.Properties.Subnet != nil && a.Properties.Subnet.ID != "":
		if id, err := arm.ParseResourceID(a.Properties.Subnet.ID); err == nil {
			return id.Root().String()
		}
	case b.Properties.VirtualNetwork != nil:
		return b.Properties.VirtualNetwork.ID
	}
	return ""
}

type natMapping struct {
	member  int
	mapping network.NATRulePortMapping
}

// natV2Mappings assigns each IP member of pool b a frontend port from every
// NAT rule v2 that targets the pool: members in address order get
// consecutive ports from the range start; members past the range end get
// none.
func natV2Mappings(lb *network.LoadBalancer, b *network.BackendAddressPool) []natMapping {
	var out []natMapping
	order := make([]int, len(b.Properties.LoadBalancerBackendAddresses))
	for i := range order {
		order[i] = i
	}
	addrs := b.Properties.LoadBalancerBackendAddresses
	sort.SliceStable(order, func(i, j int) bool {
		ai, _ := netip.ParseAddr(addrs[order[i]].Properties.IPAddress)
		aj, _ := netip.ParseAddr(addrs[order[j]].Properties.IPAddress)
		return ai.Less(aj)
	})
	for _, r := range lb.Properties.InboundNATRules {
		rp := r.Properties
		if rp.BackendAddressPool == nil || !arm.SameID(rp.BackendAddressPool.ID, b.ID) || rp.FrontendPortRangeStart == nil || rp.FrontendPortRangeEnd == nil {
			continue
		}
		for k, idx := range order {
			port := *rp.FrontendPortRangeStart + int32(k)
			if port > *rp.FrontendPortRangeEnd {
				break
			}
			out = append(out, natMapping{member: idx, mapping: network.NATRulePortMapping{InboundNATRuleName: r.Name, FrontendPort: port, BackendPort: deref(rp.BackendPort, 0)}})
		}
	}
	return out
}

func (s *Service) deleteLB(t *txn, id arm.ResourceID, lb *network.LoadBalancer) error {
	for _, b := range lb.Properties.BackendAddressPools {
		members, err := s.poolMembers(t, b.ID)
		if err != nil {
			return err
		}
		if len(members) > 0 {
			return arm.BadRequest("LoadBalancerInUseByNetworkInterface", "Load balancer %s cannot be deleted because its backend address pool %s is referenced by %s. Remove the reference from the network interface first.", lb.ID, b.ID, members[0])
		}
		t.del(refGuardKey(b.ID))
	}
	for _, r := range lb.Properties.InboundNATRules {
		if r.Properties.BackendIPConfiguration != nil {
			return arm.BadRequest("LoadBalancerInUseByNetworkInterface", "Load balancer %s cannot be deleted because its inbound NAT rule %s is referenced by %s.", lb.ID, r.ID, r.Properties.BackendIPConfiguration.ID)
		}
	}
	for _, np := range lb.Properties.InboundNATPools {
		users, err := t.refsOf(np.ID)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return arm.BadRequest("LoadBalancerInUseByNetworkInterface", "Load balancer %s cannot be deleted because its inbound NAT pool %s is referenced by %s.", lb.ID, np.ID, users[0])
		}
		t.del(refGuardKey(np.ID))
	}
	for _, fe := range lb.Properties.FrontendIPConfigurations {
		if sub := fe.Properties.Subnet; sub != nil && sub.ID != "" {
			t.del(refKey(sub.ID, fe.ID))
			if a, err := netip.ParseAddr(fe.Properties.PrivateIPAddress); err == nil {
				if sid, err := arm.ParseResourceID(sub.ID); err == nil {
					if err := t.releaseIP(sid.Root().String(), a, fe.ID); err != nil {
						return err
					}
				}
			}
		}
		if pr := fe.Properties.PublicIPAddress; pr != nil && pr.ID != "" {
			if err := s.setPIPHolder(t, pr.ID, fe.ID, ""); err != nil {
				return err
			}
		}
	}
	t.del(resKey(id))
	return nil
}

// childOf finds a child of a load balancer by collection and name.
func childOf(lb *network.LoadBalancer, coll, name string) (any, bool) {
	p := &lb.Properties
	find := func(n int, nameAt func(int) string, at func(int) any) (any, bool) {
		for i := 0; i < n; i++ {
			if strings.EqualFold(nameAt(i), name) {
				return at(i), true
			}
		}
		return nil, false
	}
	switch strings.ToLower(coll) {
	case "frontendipconfigurations":
		return find(len(p.FrontendIPConfigurations), func(i int) string { return p.FrontendIPConfigurations[i].Name }, func(i int) any { return p.FrontendIPConfigurations[i] })
	case "backendaddresspools":
		return find(len(p.BackendAddressPools), func(i int) string { return p.BackendAddressPools[i].Name }, func(i int) any { return p.BackendAddressPools[i] })
	case "loadbalancingrules":
		return find(len(p.LoadBalancingRules), func(i int) string { return p.LoadBalancingRules[i].Name }, func(i int) any { return p.LoadBalancingRules[i] })
	case "probes":
		return find(len(p.Probes), func(i int) string { return p.Probes[i].Name }, func(i int) any { return p.Probes[i] })
	case "inboundnatrules":
		return find(len(p.InboundNATRules), func(i int) string { return p.InboundNATRules[i].Name }, func(i int) any { return p.InboundNATRules[i] })
	case "outboundrules":
		return find(len(p.OutboundRules), func(i int) string { return p.OutboundRules[i].Name }, func(i int) any { return p.OutboundRules[i] })
	}
	return nil, false
}

// childList returns the children of one collection.
func childList(lb *network.LoadBalancer, coll string) ([]any, bool) {
	p := &lb.Properties
	var out []any
	switch strings.ToLower(coll) {
	case "frontendipconfigurations":
		for _, v := range p.FrontendIPConfigurations {
			out = append(out, v)
		}
	case "backendaddresspools":
		for _, v := range p.BackendAddressPools {
			out = append(out, v)
		}
	case "loadbalancingrules":
		for _, v := range p.LoadBalancingRules {
			out = append(out, v)
		}
	case "probes":
		for _, v := range p.Probes {
			out = append(out, v)
		}
	case "inboundnatrules":
		for _, v := range p.InboundNATRules {
			out = append(out, v)
		}
	case "outboundrules":
		for _, v := range p.OutboundRules {
			out = append(out, v)
		}
	default:
		return nil, false
	}
	return out, true
}
