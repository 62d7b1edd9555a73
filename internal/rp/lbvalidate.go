package rp

import (
	"net/netip"
	"strings"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/arm/field"
	"github.com/paddock-lb/paddock/internal/resources/network"
)

// Limits from Azure's load balancer service limits.
const (
	maxRulesStandard     = 1500
	maxRulesBasic        = 250
	maxFrontendsStandard = 600
	maxFrontendsBasic    = 200
	maxOutboundRules     = 600
	maxPoolMembers       = 5000
	maxPoolMembersBasic  = 300
	maxRulesPerNIC       = 300
)

// HTTP probes may not use these ports (Azure docs).
var forbiddenProbePorts = map[int32]bool{19: true, 21: true, 25: true, 70: true, 110: true, 119: true, 143: true, 220: true, 993: true}

type lbCheck struct {
	lb     *network.LoadBalancer
	sku    string
	api    arm.APIVersion
	errs   field.ErrorList
	lbID   arm.ResourceID
	byName map[string]map[string]int // collection -> lower name -> index
}

func isStandard(sku string) bool { return !strings.EqualFold(sku, "Basic") }

// validateLB runs the checks that need nothing but the body. It assumes
// normalizeLB ran (children have ids).
func validateLB(lb *network.LoadBalancer, lbID arm.ResourceID, api arm.APIVersion) field.ErrorList {
	c := &lbCheck{lb: lb, lbID: lbID, api: api, byName: map[string]map[string]int{}}
	c.sku = lb.SKU.Name
	p := lb.Properties
	props := field.NewPath("properties")
	if lb.Location == "" {
		c.errs.Add(arm.CodeLocationRequired, field.NewPath("location"), "The location property is required for this definition.")
	}
	switch strings.ToLower(c.sku) {
	case "basic", "standard", "gateway":
	default:
		c.errs.Add(arm.CodeInvalidParameter, field.NewPath("sku", "name"), "Load balancer SKU '%s' is not supported. Supported values are Basic, Standard and Gateway.", c.sku)
	}
	if lb.SKU.Tier != "" && !strings.EqualFold(lb.SKU.Tier, "Regional") && !strings.EqualFold(lb.SKU.Tier, "Global") {
		c.errs.Add(arm.CodeInvalidParameter, field.NewPath("sku", "tier"), "Load balancer SKU tier '%s' is not supported. Supported values are Regional and Global.", lb.SKU.Tier)
	}
	c.names("frontendIPConfigurations", len(p.FrontendIPConfigurations), func(i int) string { return p.FrontendIPConfigurations[i].Name })
	c.names("backendAddressPools", len(p.BackendAddressPools), func(i int) string { return p.BackendAddressPools[i].Name })
	c.names("loadBalancingRules", len(p.LoadBalancingRules), func(i int) string { return p.LoadBalancingRules[i].Name })
	c.names("probes", len(p.Probes), func(i int) string { return p.Probes[i].Name })
	c.names("inboundNatRules", len(p.InboundNATRules), func(i int) string { return p.InboundNATRules[i].Name })
	c.names("inboundNatPools", len(p.InboundNATPools), func(i int) string { return p.InboundNATPools[i].Name })
	c.names("outboundRules", len(p.OutboundRules), func(i int) string { return p.OutboundRules[i].Name })

	if len(p.FrontendIPConfigurations) == 0 && (len(p.LoadBalancingRules)+len(p.InboundNATRules)+len(p.InboundNATPools)+len(p.OutboundRules)+len(p.Probes) > 0) {
		c.errs.Add("LoadBalancerWithoutFrontendIPCantHaveChildResources", props, "Load balancer %s does not have a frontend IP configuration, so it cannot have load balancing rules, probes, inbound NAT rules or pools, or outbound rules.", lbID)
	}
	maxFE, maxRules, maxMembers := maxFrontendsStandard, maxRulesStandard, maxPoolMembers
	if !isStandard(c.sku) {
		maxFE, maxRules, maxMembers = maxFrontendsBasic, maxRulesBasic, maxPoolMembersBasic
	}
	if len(p.FrontendIPConfigurations) > maxFE {
		c.errs.Add("LoadBalancerFrontendIPConfigurationsLimitReached", props.Child("frontendIPConfigurations"), "Load balancer %s has %d frontend IP configurations; the limit is %d.", lbID, len(p.FrontendIPConfigurations), maxFE)
	}
	if n := len(p.LoadBalancingRules) + len(p.InboundNATRules); n > maxRules {
		c.errs.Add("LoadBalancerRulesLimitReached", props.Child("loadBalancingRules"), "Load balancer %s has %d load balancing and inbound NAT rules; the limit is %d.", lbID, n, maxRules)
	}
	if len(p.OutboundRules) > maxOutboundRules {
		c.errs.Add("LoadBalancerOutboundRulesLimitReached", props.Child("outboundRules"), "Load balancer %s has %d outbound rules; the limit is %d.", lbID, len(p.OutboundRules), maxOutboundRules)
	}
	for i, fe := range p.FrontendIPConfigurations {
		c.frontend(i, fe)
	}
	for i, pool := range p.BackendAddressPools {
		c.pool(i, pool, maxMembers)
	}
	for i, pr := range p.Probes {
		c.probe(i, pr)
	}
	for i, r := range p.LoadBalancingRules {
		c.rule(i, r)
	}
	for i, r := range p.InboundNATRules {
		c.natRule(i, r)
	}
	for i, np := range p.InboundNATPools {
		c.natPool(i, np)
	}
	for i, o := range p.OutboundRules {
		c.outbound(i, o)
	}
	c.frontendPorts()
	c.backendPorts()
	return c.errs
}

func (c *lbCheck) names(coll string, n int, name func(int) string) {
	m := map[string]int{}
	c.byName[coll] = m
	for i := 0; i < n; i++ {
		nm := name(i)
		p := field.NewPath("properties", coll).Index(i).Child("name")
		if !validName(nm) {
			c.errs.Add(arm.CodeInvalidResourceName, p, "Resource name '%s' in %s of load balancer %s is invalid. The name can be up to 80 characters long, must begin with a word character and end with a word character or '_'.", nm, coll, c.lbID)
			continue
		}
		if _, dup := m[strings.ToLower(nm)]; dup {
			c.errs.Add("DuplicateResourceName", p, "Load balancer %s has two %s with the same name %s.", c.lbID, coll, nm)
			continue
		}
		m[strings.ToLower(nm)] = i
	}
}

// localRef checks that ref points at a child of this load balancer in the
// given collection and returns its index.
func (c *lbCheck) localRef(ref *network.SubResource, coll string, p field.Path, referrer string) (int, bool) {
	if ref == nil || ref.ID == "" {
		return -1, false
	}
	id, err := arm.ParseResourceID(ref.ID)
	if err != nil || id.Namespace == "" {
		c.errs.Append(malformedRef(ref.ID, p))
		return -1, false
	}
	if !id.IsType(network.TypeLoadBalancer + "/" + coll) {
		c.errs.Append(wrongRefType(ref.ID, "loadBalancers/"+coll, p))
		return -1, false
	}
	if !id.Root().Equal(c.lbID) {
		c.errs.Append(invalidRef(ref.ID, referrer, p).WithTarget(p.String()))
		return -1, false
	}
	i, ok := c.byName[coll][strings.ToLower(id.Name())]
	if !ok {
		c.errs.Append(invalidRef(ref.ID, referrer, p))
		return -1, false
	}
	return i, true
}

func (c *lbCheck) frontend(i int, fe *network.FrontendIPConfiguration) {
	p := field.NewPath("properties", "frontendIPConfigurations").Index(i).Child("properties")
	fp := fe.Properties
	kinds := 0
	if fp.Subnet != nil && fp.Subnet.ID != "" {
		kinds++
	}
	if fp.PublicIPAddress != nil && fp.PublicIPAddress.ID != "" {
		kinds++
	}
	if fp.PublicIPPrefix != nil && fp.PublicIPPrefix.ID != "" {
		kinds++
		c.errs.Add("PublicIPPrefixNotSupported", p.Child("publicIPPrefix"), "Frontend IP configuration %s references a public IP prefix; Paddock does not support public IP prefixes.", fe.ID)
	}
	switch {
	case kinds == 0:
		c.errs.Add("FrontendIPConfigurationMustReferenceSubnetOrPublicIP", p, "Frontend IP configuration %s must reference either a subnet or a public IP address.", fe.ID)
	case kinds > 1:
		c.errs.Add("FrontendIPConfigurationCannotReferenceBothSubnetAndPublicIP", p, "Frontend IP configuration %s cannot reference both a subnet and a public IP address.", fe.ID)
	}
	if strings.EqualFold(c.sku, "Gateway") && fp.PublicIPAddress != nil {
		c.errs.Add("GatewayLoadBalancerFrontendMustBePrivate", p.Child("publicIPAddress"), "Frontend IP configuration %s of a Gateway load balancer must be private.", fe.ID)
	}
	switch strings.ToLower(fp.PrivateIPAllocationMethod) {
	case "", "dynamic":
	case "static":
		if fp.Subnet == nil {
			break
		}
		if fp.PrivateIPAddress == "" {
			c.errs.Add("PrivateIPAddressRequired", p.Child("privateIPAddress"), "Frontend IP configuration %s has a Static allocation method but no private IP address.", fe.ID)
		} else if _, err := netip.ParseAddr(fp.PrivateIPAddress); err != nil {
			c.errs.Add("InvalidPrivateIPAddressFormat", p.Child("privateIPAddress"), "Private IP address '%s' of %s is not a valid IP address.", fp.PrivateIPAddress, fe.ID)
		}
	default:
		c.errs.Add(arm.CodeInvalidParameter, p.Child("privateIPAllocationMethod"), "Value '%s' is not valid for privateIPAllocationMethod. Supported values are Static and Dynamic.", fp.PrivateIPAllocationMethod)
	}
	switch strings.ToLower(fp.PrivateIPAddressVersion) {
	case "", "ipv4", "ipv6":
	default:
		c.errs.Add(arm.CodeInvalidParameter, p.Child("privateIPAddressVersion"), "Value '%s' is not valid for privateIPAddressVersion. Supported values are IPv4 and IPv6.", fp.PrivateIPAddressVersion)
	}
	if len(fe.Zones) > 0 && !isStandard(c.sku) {
		c.errs.Add("ZonesNotSupportedForBasicSku", field.NewPath("properties", "frontendIPConfigurations").Index(i).Child("zones"), "Frontend IP configuration %s specifies zones, which Basic load balancers do not support.", fe.ID)
	}
}

func (c *lbCheck) pool(i int, pool *network.BackendAddressPool, maxMembers int) {
	p := field.NewPath("properties", "backendAddressPools").Index(i).Child("properties")
	addrs := pool.Properties.LoadBalancerBackendAddresses
	if len(addrs) == 0 {
		return
	}
	if !isStandard(c.sku) {
		c.errs.Add("IPBasedBackendPoolNotSupportedForBasicSku", p.Child("loadBalancerBackendAddresses"), "Backend address pool %s lists IP addresses, which only Standard load balancers support.", pool.ID)
		return
	}
	if len(addrs) > maxMembers {
		c.errs.Add("LoadBalancerBackendAddressPoolSizeLimitReached", p.Child("loadBalancerBackendAddresses"), "Backend address pool %s has %d addresses; the limit is %d.", pool.ID, len(addrs), maxMembers)
		return
	}
	vnet := ""
	if pool.Properties.VirtualNetwork != nil {
		vnet = arm.IDKey(pool.Properties.VirtualNetwork.ID)
	}
	names := make(map[string]bool, len(addrs))
	ips := make(map[netip.Addr]bool, len(addrs))
	for j, a := range addrs {
		ap := p.Child("loadBalancerBackendAddresses").Index(j)
		if a == nil {
			c.errs.Add(arm.CodeInvalidRequestFormat, ap, "Backend address must be an object.")
			continue
		}
		if a.Name != "" {
			if names[strings.ToLower(a.Name)] {
				c.errs.Add("DuplicateBackendAddressName", ap.Child("name"), "Backend address pool %s has two addresses named %s.", pool.ID, a.Name)
			}
			names[strings.ToLower(a.Name)] = true
		}
		pp := ap.Child("properties")
		if a.Properties.LoadBalancerFrontendIPConfiguration != nil {
			continue // global tier member
		}
		ip, err := netip.ParseAddr(a.Properties.IPAddress)
		if err != nil {
			c.errs.Add("InvalidIPAddressFormat", pp.Child("ipAddress"), "Backend address %s of pool %s has an invalid IP address '%s'.", a.Name, pool.ID, a.Properties.IPAddress)
			continue
		}
		if ips[ip] {
			c.errs.Add("DuplicateIpAddressOnBackendAddressPool", pp.Child("ipAddress"), "Backend address pool %s lists IP address %s more than once.", pool.ID, ip)
		}
		ips[ip] = true
		v := ""
		switch {
		case a.Properties.VirtualNetwork != nil && a.Properties.VirtualNetwork.ID != "":
			id, ok := parseRef(a.Properties.VirtualNetwork.ID, network.TypeVirtualNetwork, pp.Child("virtualNetwork", "id"), &c.errs)
			if !ok {
				continue
			}
			v = id.Key()
		case a.Properties.Subnet != nil && a.Properties.Subnet.ID != "":
			id, ok := parseRef(a.Properties.Subnet.ID, network.TypeSubnet, pp.Child("subnet", "id"), &c.errs)
			if !ok {
				continue
			}
			v = id.Root().Key()
		case vnet != "":
			v = vnet
		default:
			c.errs.Add("BackendAddressVirtualNetworkRequired", pp.Child("virtualNetwork"), "Backend address %s of pool %s must reference a virtual network (properties.virtualNetwork.id).", a.Name, pool.ID)
			continue
		}
		if vnet == "" {
			vnet = v
		} else if v != vnet {
			c.errs.Add("BackendAddressPoolCannotSpanVirtualNetworks", pp.Child("virtualNetwork"), "Backend address %s of pool %s is in a different virtual network than the pool's other members; a backend pool can contain addresses of one virtual network only.", a.Name, pool.ID)
		}
	}
	if d := pool.Properties.DrainPeriodInSeconds; d != nil && (*d < 0 || *d > 3600) {
		c.errs.Add(arm.CodeInvalidParameter, p.Child("drainPeriodInSeconds"), "drainPeriodInSeconds of pool %s must be between 0 and 3600.", pool.ID)
	}
}

func (c *lbCheck) probe(i int, pr *network.Probe) {
	p := field.NewPath("properties", "probes").Index(i).Child("properties")
	pp := pr.Properties
	switch strings.ToLower(pp.Protocol) {
	case "tcp":
		if pp.RequestPath != "" {
			c.errs.Add("ProbeRequestPathNotAllowedForTcp", p.Child("requestPath"), "Probe %s uses protocol Tcp and cannot have a request path.", pr.ID)
		}
	case "http", "https":
		if pp.RequestPath == "" {
			c.errs.Add("ProbeRequestPathRequired", p.Child("requestPath"), "Probe %s uses protocol %s and must have a request path.", pr.ID, pp.Protocol)
		}
		if strings.EqualFold(pp.Protocol, "https") && !isStandard(c.sku) {
			c.errs.Add("HttpsProbeNotSupportedForBasicSku", p.Child("protocol"), "Probe %s uses protocol Https, which only Standard load balancers support.", pr.ID)
		}
		if pp.Port != nil && forbiddenProbePorts[*pp.Port] {
			c.errs.Add("ProbePortNotAllowed", p.Child("port"), "Probe %s cannot use port %d for HTTP(S) probing.", pr.ID, *pp.Port)
		}
	case "":
		c.errs.Add(arm.CodeInvalidRequestContent, p.Child("protocol"), "Probe %s must specify a protocol (Tcp, Http or Https).", pr.ID)
	default:
		c.errs.Add(arm.CodeInvalidParameter, p.Child("protocol"), "Value '%s' is not valid for the protocol of probe %s. Supported values are Tcp, Http and Https.", pp.Protocol, pr.ID)
	}
	if pp.Port == nil {
		c.errs.Add(arm.CodeInvalidRequestContent, p.Child("port"), "Probe %s must specify a port.", pr.ID)
	} else if *pp.Port < 1 || *pp.Port > 65535 {
		c.errs.Add("InvalidProbePort", p.Child("port"), "Port %d of probe %s is invalid. Valid ports are 1 to 65535.", *pp.Port, pr.ID)
	}
	if v := pp.IntervalInSeconds; v != nil && (*v < 5 || *v > 2147483646) {
		c.errs.Add("InvalidProbeInterval", p.Child("intervalInSeconds"), "intervalInSeconds %d of probe %s is invalid; the minimum is 5 seconds.", *v, pr.ID)
	}
	if v := pp.NumberOfProbes; v != nil && *v < 1 {
		c.errs.Add("InvalidNumberOfProbes", p.Child("numberOfProbes"), "numberOfProbes %d of probe %s is invalid; it must be at least 1.", *v, pr.ID)
	}
	if v := pp.ProbeThreshold; v != nil && (*v < 1 || *v > 100) {
		c.errs.Add("InvalidProbeThreshold", p.Child("probeThreshold"), "probeThreshold %d of probe %s is invalid; it must be between 1 and 100.", *v, pr.ID)
	}
	switch strings.ToLower(pp.NoHealthyBackendsBehavior) {
	case "", "allprobeddown", "allprobedup":
	default:
		c.errs.Add(arm.CodeInvalidParameter, p.Child("noHealthyBackendsBehavior"), "Value '%s' is not valid for noHealthyBackendsBehavior. Supported values are AllProbedDown and AllProbedUp.", pp.NoHealthyBackendsBehavior)
	}
}

func (c *lbCheck) protocol(proto string, p field.Path, id string, allowAll bool) {
	switch strings.ToLower(proto) {
	case "tcp", "udp":
	case "all":
		if !allowAll {
			c.errs.Add(arm.CodeInvalidParameter, p, "Protocol All is not valid for %s.", id)
		}
	case "quic":
		if !c.api.AtLeast("2026-01-01") {
			c.errs.Add(arm.CodeInvalidParameter, p, "Value 'Quic' is not valid for protocol of %s in api-version %s.", id, c.api)
		}
	case "":
		c.errs.Add(arm.CodeInvalidRequestContent, p, "%s must specify a protocol.", id)
	default:
		c.errs.Add(arm.CodeInvalidParameter, p, "Value '%s' is not valid for protocol of %s. Supported values are Tcp, Udp and All.", proto, id)
	}
}

func (c *lbCheck) idleTimeout(v *int32, p field.Path, id string, max int32) {
	if v == nil {
		return
	}
	if !isStandard(c.sku) && max > 30 {
		max = 30
	}
	if *v < 4 || *v > max {
		c.errs.Add("InvalidIdleTimeoutInMinutes", p, "Idle timeout %d of %s is invalid. The idle timeout must be between 4 and %d minutes.", *v, id, max)
	}
}

func (c *lbCheck) rule(i int, r *network.LoadBalancingRule) {
	p := field.NewPath("properties", "loadBalancingRules").Index(i).Child("properties")
	rp := r.Properties
	c.protocol(rp.Protocol, p.Child("protocol"), r.ID, true)
	if rp.FrontendIPConfiguration == nil || rp.FrontendIPConfiguration.ID == "" {
		c.errs.Add(arm.CodeInvalidRequestContent, p.Child("frontendIPConfiguration"), "Load balancing rule %s must reference a frontend IP configuration.", r.ID)
	} else {
		c.localRef(rp.FrontendIPConfiguration, "frontendIPConfigurations", p.Child("frontendIPConfiguration", "id"), r.ID)
	}
	if rp.BackendAddressPool != nil && rp.BackendAddressPool.ID != "" {
		c.localRef(rp.BackendAddressPool, "backendAddressPools", p.Child("backendAddressPool", "id"), r.ID)
	}
	for j := range rp.BackendAddressPools {
		c.localRef(&rp.BackendAddressPools[j], "backendAddressPools", p.Child("backendAddressPools").Index(j).Child("id"), r.ID)
	}
	if rp.Probe != nil && rp.Probe.ID != "" {
		c.localRef(rp.Probe, "probes", p.Child("probe", "id"), r.ID)
	}
	if rp.FrontendPort == nil {
		c.errs.Add(arm.CodeInvalidRequestContent, p.Child("frontendPort"), "Load balancing rule %s must specify a frontend port.", r.ID)
	} else if *rp.FrontendPort < 0 || *rp.FrontendPort > 65534 {
		c.errs.Add("InvalidFrontendPort", p.Child("frontendPort"), "Frontend port %d of load balancing rule %s is invalid. Valid ports are 0 (all ports, with protocol All) to 65534.", *rp.FrontendPort, r.ID)
	}
	if rp.BackendPort != nil && (*rp.BackendPort < 0 || *rp.BackendPort > 65535) {
		c.errs.Add("InvalidBackendPort", p.Child("backendPort"), "Backend port %d of load balancing rule %s is invalid. Valid ports are 0 to 65535.", *rp.BackendPort, r.ID)
	}
	ha := strings.EqualFold(rp.Protocol, "All") && deref(rp.FrontendPort, -1) == 0
	if strings.EqualFold(rp.Protocol, "All") && !ha && !strings.EqualFold(c.sku, "Gateway") {
		c.errs.Add("LoadBalancingRuleWithProtocolAllMustUseAllPorts", p.Child("frontendPort"), "Load balancing rule %s uses protocol All, which requires frontend port 0 and backend port 0 (HA ports).", r.ID)
	}
	if !strings.EqualFold(rp.Protocol, "All") && (deref(rp.FrontendPort, 1) == 0 || deref(rp.BackendPort, 1) == 0) {
		c.errs.Add("LoadBalancingRulePortZeroRequiresProtocolAll", p.Child("frontendPort"), "Load balancing rule %s uses port 0, which is only valid with protocol All (HA ports).", r.ID)
	}
	if ha {
		if !isStandard(c.sku) {
			c.errs.Add("HaPortsRuleNotSupportedForBasicSku", p, "Load balancing rule %s is an HA ports rule, which only Standard internal load balancers support.", r.ID)
		}
		if deref(rp.BackendPort, 0) != 0 {
			c.errs.Add("HaPortsRuleMustUseBackendPortZero", p.Child("backendPort"), "HA ports rule %s must use backend port 0.", r.ID)
		}
		if fi, ok := c.byName["frontendIPConfigurations"][strings.ToLower(refName(rp.FrontendIPConfiguration))]; ok {
			if fe := c.lb.Properties.FrontendIPConfigurations[fi]; fe.Properties.PublicIPAddress != nil {
				c.errs.Add("HaPortsRuleNotSupportedOnPublicFrontend", p.Child("frontendIPConfiguration"), "HA ports rule %s references public frontend %s; HA ports rules are supported on internal frontends only.", r.ID, fe.ID)
			}
		}
	}
	c.idleTimeout(rp.IdleTimeoutInMinutes, p.Child("idleTimeoutInMinutes"), r.ID, 100)
	switch strings.ToLower(rp.LoadDistribution) {
	case "", "default", "sourceip", "sourceipprotocol":
	default:
		c.errs.Add(arm.CodeInvalidParameter, p.Child("loadDistribution"), "Value '%s' is not valid for loadDistribution of %s. Supported values are Default, SourceIP and SourceIPProtocol.", rp.LoadDistribution, r.ID)
	}
	if deref(rp.EnableTCPReset, false) && !isStandard(c.sku) {
		c.errs.Add("TcpResetNotSupportedForBasicSku", p.Child("enableTcpReset"), "Load balancing rule %s enables TCP reset, which only Standard load balancers support.", r.ID)
	}
}

func refName(r *network.SubResource) string {
	if r == nil {
		return ""
	}
	id, err := arm.ParseResourceID(r.ID)
	if err != nil {
		return ""
	}
	return id.Name()
}

func (c *lbCheck) natRule(i int, r *network.InboundNATRule) {
	p := field.NewPath("properties", "inboundNatRules").Index(i).Child("properties")
	rp := r.Properties
	c.protocol(rp.Protocol, p.Child("protocol"), r.ID, true)
	if rp.FrontendIPConfiguration == nil || rp.FrontendIPConfiguration.ID == "" {
		c.errs.Add(arm.CodeInvalidRequestContent, p.Child("frontendIPConfiguration"), "Inbound NAT rule %s must reference a frontend IP configuration.", r.ID)
	} else {
		c.localRef(rp.FrontendIPConfiguration, "frontendIPConfigurations", p.Child("frontendIPConfiguration", "id"), r.ID)
	}
	v2 := rp.BackendAddressPool != nil && rp.BackendAddressPool.ID != ""
	if v2 {
		c.localRef(rp.BackendAddressPool, "backendAddressPools", p.Child("backendAddressPool", "id"), r.ID)
		s, e := deref(rp.FrontendPortRangeStart, 0), deref(rp.FrontendPortRangeEnd, 0)
		if rp.FrontendPortRangeStart == nil || rp.FrontendPortRangeEnd == nil {
			c.errs.Add(arm.CodeInvalidRequestContent, p.Child("frontendPortRangeStart"), "Inbound NAT rule %s targets a backend pool and must specify frontendPortRangeStart and frontendPortRangeEnd.", r.ID)
		} else if s < 1 || e > 65534 || s > e {
			c.errs.Add("InvalidFrontendPortRange", p.Child("frontendPortRangeStart"), "Frontend port range %d-%d of inbound NAT rule %s is invalid. Ports must be between 1 and 65534 and the start must not exceed the end.", s, e, r.ID)
		}
		if deref(rp.FrontendPort, 0) != 0 {
			c.errs.Add("InboundNatRuleFrontendPortAndRangeCannotBeCombined", p.Child("frontendPort"), "Inbound NAT rule %s targets a backend pool; use frontendPortRangeStart/End instead of frontendPort.", r.ID)
		}
	} else {
		if rp.FrontendPortRangeStart != nil || rp.FrontendPortRangeEnd != nil {
			c.errs.Add("InboundNatRulePortRangeRequiresBackendPool", p.Child("backendAddressPool"), "Inbound NAT rule %s specifies a frontend port range but no backend address pool.", r.ID)
		}
		if rp.FrontendPort == nil {
			c.errs.Add(arm.CodeInvalidRequestContent, p.Child("frontendPort"), "Inbound NAT rule %s must specify a frontend port.", r.ID)
		} else if *rp.FrontendPort < 1 || *rp.FrontendPort > 65534 {
			c.errs.Add("InvalidFrontendPort", p.Child("frontendPort"), "Frontend port %d of inbound NAT rule %s is invalid. Valid ports are 1 to 65534.", *rp.FrontendPort, r.ID)
		}
	}
	if rp.BackendPort == nil {
		c.errs.Add(arm.CodeInvalidRequestContent, p.Child("backendPort"), "Inbound NAT rule %s must specify a backend port.", r.ID)
	} else if *rp.BackendPort < 1 || *rp.BackendPort > 65535 {
		c.errs.Add("InvalidBackendPort", p.Child("backendPort"), "Backend port %d of inbound NAT rule %s is invalid. Valid ports are 1 to 65535.", *rp.BackendPort, r.ID)
	}
	c.idleTimeout(rp.IdleTimeoutInMinutes, p.Child("idleTimeoutInMinutes"), r.ID, 100)
	if deref(rp.EnableTCPReset, false) && !isStandard(c.sku) {
		c.errs.Add("TcpResetNotSupportedForBasicSku", p.Child("enableTcpReset"), "Inbound NAT rule %s enables TCP reset, which only Standard load balancers support.", r.ID)
	}
}

func (c *lbCheck) natPool(i int, np *network.InboundNATPool) {
	p := field.NewPath("properties", "inboundNatPools").Index(i).Child("properties")
	pp := np.Properties
	c.protocol(pp.Protocol, p.Child("protocol"), np.ID, true)
	if pp.FrontendIPConfiguration == nil || pp.FrontendIPConfiguration.ID == "" {
		c.errs.Add(arm.CodeInvalidRequestContent, p.Child("frontendIPConfiguration"), "Inbound NAT pool %s must reference a frontend IP configuration.", np.ID)
	} else {
		c.localRef(pp.FrontendIPConfiguration, "frontendIPConfigurations", p.Child("frontendIPConfiguration", "id"), np.ID)
	}
	s, e := deref(pp.FrontendPortRangeStart, 0), deref(pp.FrontendPortRangeEnd, 0)
	if pp.FrontendPortRangeStart == nil || pp.FrontendPortRangeEnd == nil {
		c.errs.Add(arm.CodeInvalidRequestContent, p.Child("frontendPortRangeStart"), "Inbound NAT pool %s must specify frontendPortRangeStart and frontendPortRangeEnd.", np.ID)
	} else if s < 1 || s > 65534 || e < 1 || e > 65535 || s > e {
		c.errs.Add("InvalidFrontendPortRange", p.Child("frontendPortRangeStart"), "Frontend port range %d-%d of inbound NAT pool %s is invalid.", s, e, np.ID)
	}
	if pp.BackendPort == nil {
		c.errs.Add(arm.CodeInvalidRequestContent, p.Child("backendPort"), "Inbound NAT pool %s must specify a backend port.", np.ID)
	} else if *pp.BackendPort < 1 || *pp.BackendPort > 65535 {
		c.errs.Add("InvalidBackendPort", p.Child("backendPort"), "Backend port %d of inbound NAT pool %s is invalid. Valid ports are 1 to 65535.", *pp.BackendPort, np.ID)
	}
	c.idleTimeout(pp.IdleTimeoutInMinutes, p.Child("idleTimeoutInMinutes"), np.ID, 100)
}

func (c *lbCheck) outbound(i int, o *network.OutboundRule) {
	p := field.NewPath("properties", "outboundRules").Index(i).Child("properties")
	op := o.Properties
	if !isStandard(c.sku) || strings.EqualFold(c.sku, "Gateway") {
		c.errs.Add("OutboundRulesNotSupportedForSku", p, "Outbound rule %s: outbound rules are supported on Standard public load balancers only.", o.ID)
	}
	c.protocol(op.Protocol, p.Child("protocol"), o.ID, true)
	if len(op.FrontendIPConfigurations) == 0 {
		c.errs.Add(arm.CodeInvalidRequestContent, p.Child("frontendIPConfigurations"), "Outbound rule %s must reference at least one frontend IP configuration.", o.ID)
	}
	for j := range op.FrontendIPConfigurations {
		if fi, ok := c.localRef(&op.FrontendIPConfigurations[j], "frontendIPConfigurations", p.Child("frontendIPConfigurations").Index(j).Child("id"), o.ID); ok {
			if fe := c.lb.Properties.FrontendIPConfigurations[fi]; fe.Properties.Subnet != nil {
				c.errs.Add("OutboundRuleCannotUsePrivateFrontend", p.Child("frontendIPConfigurations").Index(j), "Outbound rule %s references private frontend %s; outbound rules need public frontends.", o.ID, fe.ID)
			}
		}
	}
	if op.BackendAddressPool == nil || op.BackendAddressPool.ID == "" {
		c.errs.Add(arm.CodeInvalidRequestContent, p.Child("backendAddressPool"), "Outbound rule %s must reference a backend address pool.", o.ID)
	} else {
		c.localRef(op.BackendAddressPool, "backendAddressPools", p.Child("backendAddressPool", "id"), o.ID)
	}
	if v := op.AllocatedOutboundPorts; v != nil && (*v < 0 || *v%8 != 0 || *v > 64000) {
		c.errs.Add("InvalidAllocatedOutboundPorts", p.Child("allocatedOutboundPorts"), "allocatedOutboundPorts %d of outbound rule %s is invalid: it must be a multiple of 8 between 0 and 64000.", *v, o.ID)
	}
	c.idleTimeout(op.IdleTimeoutInMinutes, p.Child("idleTimeoutInMinutes"), o.ID, 120)
	for _, other := range c.lb.Properties.OutboundRules[:i] {
		for _, fa := range op.FrontendIPConfigurations {
			for _, fb := range other.Properties.FrontendIPConfigurations {
				if arm.SameID(fa.ID, fb.ID) && protoOverlap(op.Protocol, other.Properties.Protocol) {
					c.errs.Add("MoreThanOneOutboundRuleUsingSameFrontendIPConfigurationAndProtocolIsNotSupported", p.Child("frontendIPConfigurations"), "Outbound rules %s and %s use the same frontend IP configuration %s and protocol; this is not supported.", other.ID, o.ID, fa.ID)
				}
			}
		}
	}
}

func protoOverlap(a, b string) bool {
	return strings.EqualFold(a, b) || strings.EqualFold(a, "All") || strings.EqualFold(b, "All")
}

// frontendPorts checks that a (frontend, protocol, port) is claimed by one
// inbound rule only, across LB rules, NAT rules (v1 ports, v2 ranges) and NAT
// pools. Port 0 (HA ports) claims every port.
func (c *lbCheck) frontendPorts() {
	type claim struct {
		fe, proto string
		lo, hi    int32
		owner     string
		path      field.Path
	}
	// Single ports by frontend|protocol, ranges (and HA ports) by frontend:
	// linear in the number of rules.
	singles := map[string]map[int32]string{}
	ranges := map[string][]claim{}
	protos := func(p string) []string {
		if strings.EqualFold(p, "All") {
			return []string{"tcp", "udp"}
		}
		return []string{strings.ToLower(p)}
	}
	conflict := func(other, owner, fe string, p field.Path) {
		c.errs.Add("LoadBalancerFrontendPortConflict", p, "%s and %s use the same frontend IP configuration %s, protocol and frontend port; a frontend port can be used by one inbound rule only.", other, owner, fe)
	}
	add := func(fe *network.SubResource, proto string, lo, hi int32, owner string, p field.Path) {
		if fe == nil || fe.ID == "" {
			return
		}
		cl := claim{fe: arm.IDKey(fe.ID), proto: proto, lo: lo, hi: hi, owner: owner, path: p}
		if lo == 0 {
			cl.lo, cl.hi = 0, 65535
		}
		for _, o := range ranges[cl.fe] {
			if protoOverlap(o.proto, cl.proto) && o.lo <= cl.hi && cl.lo <= o.hi {
				conflict(o.owner, owner, fe.ID, p)
				return
			}
		}
		for _, pr := range protos(proto) {
			m := singles[cl.fe+"|"+pr]
			if cl.lo == cl.hi {
				if o, ok := m[cl.lo]; ok {
					conflict(o, owner, fe.ID, p)
					return
				}
				continue
			}
			for port := cl.lo; port <= cl.hi && len(m) > 0; port++ {
				if o, ok := m[port]; ok {
					conflict(o, owner, fe.ID, p)
					return
				}
			}
		}
		if cl.lo != cl.hi {
			ranges[cl.fe] = append(ranges[cl.fe], cl)
			return
		}
		for _, pr := range protos(proto) {
			k := cl.fe + "|" + pr
			if singles[k] == nil {
				singles[k] = map[int32]string{}
			}
			singles[k][cl.lo] = owner
		}
	}
	props := c.lb.Properties
	for i, r := range props.LoadBalancingRules {
		if r.Properties.FrontendPort == nil {
			continue
		}
		fp := *r.Properties.FrontendPort
		add(r.Properties.FrontendIPConfiguration, r.Properties.Protocol, fp, fp, r.ID, field.NewPath("properties", "loadBalancingRules").Index(i).Child("properties", "frontendPort"))
	}
	for i, r := range props.InboundNATRules {
		p := field.NewPath("properties", "inboundNatRules").Index(i).Child("properties")
		if r.Properties.BackendAddressPool != nil && r.Properties.BackendAddressPool.ID != "" {
			if r.Properties.FrontendPortRangeStart != nil && r.Properties.FrontendPortRangeEnd != nil {
				add(r.Properties.FrontendIPConfiguration, r.Properties.Protocol, *r.Properties.FrontendPortRangeStart, *r.Properties.FrontendPortRangeEnd, r.ID, p.Child("frontendPortRangeStart"))
			}
			continue
		}
		if r.Properties.FrontendPort != nil && *r.Properties.FrontendPort > 0 {
			fp := *r.Properties.FrontendPort
			add(r.Properties.FrontendIPConfiguration, r.Properties.Protocol, fp, fp, r.ID, p.Child("frontendPort"))
		}
	}
	for i, np := range props.InboundNATPools {
		if np.Properties.FrontendPortRangeStart != nil && np.Properties.FrontendPortRangeEnd != nil {
			add(np.Properties.FrontendIPConfiguration, np.Properties.Protocol, *np.Properties.FrontendPortRangeStart, *np.Properties.FrontendPortRangeEnd, np.ID, field.NewPath("properties", "inboundNatPools").Index(i).Child("properties", "frontendPortRangeStart"))
		}
	}
}

// backendPorts checks that two load-balancing rules without floating IP do
// not send the same protocol and backend port to the same pool.
func (c *lbCheck) backendPorts() {
	type key struct {
		pool, proto string
		port        int32
	}
	seen := map[key]*network.LoadBalancingRule{}
	for i, r := range c.lb.Properties.LoadBalancingRules {
		rp := r.Properties
		if rp.BackendPort == nil {
			continue
		}
		pools := []string{}
		if rp.BackendAddressPool != nil && rp.BackendAddressPool.ID != "" {
			pools = append(pools, arm.IDKey(rp.BackendAddressPool.ID))
		}
		for _, bp := range rp.BackendAddressPools {
			if bp.ID != "" {
				pools = append(pools, arm.IDKey(bp.ID))
			}
		}
		protos := []string{strings.ToLower(rp.Protocol)}
		if strings.EqualFold(rp.Protocol, "All") {
			protos = []string{"tcp", "udp"}
		}
		for _, pool := range pools {
			for _, proto := range protos {
				k := key{pool, proto, *rp.BackendPort}
				if o, ok := seen[k]; ok && !(deref(o.Properties.EnableFloatingIP, false) && deref(rp.EnableFloatingIP, false)) {
					c.errs.Add("RulesUseSameBackendPortProtocolAndPool", field.NewPath("properties", "loadBalancingRules").Index(i).Child("properties", "backendPort"),
						"Load balancer rules %s and %s with floating IP disabled use the same protocol %s and backend port %d, and must not be used with the same backend address pool %s.", o.ID, r.ID, rp.Protocol, *rp.BackendPort, pool)
					continue
				}
				seen[k] = r
			}
		}
	}
}
