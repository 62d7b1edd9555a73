package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock-lb/paddock/internal/server"
	"github.com/paddock-lb/paddock/internal/store/memstore"
)

var (
	update = flag.Bool("update", false, "rewrite docs/compatibility-examples.md from the known-differences list")
	dump   = flag.Bool("dump", false, "log Paddock's response to every replayed request (with -v)")
)

// apiVersions are the example directories replayed.
var apiVersions = []string{"2020-05-01", "2026-01-01"}

const (
	rgScope  = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network"
	subScope = "/subscriptions/{subscriptionId}/providers/Microsoft.Network"
	lbPath   = rgScope + "/loadBalancers/{loadBalancerName}"
	nicPath  = rgScope + "/networkInterfaces/{networkInterfaceName}"
	vnetPath = rgScope + "/virtualNetworks/{virtualNetworkName}"
	pipPath  = rgScope + "/publicIPAddresses/{publicIpAddressName}"
)

// operation is how an example file is replayed.
type operation struct {
	// match is matched against the file name without ".json".
	match *regexp.Regexp
	// kind is put, get, delete, patch, list or action.
	kind   string
	method string
	// path is a resource id (or, for top-level lists, a scope) with
	// {parameter} placeholders; tail is the list's collection or the
	// action's name.
	path, tail string
}

func op(re, kind, path, tail string) operation {
	m := map[string]string{"put": http.MethodPut, "get": http.MethodGet, "list": http.MethodGet, "delete": http.MethodDelete, "patch": http.MethodPatch, "action": http.MethodPost}[kind]
	return operation{match: regexp.MustCompile(re), kind: kind, method: m, path: path, tail: tail}
}

// operations maps example file names to operations; the first match wins.
var operations = []operation{
	op(`^InboundNatRuleCreate`, "put", lbPath+"/inboundNatRules/{inboundNatRuleName}", ""),
	op(`^InboundNatRuleDelete`, "delete", lbPath+"/inboundNatRules/{inboundNatRuleName}", ""),
	op(`^InboundNatRuleGet`, "get", lbPath+"/inboundNatRules/{inboundNatRuleName}", ""),
	op(`^InboundNatRuleList`, "list", lbPath, "inboundNatRules"),
	op(`^(LB|LoadBalancer)BackendAddressPool\w*Put$`, "put", lbPath+"/backendAddressPools/{backendAddressPoolName}", ""),
	op(`^(LB|LoadBalancer)BackendAddressPool\w*Get$`, "get", lbPath+"/backendAddressPools/{backendAddressPoolName}", ""),
	op(`^(LB|LoadBalancer)BackendAddressPool\w*Delete$`, "delete", lbPath+"/backendAddressPools/{backendAddressPoolName}", ""),
	op(`^(LB|LoadBalancer)BackendAddressPoolList`, "list", lbPath, "backendAddressPools"),
	op(`^LoadBalancerFrontendIPConfigurationGet$`, "get", lbPath+"/frontendIPConfigurations/{frontendIPConfigurationName}", ""),
	op(`^LoadBalancerFrontendIPConfigurationList$`, "list", lbPath, "frontendIPConfigurations"),
	op(`^LoadBalancerLoadBalancingRuleGet$`, "get", lbPath+"/loadBalancingRules/{loadBalancingRuleName}", ""),
	op(`^LoadBalancerLoadBalancingRuleList$`, "list", lbPath, "loadBalancingRules"),
	op(`^LoadBalancerOutboundRuleGet$`, "get", lbPath+"/outboundRules/{outboundRuleName}", ""),
	op(`^LoadBalancerOutboundRuleList$`, "list", lbPath, "outboundRules"),
	op(`^LoadBalancerProbeGet$`, "get", lbPath+"/probes/{probeName}", ""),
	op(`^LoadBalancerProbeList$`, "list", lbPath, "probes"),
	op(`^LoadBalancerNetworkInterfaceList`, "list", lbPath, "networkInterfaces"),
	op(`^LoadBalancerHealth$`, "action", lbPath+"/loadBalancingRules/{loadBalancingRuleName}", "health"),
	op(`^LoadBalancersSwapPublicIpAddresses$`, "action", subScope+"/locations/{location}", "setLoadBalancerFrontendPublicIpAddresses"),
	op(`^QueryInboundNatRulePortMapping$`, "action", lbPath+"/backendAddressPools/{backendPoolName}", "queryInboundNatRulePortMapping"),
	op(`^MigrateLoadBalancerToIPBased$`, "action", lbPath, "migrateToIpBased"),
	op(`^LoadBalancerCreate`, "put", lbPath, ""),
	op(`^LoadBalancerGet`, "get", lbPath, ""),
	op(`^LoadBalancerDelete$`, "delete", lbPath, ""),
	op(`^LoadBalancerUpdateTags$`, "patch", lbPath, ""),
	op(`^LoadBalancerListAll$`, "list", subScope, "loadBalancers"),
	op(`^LoadBalancerList$`, "list", rgScope, "loadBalancers"),
	op(`^NetworkInterfaceIPConfigurationGet$`, "get", nicPath+"/ipConfigurations/{ipConfigurationName}", ""),
	op(`^NetworkInterfaceIPConfigurationList$`, "list", nicPath, "ipConfigurations"),
	op(`^NetworkInterfaceLoadBalancerList$`, "list", nicPath, "loadBalancers"),
	op(`^NetworkInterfaceCreate`, "put", nicPath, ""),
	op(`^NetworkInterfaceGet`, "get", nicPath, ""),
	op(`^NetworkInterfaceDelete$`, "delete", nicPath, ""),
	op(`^NetworkInterfaceListAll$`, "list", subScope, "networkInterfaces"),
	op(`^NetworkInterfaceList$`, "list", rgScope, "networkInterfaces"),
	op(`^PublicIpAddressCreate`, "put", pipPath, ""),
	op(`^PublicIpAddressGet`, "get", pipPath, ""),
	op(`^PublicIpAddressDelete$`, "delete", pipPath, ""),
	op(`^SubnetCreate`, "put", vnetPath+"/subnets/{subnetName}", ""),
	op(`^SubnetGet`, "get", vnetPath+"/subnets/{subnetName}", ""),
	op(`^SubnetDelete$`, "delete", vnetPath+"/subnets/{subnetName}", ""),
	op(`^VirtualNetworkCreate`, "put", vnetPath, ""),
	op(`^VirtualNetworkGet`, "get", vnetPath, ""),
	op(`^VirtualNetworkDelete$`, "delete", vnetPath, ""),
}

func operationFor(name string) (operation, bool) {
	base := strings.TrimSuffix(name, ".json")
	for _, o := range operations {
		if o.match.MatchString(base) {
			return o, true
		}
	}
	return operation{}, false
}

// describe renders the operation for the documentation.
func (o operation) describe() string {
	p := strings.NewReplacer(rgScope, "RG", subScope, "SUB", "{loadBalancerName}", "{lb}").Replace(o.path)
	if o.tail != "" {
		p += "/" + o.tail
	}
	return o.method + " " + p
}

// bodyParams are the names examples give the request body parameter.
var bodyParams = []string{"parameters", "inboundNatRuleParameters", "subnetParameters"}

type response struct {
	Headers map[string]any `json:"headers"`
	Body    any            `json:"body"`
}

type example struct {
	Parameters map[string]any      `json:"parameters"`
	Responses  map[string]response `json:"responses"`
}

func unmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

func (ex *example) param(name string) string {
	s, _ := ex.Parameters[name].(string)
	if s == "" && name == "resourceGroupName" {
		s, _ = ex.Parameters["groupName"].(string)
	}
	return s
}

func (ex *example) requestBody() obj {
	for _, n := range bodyParams {
		if b, ok := ex.Parameters[n].(obj); ok {
			return b
		}
	}
	return nil
}

var placeholder = regexp.MustCompile(`\{(\w+)\}`)

// fill replaces {parameter} placeholders with the example's values.
func (ex *example) fill(tmpl string) string {
	return placeholder.ReplaceAllStringFunc(tmpl, func(m string) string {
		return ex.param(m[1 : len(m)-1])
	})
}

// recordedBody returns the body recorded for a status, falling back to
// another 2xx body (PUT examples record 200 and 201 with the same body).
func (ex *example) recordedBody(status string) any {
	if r, ok := ex.Responses[status]; ok && r.Body != nil {
		return r.Body
	}
	for _, s := range sortedKeys(ex.Responses) {
		if strings.HasPrefix(s, "2") && ex.Responses[s].Body != nil {
			return ex.Responses[s].Body
		}
	}
	return nil
}

// ---- HTTP ----

type client struct {
	base string
	http *http.Client
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (c *client) do(method, path, api string, body any) (*reply, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path+"?api-version="+url.QueryEscape(api), rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// errorText summarises an ARM error body.
func errorText(r *reply) string {
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Target  string `json:"target"`
		} `json:"error"`
	}
	if json.Unmarshal(r.body, &env) != nil || env.Error.Code == "" {
		return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body))
	}
	s := fmt.Sprintf("%d %s: %s", r.status, env.Error.Code, env.Error.Message)
	if env.Error.Target != "" {
		s += " (target " + env.Error.Target + ")"
	}
	return s
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// ---- one example ----

type outcome struct {
	op     operation
	diffs  []difference
	extras []string
}

func startServer(t *testing.T) *client {
	t.Helper()
	srv, err := server.Start(context.Background(), server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), InsecureHTTP: true, Store: memstore.New(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &client{base: srv.URL, http: &http.Client{Timeout: 20 * time.Second}}
}

func loadExample(path string) (*example, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ex example
	if err := unmarshal(b, &ex); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &ex, nil
}

// location picks the location stubs are created in: the request's, else
// the first recorded one.
func (ex *example) location() string {
	if b := ex.requestBody(); b != nil {
		if l := str(b, "location"); l != "" {
			return l
		}
	}
	for _, s := range sortedKeys(ex.Responses) {
		if b, ok := ex.Responses[s].Body.(obj); ok {
			if l := str(b, "location"); l != "" {
				return l
			}
			for _, it := range objects(b, "value") {
				if l := str(it, "location"); l != "" {
					return l
				}
			}
		}
	}
	return "westus"
}

// prepare builds the world an operation needs.
func prepare(w *world, o operation, ex *example) (target rid, hasTarget bool) {
	w.learn(ex.Parameters)
	for _, s := range sortedKeys(ex.Responses) {
		w.learn(ex.Responses[s].Body)
	}
	target, hasTarget = parseID(ex.fill(o.path))
	req := ex.requestBody()
	rec, _ := ex.recordedBody("200").(obj)
	switch o.kind {
	case "put":
		if target.depth() == 1 {
			w.skip = target.key()
		} else {
			w.top(target.root())
			// A child's recorded back-references imply siblings in the
			// parent (a pool used by a rule): create them.
			if rec != nil {
				w.wireBody(target, rec)
			}
		}
		if req != nil {
			w.wireBody(target, req)
		}
	case "get":
		if rec != nil {
			w.place(target.String(), rec)
		}
	case "patch":
		if rec != nil {
			rec = clone(rec)
			delete(rec, "tags")
			w.place(target.String(), rec)
		}
	case "delete":
		w.ensure(target.String())
	case "list":
		body, _ := ex.recordedBody("200").(obj)
		if hasTarget {
			w.ensure(target.String())
		}
		for _, it := range objects(body, "value") {
			id := str(it, "id")
			if _, isChild := collections[strings.ToLower(o.tail)]; isChild && hasTarget {
				if n := str(it, "name"); n != "" {
					id = target.child(o.tail, n).String()
				}
			}
			w.place(id, it)
		}
	case "action":
		prepareAction(w, o, ex, target, req, rec)
	}
	w.finalize()
	return target, hasTarget
}

// prepareAction builds the state POST actions act on.
func prepareAction(w *world, o operation, ex *example, target rid, req, rec obj) {
	switch o.tail {
	case "migrateToIpBased":
		w.ensure(target.String())
		if pools, ok := req["pools"].([]any); ok {
			for _, p := range pools {
				w.ensure(target.child("backendAddressPools", fmt.Sprint(p)).String())
			}
		}
	case "queryInboundNatRulePortMapping":
		pool := w.ensure(target.String())
		if ip := str(req, "ipAddress"); ip != "" && pool != nil {
			vnet := rid{sub: target.sub, rg: target.rg, ns: "Microsoft.Network", types: []string{"virtualNetworks"}, names: []string{defaultVNet}}
			w.ensure(vnet.String())
			if a, ok := parseAddr(ip); ok {
				w.vnetHints[vnet.key()] = append(w.vnetHints[vnet.key()], a)
			}
			pp := props(pool)
			pp["loadBalancerBackendAddresses"] = []any{obj{"name": "address1", "properties": obj{"ipAddress": ip, "virtualNetwork": obj{"id": vnet.String()}}}}
		}
		if ic := refID(req, "ipConfiguration"); ic != "" {
			w.addRef(props1(w.ensure(ic)), "loadBalancerBackendAddressPools", target.String())
		}
		for _, m := range objects(rec, "inboundNatRulePortMappings") {
			nat := props1(w.ensure(target.root().child("inboundNatRules", str(m, "inboundNatRuleName")).String()))
			if nat == nil {
				continue
			}
			port := m["frontendPort"]
			w.setDefault(nat, "protocol", m["protocol"])
			w.setDefault(nat, "frontendPortRangeStart", port)
			if n, err := strconv.Atoi(fmt.Sprint(port)); err == nil {
				w.setDefault(nat, "frontendPortRangeEnd", n+9)
			}
			w.setDefault(nat, "backendPort", m["backendPort"])
			w.setRef(nat, "backendAddressPool", target.String())
		}
	case "health":
		rule := props1(w.ensure(target.String()))
		pool := target.root().child("backendAddressPools", "paddock-pool").String()
		w.ensure(pool)
		w.setRef(rule, "backendAddressPool", pool)
		for _, a := range objects(rec, "loadBalancerBackendAddresses") {
			if ic := str(a, "networkInterfaceIPConfigurationId"); ic != "" {
				w.addRef(props1(w.ensure(ic)), "loadBalancerBackendAddressPools", pool)
			}
		}
	case "setLoadBalancerFrontendPublicIpAddresses":
		// The request gives the state after the swap; before it, each
		// frontend holds the public IP the other one is asked to take.
		fes := objects(req, "frontendIPConfigurations")
		for i, fe := range fes {
			other := refID(props(fes[(i+1)%len(fes)]), "publicIPAddress")
			if f := w.ensure(str(fe, "id")); f != nil && other != "" {
				w.setRef(props(f), "publicIPAddress", other)
			}
		}
	}
}

// create puts every prerequisite; failures are setup differences.
func (w *world) create(c *client, api string, extra ...rid) []difference {
	var diffs []difference
	for _, g := range w.groups(extra...) {
		r, err := c.do(http.MethodPut, "/subscriptions/"+url.PathEscape(g[0])+"/resourcegroups/"+url.PathEscape(g[1]), "2024-03-01", obj{"location": w.loc})
		if err != nil || r.status/100 != 2 {
			diffs = append(diffs, difference{Path: "(setup) resourceGroups/" + g[1], Detail: fmt.Sprint(err, r)})
		}
	}
	put := func(short, path, api string, body obj) {
		r, err := c.do(http.MethodPut, escapePath(path), api, body)
		switch {
		case err != nil:
			diffs = append(diffs, difference{Path: "(setup) " + short, Detail: err.Error()})
		case r.status != http.StatusOK && r.status != http.StatusCreated:
			diffs = append(diffs, difference{Path: "(setup) " + short, Detail: "PUT answered " + errorText(r)})
		}
	}
	for _, d := range w.createOrder() {
		put(d.id.short(), d.id.String(), api, stripReadOnly(d.id.kind(), d.body))
	}
	for _, v := range w.vmOrder {
		var nics []any
		for i, n := range v.nics {
			nics = append(nics, obj{"id": n, "properties": obj{"primary": i == 0}})
		}
		put(v.id[strings.LastIndex(strings.ToLower(v.id), "/providers/")+len("/providers/"):], v.id, computeAPIVersion,
			obj{"location": w.loc, "properties": obj{"networkProfile": obj{"networkInterfaces": nics}}})
	}
	return diffs
}

// computeAPIVersion is used to create the virtual machines NICs belong to.
const computeAPIVersion = "2024-07-01"

func runExample(t *testing.T, path string) outcome {
	ex, err := loadExample(path)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := operationFor(filepath.Base(path))
	if !ok {
		t.Fatalf("no operation is mapped to %s; add one to operations", filepath.Base(path))
	}
	api := ex.param("api-version")
	out := outcome{op: o}
	w := newWorld(ex.location())
	target, hasTarget := prepare(w, o, ex)
	if err := w.apply(setupOverrides[filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path)]); err != nil {
		t.Fatal(err)
	}
	c := startServer(t)
	var scope []rid
	if hasTarget {
		scope = append(scope, target)
	} else if rg := ex.param("resourceGroupName"); rg != "" {
		scope = append(scope, rid{sub: ex.param("subscriptionId"), rg: rg})
	}
	if d := w.create(c, api, scope...); len(d) > 0 {
		out.diffs = d
		return out
	}
	p := ex.fill(o.path)
	if o.tail != "" {
		p += "/" + o.tail
	}
	var body any
	if b := ex.requestBody(); b != nil {
		body = b
	}
	r, err := c.do(o.method, escapePath(p), api, body)
	if err != nil {
		t.Fatalf("%s %s: %v", o.method, p, err)
	}
	if *dump {
		t.Logf("%s %s answered %d:\n%s", o.method, p, r.status, r.body)
	}
	status := fmt.Sprint(r.status)
	rec, recorded := ex.Responses[status]
	if !recorded {
		out.diffs = append(out.diffs, difference{Path: "(status)", Detail: fmt.Sprintf("recorded %s, Paddock answered %s", strings.Join(sortedKeys(ex.Responses), "/"), errorText(r))})
		return out
	}
	cmp := &comparison{}
	cmp.headers(rec.Headers, r.header)
	if want := ex.recordedBody(status); want != nil && (rec.Body != nil || o.kind == "put") {
		var got any
		if err := unmarshal(r.body, &got); err != nil {
			cmp.add("(body)", "Paddock's body is not JSON: %v: %q", err, r.body)
		} else {
			cmp.values("", want, got)
		}
	}
	if o.kind == "delete" && r.status/100 == 2 {
		g, err := c.do(http.MethodGet, escapePath(p), api, nil)
		if err == nil && g.status != http.StatusNotFound {
			cmp.add("(after delete) GET", "the deleted resource still answers %s", errorText(g))
		}
	}
	if o.tail == "setLoadBalancerFrontendPublicIpAddresses" && r.status/100 == 2 {
		// The swap must have happened: each frontend holds the public IP
		// the request gave it.
		for _, fe := range objects(ex.requestBody(), "frontendIPConfigurations") {
			want := refID(props(fe), "publicIPAddress")
			id, _ := parseID(str(fe, "id"))
			g, err := c.do(http.MethodGet, escapePath(id.String()), api, nil)
			var got obj
			if err == nil && g.status == http.StatusOK && unmarshal(g.body, &got) == nil && strings.EqualFold(refID(props(got), "publicIPAddress"), want) {
				continue
			}
			cmp.add("(after swap) "+id.short()+".properties.publicIPAddress.id", "the frontend does not hold %s after the swap", want)
		}
	}
	out.diffs = append(out.diffs, cmp.diffs...)
	out.extras = cmp.extras
	return out
}

// ---- the test ----

// repoRoot walks up from the working directory to the directory holding
// go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

type exampleFile struct {
	version, name, path string
}

func (f exampleFile) key() string { return f.version + "/" + f.name }

func exampleFiles(t *testing.T, root string) []exampleFile {
	t.Helper()
	dir := filepath.Join(root, "..", "shared", "azure-examples")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Azure example payloads are missing: %s must sit beside the repository (CI clones shared/ next to it): %v", dir, err)
		}
		t.Skipf("skipping: the Azure example payloads are not at %s (they live in shared/azure-examples beside the repository); with CI=true this fails", dir)
	}
	var out []exampleFile
	for _, v := range apiVersions {
		matches, err := filepath.Glob(filepath.Join(dir, v, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(matches) == 0 {
			t.Fatalf("no examples in %s", filepath.Join(dir, v))
		}
		for _, m := range matches {
			out = append(out, exampleFile{version: v, name: filepath.Base(m), path: m})
		}
	}
	return out
}

// TestExamples replays every example against a fresh server and compares
// the responses with the recorded ones; differences must match the known
// list exactly.
func TestExamples(t *testing.T) {
	root := repoRoot(t)
	files := exampleFiles(t, root)
	var mu sync.Mutex
	ran := map[string]bool{}
	t.Run("replay", func(t *testing.T) {
		for _, f := range files {
			t.Run(f.key(), func(t *testing.T) {
				t.Parallel()
				out := runExample(t, f.path)
				mu.Lock()
				ran[f.key()] = true
				mu.Unlock()
				checkKnown(t, f.key(), out)
			})
		}
	})
	for _, k := range sortedKeys(knownDifferences) {
		if !ran[k] && !t.Failed() {
			t.Errorf("known differences are listed for %s, which is not an example file", k)
		}
	}
	doc := renderDoc(files)
	docPath := filepath.Join(root, "docs", "compatibility-examples.md")
	if *update {
		if err := os.MkdirAll(filepath.Dir(docPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(docPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(docPath)
	if err != nil || string(have) != doc {
		t.Errorf("docs/compatibility-examples.md is not up to date with the known-differences list; run: go test ./internal/conformance -run TestExamples -update")
	}
}

// checkKnown fails on every difference not in the known list and on every
// known difference that did not occur.
func checkKnown(t *testing.T, key string, out outcome) {
	t.Helper()
	known := map[string]string{}
	for _, k := range knownDifferences[key] {
		if _, dup := known[k.Path]; dup {
			t.Errorf("known difference %q is listed twice", k.Path)
		}
		known[k.Path] = k.Reason
	}
	seen := map[string]bool{}
	var unexpected []string
	for _, d := range out.diffs {
		if seen[d.Path] {
			continue
		}
		seen[d.Path] = true
		if reason, ok := known[d.Path]; ok {
			t.Logf("known difference %s: %s (%s)", d.Path, d.Detail, reason)
			continue
		}
		unexpected = append(unexpected, fmt.Sprintf("%s: %s", d.Path, d.Detail))
	}
	if len(unexpected) > 0 {
		t.Errorf("%s (%s): %d difference(s) not in the known list:\n\t%s", key, out.op.describe(), len(unexpected), strings.Join(unexpected, "\n\t"))
	}
	for _, p := range sortedKeys(known) {
		if !seen[p] {
			t.Errorf("%s: known difference %q no longer occurs; remove it from knownDifferences (and regenerate the doc with -update)", key, p)
		}
	}
	if len(out.extras) > 0 {
		sort.Strings(out.extras)
		t.Logf("informational: Paddock returns %d propert(ies) the recorded body does not have: %s", len(out.extras), strings.Join(out.extras, ", "))
	}
}

// renderDoc writes docs/compatibility-examples.md from the known list.
func renderDoc(files []exampleFile) string {
	var b strings.Builder
	b.WriteString(`# Azure REST API examples replayed against Paddock

<!-- Generated by "go test ./internal/conformance -run TestExamples -update"; do not edit by hand. -->

` + "`internal/conformance`" + ` replays the request of every x-ms-examples file in
` + "`shared/azure-examples/<api-version>/`" + ` against a fresh Paddock server (loopback, in-memory
store) and compares the response with the recorded one:

* every property of the recorded body must be in Paddock's body with an equal value; arrays
  are matched element by element by name or id; properties only Paddock returns are not
  differences (the test logs them with -v);
* server-generated values (etags, resource GUIDs and other GUIDs, allocated private and public
  addresses, MAC addresses) are only checked for presence; resource ids compare
  case-insensitively; provisioningState Succeeded and Updating are equal;
* the status must be one the example records, and the recorded response headers must be
  present; after a DELETE, a GET of the resource must answer 404.

Before the replay the test creates what the example implies exists: the resource group(s);
subnets, virtual networks, public IPs and other load balancers the request references; the
resource a GET, list, PATCH or DELETE acts on, from the recorded body (read-only properties
removed, so Paddock has to compute them); and the resources behind recorded back-references
(the NIC a pool lists as a member, the rule a probe lists, the VM a NIC names, the frontend
a subnet lists). A PUT of a child (pool, NAT rule, subnet) is replayed as an update when the
recorded body implies the child already exists (a rule uses the pool). Subnet prefixes are
chosen to hold the addresses the example uses.

Every difference is either listed here with its reason or fails the test, and a listed
difference that stops occurring fails it too, so this page stays true. Paths: ` + "`(status)`" + ` the
status code, ` + "`(setup) …`" + ` a prerequisite Paddock refused, ` + "`header …`" + ` a recorded
response header, otherwise a JSON path into the body (array elements by name).

`)
	type row struct{ file, opText, result, notes string }
	byVersion := map[string][]row{}
	counts := map[string][2]int{}
	kinds := map[string]map[string]int{}
	for _, f := range files {
		o, _ := operationFor(f.name)
		ks := knownDifferences[f.key()]
		r := row{file: f.name, opText: "`" + o.describe() + "`"}
		c := counts[f.version]
		if len(ks) == 0 {
			r.result = "passes"
			c[0]++
		} else {
			r.result = plural(len(ks), "known difference")
			c[1]++
			var notes []string
			for _, k := range ks {
				notes = append(notes, "`"+k.Path+"`: "+k.Reason)
				kind, _, _ := strings.Cut(k.Reason, ":")
				if kinds[kind] == nil {
					kinds[kind] = map[string]int{}
				}
				kinds[kind][f.version]++
			}
			r.notes = strings.Join(notes, "<br>")
		}
		counts[f.version] = c
		byVersion[f.version] = append(byVersion[f.version], r)
	}
	b.WriteString("| api-version | examples | pass | with known differences |\n| --- | --- | --- | --- |\n")
	for _, v := range apiVersions {
		c := counts[v]
		fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", v, c[0]+c[1], c[0], c[1])
	}
	b.WriteString("\nKnown differences by kind (counted per path):\n\n| kind | " + strings.Join(apiVersions, " | ") + " |\n| --- |" + strings.Repeat(" --- |", len(apiVersions)) + "\n")
	for _, k := range sortedKeys(kinds) {
		fmt.Fprintf(&b, "| %s |", k)
		for _, v := range apiVersions {
			fmt.Fprintf(&b, " %d |", kinds[k][v])
		}
		b.WriteString("\n")
	}
	if len(setupOverrides) > 0 {
		b.WriteString("\nSetup overrides (prerequisites changed because the recorded state is one Paddock rightly refuses):\n\n")
		for _, k := range sortedKeys(setupOverrides) {
			for _, o := range setupOverrides[k] {
				fmt.Fprintf(&b, "* %s: `%s` `%s` set to `%s`. %s\n", k, o.Resource, o.Path, brief(o.Value), o.Reason)
			}
		}
	}
	for _, v := range apiVersions {
		fmt.Fprintf(&b, "\n## %s\n\n| Example | Operation | Result | Known differences |\n| --- | --- | --- | --- |\n", v)
		for _, r := range byVersion[v] {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.file, r.opText, r.result, strings.ReplaceAll(r.notes, "|", "\\|"))
		}
	}
	return b.String()
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
