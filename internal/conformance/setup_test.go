package conformance

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
)

// The prerequisites of an example are built as data: a "world" of resource
// documents (plain JSON objects) that must exist before the example's
// request is replayed. Documents come from three places:
//
//   - seeds: the state a read, delete or tag update acts on, taken from the
//     recorded response body (GET, list, PATCH) or a skeleton (DELETE);
//   - references: every resource a request or seed body points at
//     ({"id": ...} to a subnet, public IP, another load balancer's child,
//     ...) gets a stub;
//   - back-references: read-only lists in recorded bodies (a pool's
//     backendIPConfigurations, a probe's loadBalancingRules, a subnet's
//     ipConfigurations, a public IP's ipConfiguration, ...) are turned into
//     the forward references that produce them (a NIC IP configuration that
//     joins the pool, a rule that uses the probe, ...).
//
// Wiring runs to a fixed point, then finalize fills what stubs need to be
// valid (SKUs, frontends, ports, subnet prefixes chosen from the addresses
// the example uses), and create PUTs everything in dependency order.

type obj = map[string]any

// stubKey marks objects the builder made up; it is stripped before sending.
const stubKey = "__stub"

// Names of the made-up resources that stubs fall back on.
const (
	defaultVNet   = "paddock-conformance-vnet"
	defaultSubnet = "default"
)

// rid is a parsed ARM resource id.
type rid struct {
	sub, rg, ns  string
	types, names []string
}

func parseID(s string) (rid, bool) {
	segs := strings.Split(strings.Trim(s, "/"), "/")
	if len(segs) < 8 || !strings.EqualFold(segs[0], "subscriptions") || !strings.EqualFold(segs[2], "resourceGroups") || !strings.EqualFold(segs[4], "providers") {
		return rid{}, false
	}
	r := rid{sub: segs[1], rg: segs[3], ns: segs[5]}
	rest := segs[6:]
	if len(rest)%2 != 0 {
		return rid{}, false
	}
	for i := 0; i < len(rest); i += 2 {
		r.types = append(r.types, rest[i])
		r.names = append(r.names, rest[i+1])
	}
	return r, true
}

func (r rid) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "/subscriptions/%s/resourceGroups/%s/providers/%s", r.sub, r.rg, r.ns)
	for i := range r.types {
		fmt.Fprintf(&b, "/%s/%s", r.types[i], r.names[i])
	}
	return b.String()
}

func (r rid) key() string { return strings.ToLower(r.String()) }
func (r rid) depth() int  { return len(r.types) }
func (r rid) name() string {
	return r.names[len(r.names)-1]
}

func (r rid) root() rid {
	return rid{sub: r.sub, rg: r.rg, ns: r.ns, types: r.types[:1], names: r.names[:1]}
}

func (r rid) child(typ, name string) rid {
	return rid{sub: r.sub, rg: r.rg, ns: r.ns, types: append(append([]string(nil), r.types...), typ), names: append(append([]string(nil), r.names...), name)}
}

// kind is the lower-cased type path without the namespace
// ("loadbalancers", "virtualnetworks/subnets"), "" outside Microsoft.Network.
func (r rid) kind() string {
	if !strings.EqualFold(r.ns, "Microsoft.Network") {
		return ""
	}
	return strings.ToLower(strings.Join(r.types, "/"))
}

// short names a resource in a setup difference path.
func (r rid) short() string {
	var parts []string
	for i := range r.types {
		parts = append(parts, r.types[i]+"/"+r.names[i])
	}
	return strings.Join(parts, "/")
}

func kindOf(id string) string {
	r, ok := parseID(id)
	if !ok {
		return ""
	}
	return r.kind()
}

// collections maps a child collection (any casing) to its property name.
var collections = map[string]string{
	"frontendipconfigurations": "frontendIPConfigurations",
	"backendaddresspools":      "backendAddressPools",
	"loadbalancingrules":       "loadBalancingRules",
	"probes":                   "probes",
	"inboundnatrules":          "inboundNatRules",
	"inboundnatpools":          "inboundNatPools",
	"outboundrules":            "outboundRules",
	"ipconfigurations":         "ipConfigurations",
	"subnets":                  "subnets",
}

// doc is one top-level resource to create.
type doc struct {
	id   rid
	body obj
	stub bool
}

type world struct {
	loc   string
	docs  map[string]*doc
	order []*doc
	// skip is the key of the resource a top-level PUT creates: it is never
	// made a prerequisite.
	skip string
	// Address knowledge gathered from the whole example.
	subnetHints  map[string][]netip.Addr // subnet key -> addresses used in it
	subnetPrefix map[string]string       // subnet key -> recorded prefix
	vnetHints    map[string][]netip.Addr // vnet key -> member addresses
	vnetSpace    map[string][]any        // vnet key -> recorded address space
	// Roles stubs must play.
	needPublic  map[string]bool // load balancer frontends must be public
	needGateway map[string]bool // load balancer is a Gateway load balancer
	pipUser     map[string]*doc // public IP -> load balancer using it
	// vms are the virtual machines recorded NIC bodies name
	// (properties.virtualMachine), with their NICs; created last.
	vms      map[string]*vm
	vmOrder  []*vm
	nextPort int
	changed  bool
}

func newWorld(loc string) *world {
	return &world{
		loc: loc, docs: map[string]*doc{},
		subnetHints: map[string][]netip.Addr{}, subnetPrefix: map[string]string{},
		vnetHints: map[string][]netip.Addr{}, vnetSpace: map[string][]any{},
		needPublic: map[string]bool{}, needGateway: map[string]bool{}, pipUser: map[string]*doc{},
		vms: map[string]*vm{}, nextPort: 20000,
	}
}

// ---- JSON helpers ----

func props(o obj) obj {
	p, _ := o["properties"].(obj)
	if p == nil {
		p = obj{}
		o["properties"] = p
	}
	return p
}

func str(o obj, k string) string {
	s, _ := o[k].(string)
	return s
}

func objects(o obj, k string) []obj {
	a, _ := o[k].([]any)
	var out []obj
	for _, e := range a {
		if m, ok := e.(obj); ok {
			out = append(out, m)
		}
	}
	return out
}

func refID(o obj, k string) string {
	r, _ := o[k].(obj)
	if r == nil {
		return ""
	}
	return str(r, "id")
}

func refIDs(o obj, k string) []string {
	var out []string
	switch v := o[k].(type) {
	case obj:
		if id := str(v, "id"); id != "" {
			out = append(out, id)
		}
	case []any:
		for _, e := range v {
			if m, ok := e.(obj); ok {
				if id := str(m, "id"); id != "" {
					out = append(out, id)
				}
			}
		}
	}
	return out
}

func isStub(o obj) bool { b, _ := o[stubKey].(bool); return b }

func (w *world) setRef(o obj, k, id string) {
	if o == nil || refID(o, k) != "" {
		return
	}
	o[k] = obj{"id": id}
	w.changed = true
}

func (w *world) addRef(o obj, k, id string) {
	if o == nil {
		return
	}
	for _, have := range refIDs(o, k) {
		if strings.EqualFold(have, id) {
			return
		}
	}
	a, _ := o[k].([]any)
	o[k] = append(a, obj{"id": id})
	w.changed = true
}

func (w *world) setDefault(o obj, k string, v any) {
	if _, ok := o[k]; !ok {
		o[k] = v
	}
}

func clone(v any) obj {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out obj
	if err := unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// ---- documents ----

func (w *world) add(d *doc) {
	w.docs[d.id.key()] = d
	w.order = append(w.order, d)
	w.changed = true
}

// top returns the document of a top-level resource, creating a stub.
func (w *world) top(r rid) *doc {
	if d := w.docs[r.key()]; d != nil {
		return d
	}
	var body obj
	switch r.kind() {
	case "loadbalancers":
		body = obj{"properties": obj{}}
	case "networkinterfaces":
		body = obj{"properties": obj{"ipConfigurations": []any{}}}
	case "virtualnetworks":
		body = obj{"properties": obj{"subnets": []any{}}}
	case "publicipaddresses":
		body = obj{"properties": obj{}}
	default:
		return nil
	}
	d := &doc{id: r, body: body, stub: true}
	w.add(d)
	return d
}

// child finds or creates (as a stub) a child of a document.
func (w *world) child(d *doc, coll, name string) obj {
	c := collections[strings.ToLower(coll)]
	if c == "" {
		return nil
	}
	p := props(d.body)
	for _, o := range objects(p, c) {
		if strings.EqualFold(str(o, "name"), name) {
			return o
		}
	}
	o := obj{"name": name, "properties": obj{}, stubKey: true}
	a, _ := p[c].([]any)
	p[c] = append(a, o)
	w.changed = true
	return o
}

// ensure makes the resource an id points at exist (as a stub if nothing
// better is known) and returns its object; nil for what Paddock does not
// serve or what must not be pre-created.
func (w *world) ensure(id string) obj {
	r, ok := parseID(id)
	if !ok || r.kind() == "" || r.depth() > 2 || r.root().key() == w.skip {
		return nil
	}
	d := w.top(r.root())
	if d == nil {
		return nil
	}
	if r.depth() == 1 {
		return d.body
	}
	return w.child(d, r.types[1], r.names[1])
}

// place puts a recorded body in the world (top-level or child).
func (w *world) place(id string, body obj) {
	r, ok := parseID(id)
	if !ok || r.kind() == "" || r.depth() > 2 {
		return
	}
	body = clone(body)
	if r.depth() == 1 {
		if d := w.docs[r.key()]; d != nil {
			mergeStubChildren(body, d.body)
			d.body, d.stub = body, false
			w.changed = true
			return
		}
		w.add(&doc{id: r, body: body})
		return
	}
	d := w.top(r.root())
	if d == nil {
		return
	}
	c := collections[strings.ToLower(r.types[1])]
	if c == "" {
		return
	}
	body["name"] = r.names[1]
	p := props(d.body)
	a, _ := p[c].([]any)
	for i, e := range a {
		if o, ok := e.(obj); ok && strings.EqualFold(str(o, "name"), r.names[1]) {
			a[i] = body
			w.changed = true
			return
		}
	}
	p[c] = append(a, body)
	w.changed = true
}

// mergeStubChildren keeps the stub children of old that rec lacks.
func mergeStubChildren(rec, old obj) {
	rp, op := props(rec), props(old)
	for _, k := range sortedKeys(collections) {
		c := collections[k]
		for _, o := range objects(op, c) {
			found := false
			for _, r := range objects(rp, c) {
				if strings.EqualFold(str(r, "name"), str(o, "name")) {
					found = true
				}
			}
			if !found {
				a, _ := rp[c].([]any)
				rp[c] = append(a, o)
			}
		}
	}
}

// ---- knowledge from the whole example ----

func parseAddr(s string) (netip.Addr, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr(), true
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil
}

// learn walks any JSON of the example and records which addresses are used
// in which subnet or virtual network, and recorded prefixes.
func (w *world) learn(v any) {
	switch x := v.(type) {
	case obj:
		if sid := refID(x, "subnet"); sid != "" {
			for _, k := range []string{"privateIPAddress", "ipAddress"} {
				if a, ok := parseAddr(str(x, k)); ok {
					k := strings.ToLower(sid)
					w.subnetHints[k] = append(w.subnetHints[k], a)
				}
			}
		}
		if vid := refID(x, "virtualNetwork"); vid != "" {
			if a, ok := parseAddr(str(x, "ipAddress")); ok {
				k := strings.ToLower(vid)
				w.vnetHints[k] = append(w.vnetHints[k], a)
			}
		}
		if id := str(x, "id"); id != "" {
			p, _ := x["properties"].(obj)
			switch kindOf(id) {
			case "virtualnetworks/subnets":
				if p != nil {
					if pf := firstPrefix(p); pf != "" {
						w.subnetPrefix[strings.ToLower(id)] = pf
					}
				}
			case "virtualnetworks":
				if p != nil {
					if sp, _ := p["addressSpace"].(obj); sp != nil {
						if a, _ := sp["addressPrefixes"].([]any); len(a) > 0 {
							w.vnetSpace[strings.ToLower(id)] = a
						}
					}
				}
			}
		}
		for _, e := range x {
			w.learn(e)
		}
	case []any:
		for _, e := range x {
			w.learn(e)
		}
	}
}

func firstPrefix(p obj) string {
	if s := str(p, "addressPrefix"); s != "" {
		return s
	}
	if a, _ := p["addressPrefixes"].([]any); len(a) > 0 {
		s, _ := a[0].(string)
		return s
	}
	return ""
}

// ---- wiring: references and back-references ----

// wireAll wires every document until nothing changes.
func (w *world) wireAll() {
	for range 20 {
		w.changed = false
		for i := 0; i < len(w.order); i++ {
			w.wire(w.order[i])
		}
		if !w.changed {
			return
		}
	}
}

func (w *world) wire(d *doc) {
	switch d.id.kind() {
	case "loadbalancers":
		w.wireLB(d)
	case "networkinterfaces":
		w.wireNIC(d)
	case "virtualnetworks":
		w.wireVNet(d)
	case "publicipaddresses":
		w.wirePIP(d)
	}
}

func (w *world) wireLB(d *doc) {
	p := props(d.body)
	id := func(coll string, o obj) string { return d.id.child(coll, str(o, "name")).String() }
	for _, fe := range objects(p, "frontendIPConfigurations") {
		fp, feID := props(fe), id("frontendIPConfigurations", fe)
		w.ensure(refID(fp, "subnet"))
		if pip := refID(fp, "publicIPAddress"); pip != "" {
			w.ensure(pip)
			if _, set := w.pipUser[strings.ToLower(pip)]; !set {
				w.pipUser[strings.ToLower(pip)] = d
			}
		}
		if gw := refID(fp, "gatewayLoadBalancer"); gw != "" {
			w.gateway(gw)
		}
		for _, r := range refIDs(fp, "loadBalancingRules") {
			w.setRef(props1(w.ensure(r)), "frontendIPConfiguration", feID)
		}
		for _, r := range refIDs(fp, "inboundNatRules") {
			w.setRef(props1(w.ensure(r)), "frontendIPConfiguration", feID)
		}
		for _, r := range refIDs(fp, "inboundNatPools") {
			w.setRef(props1(w.ensure(r)), "frontendIPConfiguration", feID)
		}
		for _, r := range refIDs(fp, "outboundRules") {
			w.addRef(props1(w.ensure(r)), "frontendIPConfigurations", feID)
		}
	}
	for _, pool := range objects(p, "backendAddressPools") {
		pp, poolID := props(pool), id("backendAddressPools", pool)
		w.ensure(refID(pp, "virtualNetwork"))
		for _, a := range objects(pp, "loadBalancerBackendAddresses") {
			ap := props(a)
			w.ensure(refID(ap, "virtualNetwork"))
			w.ensure(refID(ap, "subnet"))
			if fe := refID(ap, "loadBalancerFrontendIPConfiguration"); fe != "" {
				if r, ok := parseID(fe); ok {
					w.needPublic[r.root().key()] = true
				}
				w.ensure(fe)
			}
		}
		for _, ic := range refIDs(pp, "backendIPConfigurations") {
			w.addRef(props1(w.ensure(ic)), "loadBalancerBackendAddressPools", poolID)
		}
		for _, r := range refIDs(pp, "loadBalancingRules") {
			w.setRef(props1(w.ensure(r)), "backendAddressPool", poolID)
		}
		for _, r := range append(refIDs(pp, "outboundRules"), refIDs(pp, "outboundRule")...) {
			w.setRef(props1(w.ensure(r)), "backendAddressPool", poolID)
		}
		for _, r := range refIDs(pp, "inboundNatRules") {
			w.setRef(props1(w.ensure(r)), "backendAddressPool", poolID)
		}
	}
	for _, pr := range objects(p, "probes") {
		for _, r := range refIDs(props(pr), "loadBalancingRules") {
			w.setRef(props1(w.ensure(r)), "probe", id("probes", pr))
		}
	}
	for _, r := range objects(p, "loadBalancingRules") {
		rp := props(r)
		for _, k := range []string{"frontendIPConfiguration", "backendAddressPool", "backendAddressPools", "probe"} {
			for _, ref := range refIDs(rp, k) {
				w.ensure(ref)
			}
		}
	}
	for _, r := range objects(p, "inboundNatRules") {
		rp := props(r)
		w.ensure(refID(rp, "frontendIPConfiguration"))
		w.ensure(refID(rp, "backendAddressPool"))
		if ic := refID(rp, "backendIPConfiguration"); ic != "" {
			w.addRef(props1(w.ensure(ic)), "loadBalancerInboundNatRules", id("inboundNatRules", r))
		}
	}
	for _, np := range objects(p, "inboundNatPools") {
		w.ensure(refID(props(np), "frontendIPConfiguration"))
	}
	for _, o := range objects(p, "outboundRules") {
		op := props(o)
		for _, fe := range refIDs(op, "frontendIPConfigurations") {
			w.ensure(fe)
		}
		w.ensure(refID(op, "backendAddressPool"))
	}
}

// gateway marks the load balancer of a Gateway frontend reference.
func (w *world) gateway(feID string) {
	if r, ok := parseID(feID); ok && r.root().key() != w.skip {
		w.needGateway[r.root().key()] = true
	}
	w.ensure(feID)
}

// props1 is props for a possibly nil object.
func props1(o obj) obj {
	if o == nil {
		return nil
	}
	return props(o)
}

// vm is a virtual machine the world needs, with the NICs it holds.
type vm struct {
	id   string
	nics []string
}

func (w *world) wireNIC(d *doc) {
	if v := refID(props(d.body), "virtualMachine"); v != "" && strings.Contains(strings.ToLower(v), "/providers/microsoft.compute/virtualmachines/") {
		k := strings.ToLower(v)
		m := w.vms[k]
		if m == nil {
			m = &vm{id: v}
			w.vms[k] = m
			w.vmOrder = append(w.vmOrder, m)
		}
		found := false
		for _, n := range m.nics {
			found = found || strings.EqualFold(n, d.id.String())
		}
		if !found {
			m.nics = append(m.nics, d.id.String())
		}
	}
	for _, ic := range objects(props(d.body), "ipConfigurations") {
		ip := props(ic)
		w.ensure(refID(ip, "subnet"))
		w.ensure(refID(ip, "publicIPAddress"))
		for _, k := range []string{"loadBalancerBackendAddressPools", "loadBalancerInboundNatRules"} {
			for _, ref := range refIDs(ip, k) {
				w.ensure(ref)
			}
		}
		if gw := refID(ip, "gatewayLoadBalancer"); gw != "" {
			w.gateway(gw)
		}
	}
}

func (w *world) wireVNet(d *doc) {
	for _, sn := range objects(props(d.body), "subnets") {
		snID := d.id.child("subnets", str(sn, "name")).String()
		for _, ic := range refIDs(props(sn), "ipConfigurations") {
			if k := kindOf(ic); k == "networkinterfaces/ipconfigurations" || k == "loadbalancers/frontendipconfigurations" {
				w.setRef(props1(w.ensure(ic)), "subnet", snID)
			}
		}
	}
}

func (w *world) wirePIP(d *doc) {
	p := props(d.body)
	if ic := refID(p, "ipConfiguration"); ic != "" {
		if k := kindOf(ic); k == "networkinterfaces/ipconfigurations" || k == "loadbalancers/frontendipconfigurations" {
			w.setRef(props1(w.ensure(ic)), "publicIPAddress", d.id.String())
		}
	}
}

// wireBody wires the references of a body that is not itself created (a
// request body, or the recorded body of a child a PUT writes): a temporary
// document standing for the resource at id.
func (w *world) wireBody(id rid, body obj) {
	tmp := &doc{id: id.root(), body: clone(body)}
	if id.depth() == 2 {
		c := collections[strings.ToLower(id.types[1])]
		child := clone(body)
		child["name"] = id.name()
		tmp.body = obj{"properties": obj{c: []any{child}}}
	}
	w.wire(tmp)
}

// ---- finalize: make stubs valid ----

func (w *world) finalize() {
	w.wireAll()
	for _, kind := range []string{"loadbalancers", "networkinterfaces"} {
		for i := 0; i < len(w.order); i++ {
			if d := w.order[i]; d.id.kind() == kind {
				if kind == "loadbalancers" {
					w.finalizeLB(d)
				} else {
					w.finalizeNIC(d)
				}
			}
		}
		w.wireAll()
	}
	for i := 0; i < len(w.order); i++ {
		switch d := w.order[i]; d.id.kind() {
		case "publicipaddresses":
			w.finalizePIP(d)
		case "virtualnetworks":
			w.finalizeVNet(d)
		}
	}
}

func skuName(body obj) string {
	if s, _ := body["sku"].(obj); s != nil {
		if n := str(s, "name"); n != "" {
			return n
		}
	}
	return "Basic"
}

func skuTier(body obj) string {
	if s, _ := body["sku"].(obj); s != nil {
		return str(s, "tier")
	}
	return ""
}

func (w *world) port() int {
	w.nextPort += 10
	return w.nextPort
}

func (w *world) finalizeLB(d *doc) {
	b := d.body
	w.setDefault(b, "location", w.loc)
	k := d.id.key()
	if d.stub {
		switch {
		case w.needGateway[k]:
			b["sku"] = obj{"name": "Gateway"}
		case b["sku"] == nil:
			b["sku"] = obj{"name": "Standard"}
		}
	}
	p := props(b)
	fes := objects(p, "frontendIPConfigurations")
	public, internal := false, false
	for _, fe := range fes {
		fp := props(fe)
		public = public || refID(fp, "publicIPAddress") != "" || refID(fp, "publicIPPrefix") != ""
		internal = internal || refID(fp, "subnet") != ""
	}
	if !public && !internal {
		public = !w.needGateway[k] && (w.needPublic[k] || len(objects(p, "outboundRules")) > 0 || strings.EqualFold(skuTier(b), "Global"))
	}
	needFE := false
	for _, c := range []string{"loadBalancingRules", "inboundNatRules", "inboundNatPools", "outboundRules", "probes"} {
		needFE = needFE || len(objects(p, c)) > 0
	}
	if len(fes) == 0 && needFE {
		fes = []obj{w.child(d, "frontendIPConfigurations", "paddock-frontend")}
	}
	for _, fe := range fes {
		fp := props(fe)
		if refID(fp, "subnet") != "" || refID(fp, "publicIPAddress") != "" || refID(fp, "publicIPPrefix") != "" {
			continue
		}
		if public {
			pip := rid{sub: d.id.sub, rg: d.id.rg, ns: "Microsoft.Network", types: []string{"publicIPAddresses"}, names: []string{d.id.name() + "-" + str(fe, "name") + "-pip"}}
			w.setRef(fp, "publicIPAddress", pip.String())
			w.ensure(pip.String())
			w.pipUser[pip.key()] = d
		} else {
			w.setRef(fp, "subnet", w.defaultSubnet(d.id))
		}
	}
	feID := ""
	if len(fes) > 0 {
		feID = d.id.child("frontendIPConfigurations", str(fes[0], "name")).String()
	}
	poolID := func() string {
		pools := objects(p, "backendAddressPools")
		if len(pools) == 0 {
			pools = []obj{w.child(d, "backendAddressPools", "paddock-pool")}
		}
		return d.id.child("backendAddressPools", str(pools[0], "name")).String()
	}
	for _, r := range objects(p, "loadBalancingRules") {
		if !isStub(r) {
			continue
		}
		rp := props(r)
		w.setRef(rp, "frontendIPConfiguration", feID)
		port := w.port()
		w.setDefault(rp, "protocol", "Tcp")
		w.setDefault(rp, "frontendPort", port)
		w.setDefault(rp, "backendPort", port)
	}
	for _, r := range objects(p, "inboundNatRules") {
		if !isStub(r) {
			continue
		}
		rp := props(r)
		w.setRef(rp, "frontendIPConfiguration", feID)
		w.setDefault(rp, "protocol", "Tcp")
		port := w.port()
		if refID(rp, "backendAddressPool") != "" {
			w.setDefault(rp, "frontendPortRangeStart", port)
			w.setDefault(rp, "frontendPortRangeEnd", port+9)
		} else {
			w.setDefault(rp, "frontendPort", port)
		}
		w.setDefault(rp, "backendPort", port)
	}
	for _, np := range objects(p, "inboundNatPools") {
		if !isStub(np) {
			continue
		}
		pp := props(np)
		w.setRef(pp, "frontendIPConfiguration", feID)
		port := w.port()
		w.setDefault(pp, "protocol", "Tcp")
		w.setDefault(pp, "frontendPortRangeStart", port)
		w.setDefault(pp, "frontendPortRangeEnd", port+9)
		w.setDefault(pp, "backendPort", port)
	}
	for _, pr := range objects(p, "probes") {
		if isStub(pr) {
			pp := props(pr)
			w.setDefault(pp, "protocol", "Tcp")
			w.setDefault(pp, "port", 80)
		}
	}
	for _, o := range objects(p, "outboundRules") {
		if !isStub(o) {
			continue
		}
		op := props(o)
		if len(refIDs(op, "frontendIPConfigurations")) == 0 {
			w.addRef(op, "frontendIPConfigurations", feID)
		}
		w.setRef(op, "backendAddressPool", poolID())
		w.setDefault(op, "protocol", "All")
	}
}

// defaultSubnet is the made-up subnet stubs use when nothing says where
// they live.
func (w *world) defaultSubnet(near rid) string {
	v := rid{sub: near.sub, rg: near.rg, ns: "Microsoft.Network", types: []string{"virtualNetworks"}, names: []string{defaultVNet}}
	id := v.child("subnets", defaultSubnet).String()
	w.ensure(id)
	return id
}

func (w *world) finalizeNIC(d *doc) {
	b := d.body
	w.setDefault(b, "location", w.loc)
	p := props(b)
	ics := objects(p, "ipConfigurations")
	if len(ics) == 0 {
		ics = []obj{w.child(d, "ipConfigurations", "ipconfig1")}
	}
	subnet := ""
	for _, ic := range ics {
		if s := refID(props(ic), "subnet"); s != "" && subnet == "" {
			subnet = s
		}
	}
	if subnet == "" {
		// Where the load balancers it joins have internal frontends.
		for _, ic := range ics {
			ip := props(ic)
			for _, ref := range append(refIDs(ip, "loadBalancerBackendAddressPools"), refIDs(ip, "loadBalancerInboundNatRules")...) {
				if subnet != "" {
					break
				}
				if r, ok := parseID(ref); ok {
					if lb := w.docs[r.root().key()]; lb != nil {
						for _, fe := range objects(props(lb.body), "frontendIPConfigurations") {
							if s := refID(props(fe), "subnet"); s != "" && subnet == "" {
								subnet = s
							}
						}
					}
				}
			}
		}
	}
	if subnet == "" {
		subnet = w.defaultSubnet(d.id)
	}
	primary := false
	for _, ic := range ics {
		if b, _ := props(ic)["primary"].(bool); b {
			primary = true
		}
	}
	for i, ic := range ics {
		ip := props(ic)
		if refID(ip, "subnet") == "" && isStub(ic) {
			w.setRef(ip, "subnet", subnet)
		}
		if !primary && len(ics) > 1 && i == 0 {
			ip["primary"] = true
		}
	}
}

func (w *world) finalizePIP(d *doc) {
	b := d.body
	w.setDefault(b, "location", w.loc)
	if !d.stub {
		return
	}
	sku, tier := "Standard", ""
	if lb := w.pipUser[d.id.key()]; lb != nil {
		sku = skuName(lb.body)
		if strings.EqualFold(skuTier(lb.body), "Global") {
			tier = "Global"
		}
	}
	s := obj{"name": sku}
	if tier != "" {
		s["tier"] = tier
	}
	b["sku"] = s
	method := "Static"
	if strings.EqualFold(sku, "Basic") {
		method = "Dynamic"
	}
	w.setDefault(props(b), "publicIPAllocationMethod", method)
}

var privateBlocks = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// block returns the private block containing a, or a /16 around it.
func block(a netip.Addr) netip.Prefix {
	for _, b := range privateBlocks {
		if b.Contains(a) {
			return b
		}
	}
	p, _ := a.Prefix(16)
	return p
}

// finalizeVNet gives subnets without a prefix one that holds the
// addresses the example uses in them, and gives a stub VNet an address
// space that holds every subnet and member address.
func (w *world) finalizeVNet(d *doc) {
	b := d.body
	w.setDefault(b, "location", w.loc)
	p := props(b)
	k := d.id.key()
	var space []netip.Prefix
	if sp, _ := p["addressSpace"].(obj); sp != nil {
		list, _ := sp["addressPrefixes"].([]any)
		for _, s := range list {
			if pf, err := netip.ParsePrefix(fmt.Sprint(s)); err == nil {
				space = append(space, pf)
			}
		}
	} else if rec := w.vnetSpace[k]; rec != nil {
		p["addressSpace"] = obj{"addressPrefixes": rec}
		for _, s := range rec {
			if pf, err := netip.ParsePrefix(fmt.Sprint(s)); err == nil {
				space = append(space, pf)
			}
		}
	}
	var taken []netip.Prefix
	overlaps := func(pf netip.Prefix) bool {
		for _, t := range taken {
			if t.Overlaps(pf) {
				return true
			}
		}
		return false
	}
	var pending []obj
	for _, sn := range objects(p, "subnets") {
		sp := props(sn)
		if pf := firstPrefix(sp); pf != "" {
			if x, err := netip.ParsePrefix(pf); err == nil {
				taken = append(taken, x)
			}
			continue
		}
		snKey := strings.ToLower(d.id.child("subnets", str(sn, "name")).String())
		if rec := w.subnetPrefix[snKey]; rec != "" {
			sp["addressPrefix"] = rec
			if x, err := netip.ParsePrefix(rec); err == nil {
				taken = append(taken, x)
			}
			continue
		}
		if hints := w.subnetHints[snKey]; len(hints) > 0 {
			pf := hintPrefix(hints)
			if !overlaps(pf) {
				sp["addressPrefix"] = pf.String()
				taken = append(taken, pf)
				continue
			}
		}
		pending = append(pending, sn)
	}
	for _, sn := range pending {
		base := netip.MustParsePrefix("10.0.0.0/8")
		if len(space) > 0 && space[0].Bits() <= 24 {
			base = space[0]
		}
		pf := netip.PrefixFrom(base.Masked().Addr(), 24)
		for overlaps(pf) && base.Contains(pf.Addr()) {
			pf = netip.PrefixFrom(nextBlock(pf), 24)
		}
		props(sn)["addressPrefix"] = pf.String()
		taken = append(taken, pf)
	}
	if len(space) > 0 {
		return
	}
	// Stub VNet: private blocks around every subnet and member address,
	// including prefixes recorded for subnets a request adds later.
	seen := map[netip.Prefix]bool{}
	var out []any
	addBlock := func(a netip.Addr) {
		if bl := block(a); !seen[bl] {
			seen[bl] = true
			out = append(out, bl.String())
		}
	}
	for _, t := range taken {
		addBlock(t.Addr())
	}
	for _, a := range sortedAddrs(w.vnetHints[k]) {
		addBlock(a)
	}
	for _, sk := range sortedKeys(w.subnetPrefix) {
		if strings.HasPrefix(sk, k+"/subnets/") {
			if x, err := netip.ParsePrefix(w.subnetPrefix[sk]); err == nil {
				addBlock(x.Addr())
			}
		}
	}
	if len(out) == 0 {
		out = []any{"10.0.0.0/8"}
	}
	p["addressSpace"] = obj{"addressPrefixes": out}
}

// hintPrefix is the smallest of /24, /16, /8 around the first address that
// holds every address.
func hintPrefix(hints []netip.Addr) netip.Prefix {
	hints = sortedAddrs(hints)
	for _, bits := range []int{24, 16, 8} {
		pf, _ := hints[0].Prefix(bits)
		all := true
		for _, h := range hints {
			all = all && pf.Contains(h)
		}
		if all {
			return pf
		}
	}
	pf, _ := hints[0].Prefix(24)
	return pf
}

func sortedAddrs(a []netip.Addr) []netip.Addr {
	out := append([]netip.Addr(nil), a...)
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

func nextBlock(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v += 1 << (32 - p.Bits())
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// ---- creation ----

// createOrder lists documents in the order they can be created: virtual
// networks, public IPs, load balancers (one a frontend of another refers
// to first), network interfaces.
func (w *world) createOrder() []*doc {
	rank := map[string]int{"virtualnetworks": 0, "publicipaddresses": 1, "loadbalancers": 2, "networkinterfaces": 3}
	var lbs, out []*doc
	for _, d := range w.order {
		if d.id.key() == w.skip {
			continue
		}
		if d.id.kind() == "loadbalancers" {
			lbs = append(lbs, d)
		}
	}
	// Load balancers: depth-first on references to other load balancers.
	var sortedLBs []*doc
	state := map[string]int{}
	var visit func(d *doc)
	visit = func(d *doc) {
		k := d.id.key()
		if state[k] != 0 {
			return
		}
		state[k] = 1
		for _, dep := range lbDeps(d) {
			if o := w.docs[dep]; o != nil && o != d && o.id.key() != w.skip {
				visit(o)
			}
		}
		state[k] = 2
		sortedLBs = append(sortedLBs, d)
	}
	for _, d := range lbs {
		visit(d)
	}
	for r := 0; r <= 3; r++ {
		if r == 2 {
			out = append(out, sortedLBs...)
			continue
		}
		for _, d := range w.order {
			if rank[d.id.kind()] == r && d.id.kind() != "loadbalancers" && d.id.key() != w.skip {
				if _, ok := rank[d.id.kind()]; ok {
					out = append(out, d)
				}
			}
		}
	}
	return out
}

// lbDeps returns the keys of the load balancers d refers to.
func lbDeps(d *doc) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case obj:
			if id := str(x, "id"); id != "" {
				if r, ok := parseID(id); ok && r.kind() != "" && strings.HasPrefix(r.kind(), "loadbalancers") {
					k := r.root().key()
					if k != d.id.key() && !seen[k] {
						seen[k] = true
						out = append(out, k)
					}
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(d.body)
	sort.Strings(out)
	return out
}

// groups returns the resource groups the documents live in, plus extra.
func (w *world) groups(extra ...rid) [][2]string {
	seen := map[string]bool{}
	var out [][2]string
	add := func(sub, rg string) {
		if sub == "" || rg == "" || seen[sub+"/"+rg] {
			return
		}
		seen[sub+"/"+rg] = true
		out = append(out, [2]string{sub, rg})
	}
	for _, r := range extra {
		add(r.sub, r.rg)
	}
	for _, d := range w.order {
		add(d.id.sub, d.id.rg)
	}
	return out
}

// ---- read-only properties ----

// readOnly lists, per resource type, read-only properties (Azure computes
// them) that are removed from recorded bodies before they are sent as
// prerequisites. Paddock keeps properties it does not model, so without
// this a GET would echo what the test sent and prove nothing. "[]" stands
// for any array element.
var readOnly = map[string][]string{
	"loadbalancers": {
		"properties.frontendIPConfigurations[].properties.loadBalancingRules",
		"properties.frontendIPConfigurations[].properties.inboundNatRules",
		"properties.frontendIPConfigurations[].properties.inboundNatPools",
		"properties.frontendIPConfigurations[].properties.outboundRules",
		"properties.backendAddressPools[].properties.backendIPConfigurations",
		"properties.backendAddressPools[].properties.loadBalancingRules",
		"properties.backendAddressPools[].properties.outboundRule",
		"properties.backendAddressPools[].properties.outboundRules",
		"properties.backendAddressPools[].properties.inboundNatRules",
		"properties.backendAddressPools[].properties.loadBalancerBackendAddresses[].properties.networkInterfaceIPConfiguration",
		"properties.backendAddressPools[].properties.loadBalancerBackendAddresses[].properties.inboundNatRulesPortMapping",
		"properties.probes[].properties.loadBalancingRules",
		"properties.inboundNatRules[].properties.backendIPConfiguration",
	},
	"networkinterfaces": {
		"properties.virtualMachine",
		"properties.macAddress",
		"properties.primary",
		"properties.hostedWorkloads",
		"properties.tapConfigurations",
		"properties.privateEndpoint",
		"properties.vnetEncryptionSupported",
		"properties.dscpConfiguration",
		"properties.defaultOutboundConnectivityEnabled",
		"properties.dnsSettings.appliedDnsServers",
		"properties.dnsSettings.internalFqdn",
		"properties.dnsSettings.internalDomainNameSuffix",
		"properties.ipConfigurations[].properties.privateLinkConnectionProperties",
	},
	"virtualnetworks": {
		"properties.defaultPublicNatGateway",
		"properties.flowLogs",
		"properties.bgpCommunities.regionalCommunity",
		"properties.subnets[].properties.ipConfigurations",
		"properties.subnets[].properties.ipConfigurationProfiles",
		"properties.subnets[].properties.privateEndpoints",
		"properties.subnets[].properties.resourceNavigationLinks",
		"properties.subnets[].properties.serviceAssociationLinks",
		"properties.subnets[].properties.purpose",
		"properties.subnets[].properties.delegations[].properties.actions",
	},
	"publicipaddresses": {
		"properties.ipConfiguration",
		"properties.ipAddress",
	},
}

// readOnlyAnywhere are read-only at any depth.
var readOnlyAnywhere = map[string]bool{"etag": true, "provisioningState": true, "resourceGuid": true}

// stripReadOnly returns body without the builder's markers and without
// read-only properties.
func stripReadOnly(kind string, body obj) obj {
	drop := map[string]bool{}
	for _, p := range readOnly[kind] {
		drop[p] = true
	}
	var walk func(path string, v any) any
	walk = func(path string, v any) any {
		switch x := v.(type) {
		case obj:
			out := obj{}
			for k, e := range x {
				p := joinPath(path, k)
				if k == stubKey || readOnlyAnywhere[k] || drop[p] {
					continue
				}
				out[k] = walk(p, e)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = walk(path+"[]", e)
			}
			return out
		}
		return v
	}
	return walk("", body).(obj)
}

// ---- setup overrides ----

var pathSegment = regexp.MustCompile(`^([^.\[]+)(?:\[([^\]]+)\])?$`)

// setPath sets a value at a path of the form "a.b[name].c" (array
// elements by name).
func setPath(body obj, path string, value any) error {
	segs := strings.Split(path, ".")
	cur := body
	for i, s := range segs {
		m := pathSegment.FindStringSubmatch(s)
		if m == nil {
			return fmt.Errorf("bad path segment %q", s)
		}
		last := i == len(segs)-1
		if m[2] == "" {
			if last {
				cur[m[1]] = value
				return nil
			}
			next, _ := cur[m[1]].(obj)
			if next == nil {
				next = obj{}
				cur[m[1]] = next
			}
			cur = next
			continue
		}
		var found obj
		for _, e := range objects(cur, m[1]) {
			if strings.EqualFold(str(e, "name"), m[2]) {
				found = e
			}
		}
		if found == nil {
			return fmt.Errorf("no element %q in %s", m[2], m[1])
		}
		if last {
			for k := range found {
				delete(found, k)
			}
			for k, v := range value.(obj) {
				found[k] = v
			}
			return nil
		}
		cur = found
	}
	return nil
}

// override changes one prerequisite before it is created. It exists for
// examples whose recorded state Paddock rightly refuses (an inconsistent
// example); the comparison then shows the changed value as a difference,
// which must be in the known list as well.
type override struct {
	// Resource is the prerequisite, "type/name" (as in "(setup)" paths).
	Resource string
	Path     string
	Value    any
	Reason   string
}

func (w *world) apply(ovs []override) error {
	for _, o := range ovs {
		var d *doc
		for _, x := range w.order {
			if strings.EqualFold(x.id.short(), o.Resource) {
				d = x
			}
		}
		if d == nil {
			return fmt.Errorf("override for %s: no such prerequisite", o.Resource)
		}
		if err := setPath(d.body, o.Path, o.Value); err != nil {
			return fmt.Errorf("override for %s: %v", o.Resource, err)
		}
	}
	return nil
}
