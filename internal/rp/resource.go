package rp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/resources/compute"
	"github.com/paddock-lb/paddock/internal/resources/network"
	"github.com/paddock-lb/paddock/internal/store"
)

// Supported resource types, lower-cased "namespace/type[/child]".
const (
	tLB     = "microsoft.network/loadbalancers"
	tNIC    = "microsoft.network/networkinterfaces"
	tVNet   = "microsoft.network/virtualnetworks"
	tPIP    = "microsoft.network/publicipaddresses"
	tVM     = "microsoft.compute/virtualmachines"
	tPool   = tLB + "/backendaddresspools"
	tNAT    = tLB + "/inboundnatrules"
	tSubnet = tVNet + "/subnets"
)

// Known reports whether the provider serves a resource type, and whether it
// may be written (PUT/DELETE) directly.
func Known(typ string) (readable, writable bool) {
	switch strings.ToLower(typ) {
	case tLB, tNIC, tVNet, tPIP, tVM, tPool, tNAT, tSubnet:
		return true, true
	case tLB + "/frontendipconfigurations", tLB + "/loadbalancingrules", tLB + "/probes", tLB + "/outboundrules", tNIC + "/ipconfigurations":
		return true, false
	}
	return false, false
}

func newObject(typ string) any {
	switch typ {
	case tLB:
		return &network.LoadBalancer{}
	case tNIC:
		return &network.NetworkInterface{}
	case tVNet:
		return &network.VirtualNetwork{}
	case tPIP:
		return &network.PublicIPAddress{}
	case tVM:
		return &compute.VirtualMachine{}
	}
	return nil
}

func lowerType(id arm.ResourceID) string { return strings.ToLower(id.Type()) }

// Put creates or replaces a resource (top-level or writable child).
func (s *Service) Put(ctx context.Context, c *Call) (*Result, error) {
	if err := checkName(c.ID); err != nil {
		return nil, err
	}
	typ := lowerType(c.ID)
	if _, w := Known(typ); !w {
		return nil, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed, "The resource type '%s' does not support PUT.", c.ID.Type())
	}
	return s.retry(ctx, func(t *txn) (*Result, error) {
		if err := s.requireGroup(t, c.ID); err != nil {
			return nil, err
		}
		switch typ {
		case tPool, tNAT:
			return s.putLBChild(t, c)
		case tSubnet:
			return s.putSubnet(t, c)
		}
		obj := newObject(typ)
		if err := decodeBody(c.Body, obj); err != nil {
			return nil, err
		}
		switch o := obj.(type) {
		case *network.LoadBalancer:
			existing, exists, err := s.loadLB(t, c.ID)
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
			lb, errs, err := s.putLB(t, c, o, existing)
			if err != nil {
				return nil, err
			}
			if e := errs.ToError(); e != nil {
				return nil, e
			}
			return s.finishPut(t, c, "", lb, exists, lb.Location)
		case *network.NetworkInterface:
			return s.putNIC(t, c, o)
		case *network.VirtualNetwork:
			return s.putVNet(t, c, o)
		case *network.PublicIPAddress:
			return s.putPIP(t, c, o)
		case *compute.VirtualMachine:
			return s.putVM(t, c, o)
		}
		return nil, fmt.Errorf("put: unhandled type %s", typ)
	})
}

// finishPut stores obj (when key is set), records the operation and renders
// the response body.
func (s *Service) finishPut(t *txn, c *Call, key string, obj any, exists bool, location string) (*Result, error) {
	if key != "" {
		if err := t.putJSON(key, obj); err != nil {
			return nil, err
		}
	}
	op, err := s.newOp(t, "put", c.ID, location)
	if err != nil {
		return nil, err
	}
	if op.Status == OpInProgress && s.markUpdating(obj) {
		if err := t.putJSON(resKey(c.ID.Root()), obj); err != nil {
			return nil, err
		}
	}
	body, err := s.renderBody(t, obj, c.APIVersion)
	if err != nil {
		return nil, err
	}
	status := http.StatusCreated
	if exists {
		status = http.StatusOK
	}
	return &Result{Status: status, Body: body, Operation: op}, nil
}

// render fills the read-only back-references of a stored object.
func (s *Service) render(t *txn, obj any) error {
	switch o := obj.(type) {
	case *network.LoadBalancer:
		return s.renderLB(t, o)
	case *network.VirtualNetwork:
		return s.renderVNet(t, o)
	}
	return nil
}

func (s *Service) renderBody(t *txn, obj any, v arm.APIVersion) ([]byte, error) {
	if err := s.render(t, obj); err != nil {
		return nil, err
	}
	trimFor(obj, v)
	return marshal(obj)
}

// Get returns a resource or a readable child.
func (s *Service) Get(ctx context.Context, c *Call) (*Result, error) {
	typ := lowerType(c.ID)
	if r, _ := Known(typ); !r {
		return nil, arm.Errorf(http.StatusNotFound, arm.CodeInvalidResourceType, "The resource type '%s' could not be found in the namespace '%s'.", c.ID.Type(), c.ID.Namespace)
	}
	t := newTxn(ctx, s.st)
	root := c.ID.Root()
	obj := newObject(lowerType(root))
	ok, err := t.getJSON(resKey(root), obj)
	if err != nil {
		return nil, err
	}
	if !ok {
		if c.ID.Depth() > 1 {
			if gok, err := s.groupExists(t, c.ID.SubscriptionID, c.ID.ResourceGroup); err != nil {
				return nil, err
			} else if !gok {
				return nil, groupNotFound(c.ID.ResourceGroup)
			}
			return nil, notFound(root)
		}
		if gok, err := s.groupExists(t, c.ID.SubscriptionID, c.ID.ResourceGroup); err != nil {
			return nil, err
		} else if !gok {
			return nil, groupNotFound(c.ID.ResourceGroup)
		}
		return nil, notFound(c.ID)
	}
	if err := s.render(t, obj); err != nil {
		return nil, err
	}
	trimFor(obj, c.APIVersion)
	if c.ID.Depth() == 1 {
		body, err := marshal(obj)
		return &Result{Status: http.StatusOK, Body: body}, err
	}
	child, found := findChild(obj, c.ID.Types[1], c.ID.Name())
	if !found {
		return nil, notFound(c.ID)
	}
	body, err := marshal(child)
	return &Result{Status: http.StatusOK, Body: body}, err
}

func findChild(obj any, coll, name string) (any, bool) {
	switch o := obj.(type) {
	case *network.LoadBalancer:
		return childOf(o, coll, name)
	case *network.NetworkInterface:
		for _, ic := range o.Properties.IPConfigurations {
			if strings.EqualFold(ic.Name, name) {
				return ic, true
			}
		}
	case *network.VirtualNetwork:
		for _, sn := range o.Properties.Subnets {
			if strings.EqualFold(sn.Name, name) {
				return sn, true
			}
		}
	}
	return nil, false
}

// ListChildren lists one child collection of a resource (id is the parent;
// coll the collection name).
func (s *Service) ListChildren(ctx context.Context, c *Call, coll string) ([]json.RawMessage, error) {
	t := newTxn(ctx, s.st)
	obj := newObject(lowerType(c.ID))
	if obj == nil {
		return nil, arm.Errorf(http.StatusNotFound, arm.CodeInvalidResourceType, "The resource type '%s/%s' could not be found.", c.ID.Type(), coll)
	}
	ok, err := t.getJSON(resKey(c.ID), obj)
	if err != nil {
		return nil, err
	}
	if !ok {
		if gok, err := s.groupExists(t, c.ID.SubscriptionID, c.ID.ResourceGroup); err != nil {
			return nil, err
		} else if !gok {
			return nil, groupNotFound(c.ID.ResourceGroup)
		}
		return nil, notFound(c.ID)
	}
	if err := s.render(t, obj); err != nil {
		return nil, err
	}
	trimFor(obj, c.APIVersion)
	var items []any
	switch o := obj.(type) {
	case *network.LoadBalancer:
		l, ok := childList(o, coll)
		if !ok {
			return nil, arm.Errorf(http.StatusNotFound, arm.CodeInvalidResourceType, "The resource type '%s/%s' could not be found.", c.ID.Type(), coll)
		}
		items = l
	case *network.NetworkInterface:
		if !strings.EqualFold(coll, "ipConfigurations") {
			return nil, arm.Errorf(http.StatusNotFound, arm.CodeInvalidResourceType, "The resource type '%s/%s' could not be found.", c.ID.Type(), coll)
		}
		for _, ic := range o.Properties.IPConfigurations {
			items = append(items, ic)
		}
	case *network.VirtualNetwork:
		if !strings.EqualFold(coll, "subnets") {
			return nil, arm.Errorf(http.StatusNotFound, arm.CodeInvalidResourceType, "The resource type '%s/%s' could not be found.", c.ID.Type(), coll)
		}
		for _, sn := range o.Properties.Subnets {
			items = append(items, sn)
		}
	default:
		return nil, arm.Errorf(http.StatusNotFound, arm.CodeInvalidResourceType, "The resource type '%s/%s' could not be found.", c.ID.Type(), coll)
	}
	out := make([]json.RawMessage, 0, len(items))
	for _, it := range items {
		b, err := marshal(it)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// Page is one page of a list.
type Page struct {
	Items []json.RawMessage
	// Next is the continuation token of the next page ("" on the last).
	Next string
}

// List lists top-level resources of a type in a subscription or, with rg
// set, in one group. after is a continuation token from a previous page.
func (s *Service) List(ctx context.Context, sub, rg, namespace, typ string, v arm.APIVersion, after string, limit int) (*Page, error) {
	lt := strings.ToLower(namespace + "/" + typ)
	if newObject(lt) == nil {
		return nil, arm.Errorf(http.StatusNotFound, arm.CodeInvalidResourceType, "The resource type '%s' could not be found in the namespace '%s'.", typ, namespace)
	}
	t := newTxn(ctx, s.st)
	if rg != "" {
		if ok, err := s.groupExists(t, sub, rg); err != nil {
			return nil, err
		} else if !ok {
			return nil, groupNotFound(rg)
		}
	}
	prefix := typePrefix(sub, namespace, typ, rg)
	opts := store.ListOptions{After: after}
	if limit > 0 {
		opts.Limit = limit + 1 // one more tells whether a next page exists
	}
	kvs, _, err := s.st.List(ctx, prefix, opts)
	if err != nil {
		return nil, err
	}
	page := &Page{Items: make([]json.RawMessage, 0, len(kvs))}
	if limit > 0 && len(kvs) > limit {
		kvs = kvs[:limit]
		page.Next = kvs[len(kvs)-1].Key
	}
	for _, kv := range kvs {
		obj := newObject(lt)
		if err := json.Unmarshal(kv.Value, obj); err != nil {
			return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
		}
		b, err := s.renderBody(t, obj, v)
		if err != nil {
			return nil, err
		}
		page.Items = append(page.Items, b)
	}
	return page, nil
}

// Delete deletes a resource or writable child. A missing resource answers
// 204, as NRP does.
func (s *Service) Delete(ctx context.Context, c *Call) (*Result, error) {
	typ := lowerType(c.ID)
	if _, w := Known(typ); !w {
		return nil, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed, "The resource type '%s' does not support DELETE.", c.ID.Type())
	}
	return s.retry(ctx, func(t *txn) (*Result, error) {
		if ok, err := s.groupExists(t, c.ID.SubscriptionID, c.ID.ResourceGroup); err != nil {
			return nil, err
		} else if !ok {
			return nil, groupNotFound(c.ID.ResourceGroup)
		}
		switch typ {
		case tPool, tNAT:
			return s.deleteLBChild(t, c)
		case tSubnet:
			return s.deleteSubnet(t, c)
		}
		obj := newObject(typ)
		ok, err := t.getJSON(resKey(c.ID), obj)
		if err != nil {
			return nil, err
		}
		if !ok {
			if c.IfMatch != "" {
				return nil, checkPreconditions(c, false, "")
			}
			return &Result{Status: http.StatusNoContent}, nil
		}
		location := ""
		switch o := obj.(type) {
		case *network.LoadBalancer:
			if err := checkPreconditions(c, true, o.Etag); err != nil {
				return nil, err
			}
			location = o.Location
			err = s.deleteLB(t, c.ID, o)
		case *network.NetworkInterface:
			if err := checkPreconditions(c, true, o.Etag); err != nil {
				return nil, err
			}
			location = o.Location
			err = s.deleteNIC(t, c.ID, o)
		case *network.VirtualNetwork:
			if err := checkPreconditions(c, true, o.Etag); err != nil {
				return nil, err
			}
			location = o.Location
			err = s.deleteVNet(t, c.ID, o)
		case *network.PublicIPAddress:
			if err := checkPreconditions(c, true, o.Etag); err != nil {
				return nil, err
			}
			location = o.Location
			err = s.deletePIP(t, c.ID, o)
		case *compute.VirtualMachine:
			location = o.Location
			err = s.deleteVM(t, c.ID, o)
		}
		if err != nil {
			return nil, err
		}
		op, err := s.newOp(t, "delete", c.ID, location)
		if err != nil {
			return nil, err
		}
		return &Result{Status: http.StatusAccepted, Operation: op}, nil
	})
}

// PatchTags replaces the tags of a top-level resource (updateTags).
func (s *Service) PatchTags(ctx context.Context, c *Call) (*Result, error) {
	typ := lowerType(c.ID)
	if c.ID.Depth() != 1 || newObject(typ) == nil {
		return nil, arm.Errorf(http.StatusMethodNotAllowed, arm.CodeMethodNotAllowed, "The resource type '%s' does not support PATCH.", c.ID.Type())
	}
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	if err := decodeBody(c.Body, &in); err != nil {
		return nil, err
	}
	return s.retry(ctx, func(t *txn) (*Result, error) {
		var doc map[string]json.RawMessage
		ok, err := t.getJSON(resKey(c.ID), &doc)
		if err != nil {
			return nil, err
		}
		if !ok {
			if gok, err := s.groupExists(t, c.ID.SubscriptionID, c.ID.ResourceGroup); err != nil {
				return nil, err
			} else if !gok {
				return nil, groupNotFound(c.ID.ResourceGroup)
			}
			return nil, notFound(c.ID)
		}
		var cur struct {
			Etag string `json:"etag"`
		}
		_ = json.Unmarshal(mustJSON(doc), &cur)
		if err := checkPreconditions(c, true, cur.Etag); err != nil {
			return nil, err
		}
		if in.Tags == nil {
			delete(doc, "tags")
		} else {
			doc["tags"] = mustJSON(in.Tags)
		}
		if _, has := doc["etag"]; has {
			etag := arm.NewETag()
			doc["etag"] = mustJSON(etag)
		}
		obj := newObject(typ)
		if err := json.Unmarshal(mustJSON(doc), obj); err != nil {
			return nil, err
		}
		setChildEtags(obj)
		if err := t.putJSON(resKey(c.ID), obj); err != nil {
			return nil, err
		}
		body, err := s.renderBody(t, obj, c.APIVersion)
		return &Result{Status: http.StatusOK, Body: body}, err
	})
}

// setChildEtags gives every child of a resource the resource's etag, as
// NRP shows it.
func setChildEtags(obj any) {
	switch o := obj.(type) {
	case *network.LoadBalancer:
		for _, c := range lbChildren(o) {
			c.Etag = o.Etag
		}
	case *network.VirtualNetwork:
		for _, c := range o.Properties.Subnets {
			c.Etag = o.Etag
		}
	case *network.NetworkInterface:
		for _, c := range o.Properties.IPConfigurations {
			c.Etag = o.Etag
		}
	}
}

// lbChild is one child of a load balancer, of any collection: its common
// fields and its provisioningState.
type lbChild struct {
	*network.Child
	state *string
}

// lbChildren lists the children of every collection of lb.
func lbChildren(lb *network.LoadBalancer) []lbChild {
	p := &lb.Properties
	var out []lbChild
	for _, x := range p.FrontendIPConfigurations {
		out = append(out, lbChild{&x.Child, &x.Properties.ProvisioningState})
	}
	for _, x := range p.BackendAddressPools {
		out = append(out, lbChild{&x.Child, &x.Properties.ProvisioningState})
	}
	for _, x := range p.LoadBalancingRules {
		out = append(out, lbChild{&x.Child, &x.Properties.ProvisioningState})
	}
	for _, x := range p.Probes {
		out = append(out, lbChild{&x.Child, &x.Properties.ProvisioningState})
	}
	for _, x := range p.InboundNATRules {
		out = append(out, lbChild{&x.Child, &x.Properties.ProvisioningState})
	}
	for _, x := range p.InboundNATPools {
		out = append(out, lbChild{&x.Child, &x.Properties.ProvisioningState})
	}
	for _, x := range p.OutboundRules {
		out = append(out, lbChild{&x.Child, &x.Properties.ProvisioningState})
	}
	return out
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal of decoded JSON failed: %v", err))
	}
	return b
}

// putLBChild handles PUT of a backend pool or inbound NAT rule: the stored
// load balancer with that child replaced goes through the whole LB path.
func (s *Service) putLBChild(t *txn, c *Call) (*Result, error) {
	root := c.ID.Root()
	lb, ok, err := s.loadLB(t, root)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, parentNotFound(c.ID)
	}
	coll, name := c.ID.Types[1], c.ID.Name()
	cur, exists := childOf(lb, coll, name)
	if err := checkPreconditions(c, exists, lb.Etag); err != nil {
		return nil, err
	}
	existing, _, err := s.loadLB(t, root)
	if err != nil {
		return nil, err
	}
	prefix := ""
	switch strings.ToLower(coll) {
	case "backendaddresspools":
		var pool network.BackendAddressPool
		if err := decodeBody(c.Body, &pool); err != nil {
			return nil, err
		}
		pool.Name = name
		idx := len(lb.Properties.BackendAddressPools)
		for i, b := range lb.Properties.BackendAddressPools {
			if strings.EqualFold(b.Name, name) {
				pool.Name, idx = b.Name, i
			}
		}
		if idx == len(lb.Properties.BackendAddressPools) {
			lb.Properties.BackendAddressPools = append(lb.Properties.BackendAddressPools, &pool)
		} else {
			lb.Properties.BackendAddressPools[idx] = &pool
		}
		prefix = fmt.Sprintf("properties.backendAddressPools[%d].", idx)
	case "inboundnatrules":
		var rule network.InboundNATRule
		if err := decodeBody(c.Body, &rule); err != nil {
			return nil, err
		}
		rule.Name = name
		idx := len(lb.Properties.InboundNATRules)
		for i, r := range lb.Properties.InboundNATRules {
			if strings.EqualFold(r.Name, name) {
				rule.Name, idx = r.Name, i
			}
		}
		if idx == len(lb.Properties.InboundNATRules) {
			lb.Properties.InboundNATRules = append(lb.Properties.InboundNATRules, &rule)
		} else {
			lb.Properties.InboundNATRules[idx] = &rule
		}
		prefix = fmt.Sprintf("properties.inboundNatRules[%d].", idx)
	}
	saved, errs, err := s.putLB(t, c, lb, existing)
	if err != nil {
		return nil, err
	}
	if e := errs.ToError(); e != nil {
		// Point targets at the child body the client sent.
		retarget(e, func(t string) string { return strings.TrimPrefix(t, prefix) })
		return nil, e
	}
	op, err := s.newOp(t, "put", c.ID, saved.Location)
	if err != nil {
		return nil, err
	}
	if op.Status == OpInProgress && s.markUpdating(saved) {
		if err := t.putJSON(resKey(root), saved); err != nil {
			return nil, err
		}
	}
	if err := s.renderLB(t, saved); err != nil {
		return nil, err
	}
	trimLB(saved, c.APIVersion)
	child, _ := childOf(saved, coll, name)
	body, err := marshal(child)
	status := http.StatusCreated
	if cur != nil {
		status = http.StatusOK
	}
	return &Result{Status: status, Body: body, Operation: op}, err
}

func (s *Service) deleteLBChild(t *txn, c *Call) (*Result, error) {
	root := c.ID.Root()
	lb, ok, err := s.loadLB(t, root)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, parentNotFound(c.ID)
	}
	coll, name := c.ID.Types[1], c.ID.Name()
	if _, exists := childOf(lb, coll, name); !exists {
		if c.IfMatch != "" {
			return nil, checkPreconditions(c, false, "")
		}
		return &Result{Status: http.StatusNoContent}, nil
	}
	if err := checkPreconditions(c, true, lb.Etag); err != nil {
		return nil, err
	}
	existing, _, err := s.loadLB(t, root)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(coll) {
	case "backendaddresspools":
		out := lb.Properties.BackendAddressPools[:0]
		for _, b := range lb.Properties.BackendAddressPools {
			if !strings.EqualFold(b.Name, name) {
				out = append(out, b)
			}
		}
		lb.Properties.BackendAddressPools = out
	case "inboundnatrules":
		out := lb.Properties.InboundNATRules[:0]
		for _, r := range lb.Properties.InboundNATRules {
			if !strings.EqualFold(r.Name, name) {
				out = append(out, r)
			}
		}
		lb.Properties.InboundNATRules = out
	}
	saved, errs, err := s.putLB(t, c, lb, existing)
	if err != nil {
		return nil, err
	}
	if e := errs.ToError(); e != nil {
		return nil, e
	}
	op, err := s.newOp(t, "delete", c.ID, saved.Location)
	if err != nil {
		return nil, err
	}
	return &Result{Status: http.StatusAccepted, Operation: op}, nil
}
