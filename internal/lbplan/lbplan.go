// Package lbplan compiles stored load-balancer resources plus probe health
// into a data-plane configuration. Compile is a pure, deterministic
// function: the same input gives the same Plan, with no I/O, so the
// controller can recompute it on every change and hand the data plane whole
// configurations.
//
// Addresses: frontends listen on their private IP or their public IP's
// address; backends are the NIC IP configuration's private address (NIC-based
// pools) or the listed ipAddress (IP-based pools). An AddressMap translates
// virtual-network addresses to host-reachable ones for the data plane only,
// so templates written for Azure's 10.x networks run on a laptop while the
// API keeps showing Azure's addresses.
package lbplan

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/paddock-lb/paddock/internal/dataplane"
	"github.com/paddock-lb/paddock/internal/health"
	"github.com/paddock-lb/paddock/internal/resources/network"
)

// Input is what Compile reads: the load balancers (with their pools'
// backendIPConfigurations filled in) and the addresses of what they
// reference.
type Input struct {
	LoadBalancers []*network.LoadBalancer
	// IPConfigs maps a lower-cased NIC IP configuration id to its private
	// address.
	IPConfigs map[string]netip.Addr
	// PublicIPs maps a lower-cased public IP id to its address.
	PublicIPs map[string]netip.Addr
	// NATPoolMembers maps a lower-cased inbound NAT pool id to the NIC IP
	// configurations that reference it.
	NATPoolMembers map[string][]string
}

// HealthView answers the probe status of a target key; known is false
// before the first result.
type HealthView func(key string) (r health.Result, known bool)

// Plan is the compiled result.
type Plan struct {
	Config *dataplane.Config
	// Probes lists the (probe, backend) targets to watch, deduplicated.
	Probes []health.Target
	// Owners maps a listener key to the load balancer id that owns it.
	Owners map[string]string
	// Rules describes each load-balancing rule's backends (lower-cased
	// rule id → view), for the health endpoint.
	Rules map[string]*RuleView
	// Notes lists, per load balancer id, what the data plane does not do
	// faithfully (HA ports, floating IP) or could not compile.
	Notes map[string][]string
}

// RuleView is the health of one load-balancing rule's backends.
type RuleView struct {
	RuleID   string
	Backends []BackendView
}

// BackendView is one backend of a rule as the health endpoint shows it.
type BackendView struct {
	IPAddress       string // the Azure (unmapped) address
	IPConfiguration string
	AdminState      string
	Up              bool
	Reason          string
}

// Mapping translates addresses in From to the same offset in To.
type Mapping struct {
	From, To netip.Prefix
}

// AddressMap is a list of mappings; the first match applies.
type AddressMap []Mapping

// ParseMapping parses VNET_CIDR=HOST_CIDR; both prefixes must have the
// same length and address family.
func ParseMapping(s string) (Mapping, error) {
	from, to, ok := strings.Cut(s, "=")
	if !ok {
		return Mapping{}, fmt.Errorf("address map %q: want VNET_CIDR=HOST_CIDR", s)
	}
	f, err := netip.ParsePrefix(strings.TrimSpace(from))
	if err != nil {
		return Mapping{}, fmt.Errorf("address map %q: %w", s, err)
	}
	t, err := netip.ParsePrefix(strings.TrimSpace(to))
	if err != nil {
		return Mapping{}, fmt.Errorf("address map %q: %w", s, err)
	}
	if f.Bits() != t.Bits() || f.Addr().Is4() != t.Addr().Is4() {
		return Mapping{}, fmt.Errorf("address map %q: prefixes must have the same length and family", s)
	}
	return Mapping{From: f.Masked(), To: t.Masked()}, nil
}

// Host returns the host address for a, or a itself when no mapping applies.
func (m AddressMap) Host(a netip.Addr) netip.Addr {
	for _, mp := range m {
		if !mp.From.Contains(a) {
			continue
		}
		src, dst := a.AsSlice(), mp.To.Addr().AsSlice()
		bits := mp.From.Bits()
		for i := range src {
			for b := 0; b < 8; b++ {
				if i*8+b < bits {
					continue
				}
				mask := byte(0x80 >> b)
				dst[i] = dst[i]&^mask | src[i]&mask
			}
		}
		out, _ := netip.AddrFromSlice(dst)
		return out
	}
	return a
}

// ProbeKey is the health key of a (probe, backend address) pair.
func ProbeKey(probeID string, addr netip.AddrPort) string {
	return strings.ToLower(probeID) + "|" + addr.String()
}

// DefaultIdleTimeout is Azure's default idle timeout.
const DefaultIdleTimeout = 4 * time.Minute

// Compile builds the plan.
func Compile(in Input, amap AddressMap, hv HealthView) *Plan {
	p := &Plan{Config: &dataplane.Config{}, Owners: map[string]string{}, Rules: map[string]*RuleView{}, Notes: map[string][]string{}}
	probes := map[string]health.Target{}
	lbs := append([]*network.LoadBalancer(nil), in.LoadBalancers...)
	sort.Slice(lbs, func(i, j int) bool { return strings.ToLower(lbs[i].ID) < strings.ToLower(lbs[j].ID) })
	for _, lb := range lbs {
		c := &compiler{in: in, amap: amap, hv: hv, lb: lb, plan: p, probes: probes}
		c.run()
	}
	sort.Slice(p.Config.Listeners, func(i, j int) bool {
		a, b := p.Config.Listeners[i], p.Config.Listeners[j]
		if a.Addr.Addr() != b.Addr.Addr() {
			return a.Addr.Addr().Less(b.Addr.Addr())
		}
		if a.Protocol != b.Protocol {
			return a.Protocol < b.Protocol
		}
		return a.Addr.Port() < b.Addr.Port()
	})
	keys := make([]string, 0, len(probes))
	for k := range probes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p.Probes = append(p.Probes, probes[k])
	}
	return p
}

type compiler struct {
	in     Input
	amap   AddressMap
	hv     HealthView
	lb     *network.LoadBalancer
	plan   *Plan
	probes map[string]health.Target
}

func (c *compiler) note(format string, args ...any) {
	c.plan.Notes[c.lb.ID] = append(c.plan.Notes[c.lb.ID], fmt.Sprintf(format, args...))
}

// frontendAddr returns the host address a frontend listens on.
func (c *compiler) frontendAddr(feRef *network.SubResource) (netip.Addr, bool) {
	if feRef == nil {
		return netip.Addr{}, false
	}
	for _, fe := range c.lb.Properties.FrontendIPConfigurations {
		if !strings.EqualFold(fe.ID, feRef.ID) {
			continue
		}
		if pip := fe.Properties.PublicIPAddress; pip != nil && pip.ID != "" {
			a, ok := c.in.PublicIPs[strings.ToLower(pip.ID)]
			if !ok {
				c.note("frontend %s: public IP %s has no address", fe.Name, pip.ID)
				return netip.Addr{}, false
			}
			return c.amap.Host(a), true
		}
		a, err := netip.ParseAddr(fe.Properties.PrivateIPAddress)
		if err != nil {
			c.note("frontend %s has no address", fe.Name)
			return netip.Addr{}, false
		}
		return c.amap.Host(a), true
	}
	return netip.Addr{}, false
}

func (c *compiler) pool(ref *network.SubResource) *network.BackendAddressPool {
	if ref == nil {
		return nil
	}
	for _, b := range c.lb.Properties.BackendAddressPools {
		if strings.EqualFold(b.ID, ref.ID) {
			return b
		}
	}
	return nil
}

func (c *compiler) probe(ref *network.SubResource) *network.Probe {
	if ref == nil {
		return nil
	}
	for _, pr := range c.lb.Properties.Probes {
		if strings.EqualFold(pr.ID, ref.ID) {
			return pr
		}
	}
	return nil
}

// member is a pool member with its Azure and host addresses.
type member struct {
	key        string
	azure      netip.Addr
	host       netip.Addr
	ipconfig   string
	adminState string
}

// members lists a pool's members sorted by Azure address (the order NAT
// rule v2 ports are assigned in).
func (c *compiler) members(b *network.BackendAddressPool) []member {
	var out []member
	if len(b.Properties.LoadBalancerBackendAddresses) > 0 {
		for _, a := range b.Properties.LoadBalancerBackendAddresses {
			ip, err := netip.ParseAddr(a.Properties.IPAddress)
			if err != nil {
				continue
			}
			m := member{key: strings.ToLower(b.ID) + "/" + a.Name, azure: ip, host: c.amap.Host(ip), adminState: a.Properties.AdminState}
			if a.Properties.NetworkInterfaceIPConfiguration != nil {
				m.ipconfig = a.Properties.NetworkInterfaceIPConfiguration.ID
			}
			out = append(out, m)
		}
	} else {
		for _, ic := range b.Properties.BackendIPConfigurations {
			ip, ok := c.in.IPConfigs[strings.ToLower(ic.ID)]
			if !ok {
				continue
			}
			out = append(out, member{key: strings.ToLower(ic.ID), azure: ip, host: c.amap.Host(ip), ipconfig: ic.ID})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].azure.Less(out[j].azure) })
	return out
}

func protocols(p string) []dataplane.Protocol {
	switch strings.ToLower(p) {
	case "tcp":
		return []dataplane.Protocol{dataplane.TCP}
	case "udp":
		return []dataplane.Protocol{dataplane.UDP}
	case "all":
		return []dataplane.Protocol{dataplane.TCP, dataplane.UDP}
	}
	return nil
}

func distribution(s string) dataplane.Distribution {
	switch strings.ToLower(s) {
	case "sourceip":
		return dataplane.TwoTuple
	case "sourceipprotocol":
		return dataplane.ThreeTuple
	}
	return dataplane.FiveTuple
}

func minutes(p *int32) time.Duration {
	if p == nil || *p <= 0 {
		return DefaultIdleTimeout
	}
	return time.Duration(*p) * time.Minute
}

func (c *compiler) addListener(name string, addr netip.Addr, port int32, proto dataplane.Protocol, rule dataplane.Rule) {
	key := fmt.Sprintf("%s/%s/%d", strings.ToLower(name), proto, port)
	c.plan.Config.Listeners = append(c.plan.Config.Listeners, dataplane.Listener{
		Key: key, Addr: netip.AddrPortFrom(addr, uint16(port)), Protocol: proto, Rule: rule,
	})
	c.plan.Owners[key] = c.lb.ID
}

func (c *compiler) run() {
	p := c.lb.Properties
	for _, r := range p.LoadBalancingRules {
		c.rule(r)
	}
	for _, r := range p.InboundNATRules {
		c.natRule(r)
	}
	for _, np := range p.InboundNATPools {
		c.natPool(np)
	}
	if len(p.OutboundRules) > 0 {
		c.note("outbound rules are stored; the userspace data plane does not SNAT backend traffic")
	}
}

func (c *compiler) rule(r *network.LoadBalancingRule) {
	rp := r.Properties
	fport := int32(0)
	if rp.FrontendPort != nil {
		fport = *rp.FrontendPort
	}
	bport := fport
	if rp.BackendPort != nil {
		bport = *rp.BackendPort
	}
	if fport == 0 {
		c.note("rule %s: HA ports (port 0) cannot be served by the userspace data plane; the rule carries no traffic", r.Name)
		return
	}
	if rp.EnableFloatingIP != nil && *rp.EnableFloatingIP {
		c.note("rule %s: floating IP is not applied by the userspace data plane; backends receive connections addressed to their own address", r.Name)
	}
	addr, ok := c.frontendAddr(rp.FrontendIPConfiguration)
	if !ok {
		return
	}
	view := &RuleView{RuleID: r.ID}
	c.plan.Rules[strings.ToLower(r.ID)] = view
	var pools []*network.BackendAddressPool
	if b := c.pool(rp.BackendAddressPool); b != nil {
		pools = append(pools, b)
	}
	for i := range rp.BackendAddressPools {
		if b := c.pool(&rp.BackendAddressPools[i]); b != nil && (len(pools) == 0 || pools[0] != b) {
			pools = append(pools, b)
		}
	}
	pr := c.probe(rp.Probe)
	rule := dataplane.Rule{
		Name:         strings.ToLower(r.ID),
		Distribution: distribution(rp.LoadDistribution),
		IdleTimeout:  minutes(rp.IdleTimeoutInMinutes),
		TCPReset:     rp.EnableTCPReset != nil && *rp.EnableTCPReset,
	}
	if pr != nil && strings.EqualFold(pr.Properties.NoHealthyBackendsBehavior, "AllProbedUp") {
		rule.NoHealthyAllowAll = true
	}
	for _, b := range pools {
		if d := b.Properties.DrainPeriodInSeconds; d != nil && *d > 0 {
			rule.DrainPeriod = time.Duration(*d) * time.Second
		}
		for _, m := range c.members(b) {
			be := dataplane.Backend{Key: m.key, Addr: netip.AddrPortFrom(m.host, uint16(bport))}
			bv := BackendView{IPAddress: m.azure.String(), IPConfiguration: m.ipconfig, AdminState: m.adminState}
			switch {
			case strings.EqualFold(m.adminState, "Up"):
				be.Healthy, bv.Up, bv.Reason = true, true, "Up_Admin_State"
			case strings.EqualFold(m.adminState, "Down"):
				be.Healthy, bv.Up, bv.Reason = false, false, "Down_Admin_State"
			case pr == nil:
				be.Healthy, bv.Up, bv.Reason = true, true, "Up_No_Probe"
			default:
				target := c.probeTarget(pr, m.host)
				var res health.Result
				known := false
				if c.hv != nil {
					res, known = c.hv(target.Key)
				}
				be.Healthy, bv.Up, bv.Reason = res.Up, res.Up, res.Reason
				if !known {
					bv.Reason = health.ReasonNotProbed
				}
			}
			rule.Backends = append(rule.Backends, be)
			view.Backends = append(view.Backends, bv)
		}
	}
	for _, proto := range protocols(rp.Protocol) {
		c.addListener(rule.Name, addr, fport, proto, rule)
	}
}

func (c *compiler) probeTarget(pr *network.Probe, host netip.Addr) health.Target {
	pp := pr.Properties
	port := uint16(0)
	if pp.Port != nil {
		port = uint16(*pp.Port)
	}
	t := health.Target{Addr: netip.AddrPortFrom(host, port), Path: pp.RequestPath}
	t.Key = ProbeKey(pr.ID, t.Addr)
	switch strings.ToLower(pp.Protocol) {
	case "http":
		t.Protocol = health.HTTP
	case "https":
		t.Protocol = health.HTTPS
	default:
		t.Protocol = health.TCP
		t.Path = ""
	}
	if pp.IntervalInSeconds != nil {
		t.Interval = time.Duration(*pp.IntervalInSeconds) * time.Second
	}
	switch {
	case pp.ProbeThreshold != nil && *pp.ProbeThreshold > 0:
		t.Threshold = int(*pp.ProbeThreshold)
	case pp.NumberOfProbes != nil && *pp.NumberOfProbes > 0:
		t.Threshold = int(*pp.NumberOfProbes)
	default:
		t.Threshold = 1
	}
	c.probes[t.Key] = t
	return t
}

func (c *compiler) natRule(r *network.InboundNATRule) {
	rp := r.Properties
	addr, ok := c.frontendAddr(rp.FrontendIPConfiguration)
	if !ok {
		return
	}
	if rp.EnableFloatingIP != nil && *rp.EnableFloatingIP {
		c.note("inbound NAT rule %s: floating IP is not applied by the userspace data plane", r.Name)
	}
	bport := int32(0)
	if rp.BackendPort != nil {
		bport = *rp.BackendPort
	}
	base := dataplane.Rule{
		IdleTimeout: minutes(rp.IdleTimeoutInMinutes),
		TCPReset:    rp.EnableTCPReset != nil && *rp.EnableTCPReset,
	}
	if b := c.pool(rp.BackendAddressPool); b != nil {
		if rp.FrontendPortRangeStart == nil || rp.FrontendPortRangeEnd == nil {
			return
		}
		for i, m := range c.members(b) {
			port := *rp.FrontendPortRangeStart + int32(i)
			if port > *rp.FrontendPortRangeEnd {
				c.note("inbound NAT rule %s: frontend port range exhausted; %s gets no port", r.Name, m.azure)
				continue
			}
			rule := base
			rule.Name = strings.ToLower(r.ID) + "/" + m.key
			rule.Backends = []dataplane.Backend{{Key: m.key, Addr: netip.AddrPortFrom(m.host, uint16(bport)), Healthy: true}}
			for _, proto := range protocols(rp.Protocol) {
				c.addListener(strings.ToLower(r.ID), addr, port, proto, rule)
			}
		}
		return
	}
	if rp.BackendIPConfiguration == nil || rp.FrontendPort == nil {
		return
	}
	ip, ok := c.in.IPConfigs[strings.ToLower(rp.BackendIPConfiguration.ID)]
	if !ok {
		return
	}
	rule := base
	rule.Name = strings.ToLower(r.ID)
	rule.Backends = []dataplane.Backend{{Key: strings.ToLower(rp.BackendIPConfiguration.ID), Addr: netip.AddrPortFrom(c.amap.Host(ip), uint16(bport)), Healthy: true}}
	for _, proto := range protocols(rp.Protocol) {
		c.addListener(rule.Name, addr, *rp.FrontendPort, proto, rule)
	}
}

// natPool gives each NIC IP configuration that references an inbound NAT
// pool its own frontend port, frontendPortRangeStart + i, members in
// address order.
func (c *compiler) natPool(np *network.InboundNATPool) {
	pp := np.Properties
	if pp.FrontendPortRangeStart == nil || pp.FrontendPortRangeEnd == nil || pp.BackendPort == nil {
		return
	}
	addr, ok := c.frontendAddr(pp.FrontendIPConfiguration)
	if !ok {
		return
	}
	var ms []member
	for _, ic := range c.in.NATPoolMembers[strings.ToLower(np.ID)] {
		ip, ok := c.in.IPConfigs[strings.ToLower(ic)]
		if !ok {
			continue
		}
		ms = append(ms, member{key: strings.ToLower(ic), azure: ip, host: c.amap.Host(ip), ipconfig: ic})
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].azure.Less(ms[j].azure) })
	for i, m := range ms {
		port := *pp.FrontendPortRangeStart + int32(i)
		if port > *pp.FrontendPortRangeEnd {
			c.note("inbound NAT pool %s: frontend port range exhausted; %s gets no port", np.Name, m.azure)
			continue
		}
		rule := dataplane.Rule{
			Name:        strings.ToLower(np.ID) + "/" + m.key,
			IdleTimeout: minutes(pp.IdleTimeoutInMinutes),
			TCPReset:    pp.EnableTCPReset != nil && *pp.EnableTCPReset,
			Backends:    []dataplane.Backend{{Key: m.key, Addr: netip.AddrPortFrom(m.host, uint16(*pp.BackendPort)), Healthy: true}},
		}
		for _, proto := range protocols(pp.Protocol) {
			c.addListener(strings.ToLower(np.ID), addr, port, proto, rule)
		}
	}
}
