package rp

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/arm/field"
	"github.com/paddock-lb/paddock/internal/resources/network"
)

func (s *Service) loadNIC(t *txn, id arm.ResourceID) (*network.NetworkInterface, bool, error) {
	var n network.NetworkInterface
	ok, err := t.getJSON(resKey(id), &n)
	if err != nil || !ok {
		return nil, ok, err
	}
	return &n, true, nil
}

// macFor derives a stable MAC address from the NIC's resource GUID.
func macFor(guid string) string {
	h := sha256.Sum256([]byte(guid))
	return fmt.Sprintf("00-0D-3A-%02X-%02X-%02X", h[0], h[1], h[2])
}

type nicUse struct {
	subnet   string // subnet id
	vnet     string
	addr     netip.Addr
	pip      string
	pools    []string
	nats     []string
	natPools []string
}

func (s *Service) putNIC(t *txn, c *Call, n *network.NetworkInterface) (*Result, error) {
	existing, exists, err := s.loadNIC(t, c.ID)
	if err != nil {
		return nil, err
	}
	etag := ""
	if existing != nil {
		etag = existing.Etag
	}
	if err := checkPreconditions(c, exists, etag); err != nil {
		return nil, err
	}
	n.ID, n.Name, n.Type, n.Etag = c.ID.String(), c.ID.Name(), network.TypeNetworkInterface, arm.NewETag()
	if existing != nil {
		n.ID, n.Name = existing.ID, existing.Name
		n.Properties.ResourceGUID = existing.Properties.ResourceGUID
		n.Properties.VirtualMachine = existing.Properties.VirtualMachine
		n.Properties.MACAddress = existing.Properties.MACAddress
	} else {
		n.Properties.VirtualMachine = nil
	}
	if n.Properties.ResourceGUID == "" {
		n.Properties.ResourceGUID = arm.NewGUID()
	}
	if n.Properties.MACAddress == "" {
		n.Properties.MACAddress = macFor(n.Properties.ResourceGUID)
	}
	n.Properties.ProvisioningState = string(arm.Succeeded)
	if n.Properties.EnableAcceleratedNetworking == nil {
		n.Properties.EnableAcceleratedNetworking = ptr(false)
	}
	if n.Properties.EnableIPForwarding == nil {
		n.Properties.EnableIPForwarding = ptr(false)
	}
	n.Properties.Primary = ptr(true)
	n.Properties.VnetEncryptionSupported = ptr(false)
	nid, _ := arm.ParseResourceID(n.ID)
	var errs field.ErrorList
	if n.Location == "" {
		errs.Add(arm.CodeLocationRequired, field.NewPath("location"), "The location property is required for this definition.")
	}
	cfgs := compact(n.Properties.IPConfigurations)
	n.Properties.IPConfigurations = cfgs
	props := field.NewPath("properties")
	if len(cfgs) == 0 {
		errs.Add("NetworkInterfaceMustHaveIpConfiguration", props.Child("ipConfigurations"), "Network interface %s must have at least one IP configuration.", n.ID)
	}
	primaries := 0
	names := map[string]bool{}
	for i, ic := range cfgs {
		if !validName(ic.Name) {
			errs.Add(arm.CodeInvalidResourceName, props.Child("ipConfigurations").Index(i).Child("name"), "IP configuration name '%s' is invalid.", ic.Name)
		}
		if names[strings.ToLower(ic.Name)] {
			errs.Add("DuplicateResourceName", props.Child("ipConfigurations").Index(i).Child("name"), "Network interface %s has two IP configurations named %s.", n.ID, ic.Name)
		}
		names[strings.ToLower(ic.Name)] = true
		if existing != nil {
			for _, o := range existing.Properties.IPConfigurations {
				if strings.EqualFold(o.Name, ic.Name) {
					ic.Name = o.Name
				}
			}
		}
		ic.ID = nid.Child("ipConfigurations", ic.Name).String()
		ic.Type = network.TypeNICIPConfig
		ic.Etag = n.Etag
		ic.Properties.ProvisioningState = string(arm.Succeeded)
		if deref(ic.Properties.Primary, false) {
			primaries++
		}
	}
	switch {
	case len(cfgs) == 1:
		cfgs[0].Properties.Primary = ptr(true)
	case len(cfgs) > 1 && primaries == 0:
		// Azure makes the first IP configuration primary.
		cfgs[0].Properties.Primary = ptr(true)
	case len(cfgs) > 1 && primaries > 1:
		errs.Add("NetworkInterfaceMustHaveExactlyOnePrimaryIpConfiguration", props.Child("ipConfigurations"), "Network interface %s has %d IP configurations marked primary; exactly one must be primary.", n.ID, primaries)
	}
	// A secondary IP configuration without a subnet takes the primary's.
	var primarySubnet *network.SubResource
	for _, ic := range cfgs {
		if deref(ic.Properties.Primary, false) && ic.Properties.Subnet != nil {
			primarySubnet = ic.Properties.Subnet
		}
	}
	for _, ic := range cfgs {
		if (ic.Properties.Subnet == nil || ic.Properties.Subnet.ID == "") && primarySubnet != nil && !deref(ic.Properties.Primary, false) {
			ic.Properties.Subnet = &network.SubResource{ID: primarySubnet.ID}
		}
	}
	fillNICDNS(n)
	for _, ic := range cfgs {
		if ic.Properties.Primary == nil {
			ic.Properties.Primary = ptr(false)
		}
	}
	uses := make([]nicUse, len(cfgs))
	vnetOf := ""
	rulesOnNIC := 0
	for i, ic := range cfgs {
		path := props.Child("ipConfigurations").Index(i).Child("properties")
		ip := &ic.Properties
		if ip.PrivateIPAllocationMethod == "" {
			ip.PrivateIPAllocationMethod = "Dynamic"
			if ip.PrivateIPAddress != "" && existing == nil {
				ip.PrivateIPAllocationMethod = "Static"
			}
		}
		if ip.PrivateIPAddressVersion == "" {
			ip.PrivateIPAddressVersion = "IPv4"
		}
		switch strings.ToLower(ip.PrivateIPAllocationMethod) {
		case "static", "dynamic":
		default:
			errs.Add(arm.CodeInvalidParameter, path.Child("privateIPAllocationMethod"), "Value '%s' is not valid for privateIPAllocationMethod. Supported values are Static and Dynamic.", ip.PrivateIPAllocationMethod)
			continue
		}
		if ip.Subnet == nil || ip.Subnet.ID == "" {
			errs.Add("SubnetRequiredForIpConfiguration", path.Child("subnet"), "IP configuration %s must reference a subnet.", ic.ID)
			continue
		}
		ref, ok := parseRef(ip.Subnet.ID, network.TypeSubnet, path.Child("subnet", "id"), &errs)
		if !ok {
			continue
		}
		vnet, sn, prefix, err := s.findSubnet(t, ref)
		if err != nil {
			return nil, err
		}
		if sn == nil {
			errs.Append(invalidRef(ip.Subnet.ID, ic.ID, path.Child("subnet", "id")))
			continue
		}
		ip.Subnet.ID = sn.ID
		if vnetOf == "" {
			vnetOf = vnet.ID
		} else if !arm.SameID(vnetOf, vnet.ID) {
			errs.Add("IpConfigurationsOfNicInDifferentVirtualNetworks", path.Child("subnet", "id"), "IP configurations of network interface %s reference subnets of different virtual networks.", n.ID)
		}
		if strings.EqualFold(ip.PrivateIPAllocationMethod, "Dynamic") && existing != nil {
			ip.PrivateIPAddress = ""
			for _, o := range existing.Properties.IPConfigurations {
				if strings.EqualFold(o.Name, ic.Name) && o.Properties.Subnet != nil && arm.SameID(o.Properties.Subnet.ID, sn.ID) {
					ip.PrivateIPAddress = o.Properties.PrivateIPAddress
				}
			}
		}
		if err := s.assignPrivateIP(t, vnet, prefix, ic.ID, &ip.PrivateIPAddress, ip.PrivateIPAllocationMethod, path.Child("privateIPAddress"), &errs); err != nil {
			return nil, err
		}
		u := nicUse{subnet: sn.ID, vnet: vnet.ID}
		u.addr, _ = netip.ParseAddr(ip.PrivateIPAddress)
		if pr := ip.PublicIPAddress; pr != nil && pr.ID != "" {
			pref, ok := parseRef(pr.ID, network.TypePublicIPAddress, path.Child("publicIPAddress", "id"), &errs)
			if ok {
				pip, found, err := s.loadPIP(t, pref)
				if err != nil {
					return nil, err
				}
				switch {
				case !found:
					errs.Append(invalidRef(pr.ID, ic.ID, path.Child("publicIPAddress", "id")))
				case pip.Properties.IPConfiguration != nil && !arm.SameID(pip.Properties.IPConfiguration.ID, ic.ID):
					errs.Add("PublicIPAddressInUse", path.Child("publicIPAddress", "id"), "Resource %s is referenced by %s and cannot be used by %s at the same time.", pip.ID, pip.Properties.IPConfiguration.ID, ic.ID)
				default:
					pr.ID = pip.ID
					u.pip = pip.ID
				}
			}
		}
		seenPools := map[string]bool{}
		for j, pr := range ip.LoadBalancerBackendAddressPools {
			pp := path.Child("loadBalancerBackendAddressPools").Index(j).Child("id")
			pref, ok := parseRef(pr.ID, network.TypeBackendPool, pp, &errs)
			if !ok {
				continue
			}
			if seenPools[pref.Key()] {
				errs.Append(cannotParse(arm.BadRequest("DuplicateIpConfigurationReferenceOnBackendAddressPool", "IP configuration %s references backend address pool %s more than once.", ic.ID, pr.ID).WithTarget(pp.String())))
				continue
			}
			seenPools[pref.Key()] = true
			lb, found, err := s.loadLB(t, pref.Root())
			if err != nil {
				return nil, err
			}
			var pool *network.BackendAddressPool
			if found {
				if v, ok := childOf(lb, "backendAddressPools", pref.Name()); ok {
					pool = v.(*network.BackendAddressPool)
				}
			}
			if pool == nil {
				errs.Append(invalidRef(pr.ID, ic.ID, pp))
				continue
			}
			if len(pool.Properties.LoadBalancerBackendAddresses) > 0 {
				errs.Add("BackendAddressPoolCannotMixNicAndIpMembers", pp, "Backend address pool %s lists IP addresses and cannot also have network interface members; a pool is either NIC-based or IP-based.", pool.ID)
				continue
			}
			for _, r := range lb.Properties.LoadBalancingRules {
				if r.Properties.BackendAddressPool != nil && arm.SameID(r.Properties.BackendAddressPool.ID, pool.ID) {
					rulesOnNIC++
				}
			}
			pr.ID = pool.ID
			u.pools = append(u.pools, pool.ID)
		}
		for j, nr := range ip.LoadBalancerInboundNATRules {
			pp := path.Child("loadBalancerInboundNatRules").Index(j).Child("id")
			rref, ok := parseRef(nr.ID, network.TypeInboundNATRule, pp, &errs)
			if !ok {
				continue
			}
			lb, found, err := s.loadLB(t, rref.Root())
			if err != nil {
				return nil, err
			}
			var rule *network.InboundNATRule
			if found {
				if v, ok := childOf(lb, "inboundNatRules", rref.Name()); ok {
					rule = v.(*network.InboundNATRule)
				}
			}
			if rule == nil {
				errs.Append(invalidRef(nr.ID, ic.ID, pp))
				continue
			}
			if rule.Properties.BackendAddressPool != nil && rule.Properties.BackendAddressPool.ID != "" {
				errs.Add("InboundNatRuleV2CannotBeReferencedByIpConfiguration", pp, "Inbound NAT rule %s targets a backend pool and cannot be referenced by IP configuration %s.", rule.ID, ic.ID)
				continue
			}
			if h := rule.Properties.BackendIPConfiguration; h != nil && !arm.SameID(h.ID, ic.ID) {
				errs.Add("InboundNatRuleAlreadyInUse", pp, "Inbound NAT rule %s is already used by IP configuration %s and cannot be used by %s.", rule.ID, h.ID, ic.ID)
				continue
			}
			rulesOnNIC++
			nr.ID = rule.ID
			u.nats = append(u.nats, rule.ID)
		}
		for j, np := range ip.LoadBalancerInboundNATPools {
			pp := path.Child("loadBalancerInboundNatPools").Index(j).Child("id")
			pref, ok := parseRef(np.ID, network.TypeInboundNATPool, pp, &errs)
			if !ok {
				continue
			}
			lb, found, err := s.loadLB(t, pref.Root())
			if err != nil {
				return nil, err
			}
			var pool *network.InboundNATPool
			if found {
				for _, x := range lb.Properties.InboundNATPools {
					if strings.EqualFold(x.Name, pref.Name()) {
						pool = x
					}
				}
			}
			if pool == nil {
				errs.Append(invalidRef(np.ID, ic.ID, pp))
				continue
			}
			rulesOnNIC++
			np.ID = pool.ID
			u.natPools = append(u.natPools, pool.ID)
		}
		uses[i] = u
	}
	if rulesOnNIC > maxRulesPerNIC {
		errs.Add("LoadBalancerRuleCountLimitReachedForNic", props.Child("ipConfigurations"), "Network interface %s is used by %d load balancer rules; the limit is %d.", n.ID, rulesOnNIC, maxRulesPerNIC)
	}
	if e := errs.ToError(); e != nil {
		return nil, e
	}
	// Release what the stored version held and this one does not.
	if existing != nil {
		if err := s.releaseNIC(t, existing, cfgs, uses); err != nil {
			return nil, err
		}
	}
	for i, ic := range cfgs {
		u := uses[i]
		t.addRef(u.subnet, ic.ID)
		for _, p := range u.pools {
			t.addRef(p, ic.ID)
		}
		for _, p := range u.natPools {
			t.addRef(p, ic.ID)
		}
		if u.pip != "" {
			if err := s.setPIPHolder(t, u.pip, "", ic.ID); err != nil {
				return nil, err
			}
		}
		for _, r := range u.nats {
			if err := s.setNATHolder(t, r, ic.ID); err != nil {
				return nil, err
			}
		}
	}
	return s.finishPut(t, c, resKey(c.ID), n, exists, n.Location)
}

// releaseNIC drops the back-references and addresses of the stored NIC old
// that the new configuration (cfgs/uses; nil for a delete) does not keep.
func (s *Service) releaseNIC(t *txn, old *network.NetworkInterface, cfgs []*network.NICIPConfiguration, uses []nicUse) error {
	kept := func(icID string) *nicUse {
		for i, ic := range cfgs {
			if arm.SameID(ic.ID, icID) {
				return &uses[i]
			}
		}
		return nil
	}
	for _, oc := range old.Properties.IPConfigurations {
		op := oc.Properties
		now := kept(oc.ID)
		if op.Subnet != nil && op.Subnet.ID != "" {
			if now == nil || !arm.SameID(now.subnet, op.Subnet.ID) {
				t.del(refKey(op.Subnet.ID, oc.ID))
			}
			if a, err := netip.ParseAddr(op.PrivateIPAddress); err == nil {
				if now == nil || now.addr != a || !arm.SameID(now.subnet, op.Subnet.ID) {
					if sid, err := arm.ParseResourceID(op.Subnet.ID); err == nil {
						if err := t.releaseIP(sid.Root().String(), a, oc.ID); err != nil {
							return err
						}
					}
				}
			}
		}
		for _, p := range op.LoadBalancerBackendAddressPools {
			if now == nil || !containsID(now.pools, p.ID) {
				t.del(refKey(p.ID, oc.ID))
			}
		}
		for _, p := range op.LoadBalancerInboundNATPools {
			if now == nil || !containsID(now.natPools, p.ID) {
				t.del(refKey(p.ID, oc.ID))
			}
		}
		if pr := op.PublicIPAddress; pr != nil && pr.ID != "" && (now == nil || !arm.SameID(now.pip, pr.ID)) {
			if err := s.setPIPHolder(t, pr.ID, oc.ID, ""); err != nil {
				return err
			}
		}
		for _, r := range op.LoadBalancerInboundNATRules {
			if now == nil || !containsID(now.nats, r.ID) {
				if err := s.clearNATHolder(t, r.ID, oc.ID); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func containsID(ids []string, id string) bool {
	for _, x := range ids {
		if arm.SameID(x, id) {
			return true
		}
	}
	return false
}

// setNATHolder records ipconfig as the target of a v1 NAT rule.
func (s *Service) setNATHolder(t *txn, ruleID, ipconfig string) error {
	return s.editNAT(t, ruleID, func(r *network.InboundNATRule) bool {
		if h := r.Properties.BackendIPConfiguration; h != nil && arm.SameID(h.ID, ipconfig) {
			return false
		}
		r.Properties.BackendIPConfiguration = &network.IPConfigurationRef{ID: ipconfig}
		return true
	})
}

func (s *Service) clearNATHolder(t *txn, ruleID, ipconfig string) error {
	return s.editNAT(t, ruleID, func(r *network.InboundNATRule) bool {
		if h := r.Properties.BackendIPConfiguration; h == nil || !arm.SameID(h.ID, ipconfig) {
			return false
		}
		r.Properties.BackendIPConfiguration = nil
		return true
	})
}

func (s *Service) editNAT(t *txn, ruleID string, edit func(*network.InboundNATRule) bool) error {
	rid, err := arm.ParseResourceID(ruleID)
	if err != nil {
		return nil
	}
	lb, ok, err := s.loadLB(t, rid.Root())
	if err != nil || !ok {
		return err
	}
	v, ok := childOf(lb, "inboundNatRules", rid.Name())
	if !ok {
		return nil
	}
	if !edit(v.(*network.InboundNATRule)) {
		return nil
	}
	return t.putJSON(resKey(rid.Root()), lb)
}

func (s *Service) deleteNIC(t *txn, id arm.ResourceID, n *network.NetworkInterface) error {
	if vm := n.Properties.VirtualMachine; vm != nil && vm.ID != "" {
		return arm.BadRequest("NicInUse", "Network Interface %s is used by existing resource %s. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.", n.ID, vm.ID)
	}
	if err := s.releaseNIC(t, n, nil, nil); err != nil {
		return err
	}
	t.del(resKey(id))
	return nil
}

// fillNICDNS gives a NIC the dnsSettings Azure always returns:
// dnsServers (as sent, or []) and appliedDnsServers (the NIC's servers).
func fillNICDNS(n *network.NetworkInterface) {
	dns := map[string]any{}
	if len(n.Properties.DNSSettings) > 0 {
		if err := json.Unmarshal(n.Properties.DNSSettings, &dns); err != nil || dns == nil {
			dns = map[string]any{}
		}
	}
	servers, ok := dns["dnsServers"].([]any)
	if !ok {
		servers = []any{}
	}
	dns["dnsServers"] = servers
	dns["appliedDnsServers"] = servers
	if b, err := json.Marshal(dns); err == nil {
		n.Properties.DNSSettings = b
	}
}
