package armhttp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/rp"
)

// route dispatches on the path. Keywords match in any casing.
func (h *Handler) route(req *request) error {
	s := req.segs
	m := req.r.Method
	switch {
	case len(s) == 1 && eq(s[0], "healthz"):
		if h.ready != nil && !h.ready() {
			writeJSON(req.w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
			return nil
		}
		writeJSON(req.w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	case len(s) == 3 && eq(s[0], "paddock") && eq(s[1], "v1") && eq(s[2], "status") && m == http.MethodGet:
		if h.status == nil {
			writeJSON(req.w, http.StatusOK, map[string]any{"dataPlane": "none", "loadBalancers": []any{}})
			return nil
		}
		writeJSON(req.w, http.StatusOK, map[string]any{"dataPlane": "userspace", "loadBalancers": h.status()})
		return nil
	case len(s) == 2 && eq(s[0], "metadata") && eq(s[1], "endpoints"):
		return h.metadata(req)
	case len(s) == 0 || !eq(s[0], "subscriptions"):
		return noRoute(req)
	case len(s) == 1:
		if m != http.MethodGet {
			return methodNotAllowed(req)
		}
		return h.listSubscriptions(req)
	}
	sub := s[1]
	rest := s[2:]
	switch {
	case len(rest) == 0:
		if m != http.MethodGet {
			return methodNotAllowed(req)
		}
		writeJSON(req.w, http.StatusOK, subscriptionBody(sub))
		return nil
	case eq(rest[0], "resourceGroups"):
		return h.routeGroup(req, sub, rest[1:])
	case eq(rest[0], "resources") && len(rest) == 1:
		return h.listResources(req, sub, "")
	case eq(rest[0], "providers") && len(rest) >= 2:
		return h.routeSubProvider(req, sub, rest[1], rest[2:])
	}
	return noRoute(req)
}

func subscriptionBody(sub string) map[string]any {
	return map[string]any{
		"id": "/subscriptions/" + sub, "subscriptionId": sub, "tenantId": "00000000-0000-0000-0000-0000000000aa",
		"displayName": "Paddock " + sub, "state": "Enabled",
		"subscriptionPolicies": map[string]string{"locationPlacementId": "Public_2014-09-01", "quotaId": "Paddock", "spendingLimit": "Off"},
	}
}

func (h *Handler) listSubscriptions(req *request) error {
	subs, err := h.rp.Subscriptions(req.r.Context(), h.defSub)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(subs))
	for _, s := range subs {
		out = append(out, subscriptionBody(s))
	}
	writeJSON(req.w, http.StatusOK, map[string]any{"value": out})
	return nil
}

// apiVersion checks the api-version query parameter for a namespace.
func (h *Handler) apiVersion(req *request, namespace, typ, location string) (arm.APIVersion, error) {
	v := req.query.Get("api-version")
	if v == "" {
		return "", arm.BadRequest(arm.CodeMissingAPIVersion, "The api-version query parameter (?api-version=) is required for all requests.")
	}
	if arm.SupportsAPIVersion(namespace, v) {
		return arm.APIVersion(v), nil
	}
	list := strings.Join(reversed(arm.APIVersions(namespace)), ", ")
	if eq(namespace, arm.NamespaceResources) {
		return "", arm.BadRequest(arm.CodeInvalidAPIVersion, "The api-version '%s' is invalid. The supported versions are '%s'.", v, list)
	}
	if location == "" {
		return "", arm.BadRequest(arm.CodeInvalidResourceType, "The resource type '%s' could not be found in the namespace '%s' for api version '%s'. The supported api-versions are '%s'.", typ, namespace, v, list)
	}
	return "", arm.BadRequest(arm.CodeNoRegisteredProvider, "No registered resource provider found for location '%s' and API version '%s' for type '%s'. The supported api-versions are '%s'. The supported locations are '%s'.", location, v, typ, list, location)
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func (h *Handler) routeGroup(req *request, sub string, rest []string) error {
	m := req.r.Method
	if len(rest) == 0 {
		if m != http.MethodGet {
			return methodNotAllowed(req)
		}
		if _, err := h.apiVersion(req, arm.NamespaceResources, "resourceGroups", ""); err != nil {
			return err
		}
		items, err := h.rp.ListGroups(req.r.Context(), sub)
		if err != nil {
			return err
		}
		raw := make([]json.RawMessage, len(items))
		for i, it := range items {
			raw[i] = it
		}
		writeJSON(req.w, http.StatusOK, map[string]any{"value": raw})
		return nil
	}
	rg := rest[0]
	rest = rest[1:]
	if len(rest) == 0 {
		v, err := h.apiVersion(req, arm.NamespaceResources, "resourceGroups", "")
		if err != nil {
			return err
		}
		c := &rp.Call{ID: arm.ResourceID{SubscriptionID: sub, ResourceGroup: rg}, APIVersion: v, Body: req.body}
		ctx := req.r.Context()
		switch m {
		case http.MethodPut:
			return h.respond(req, c, wrap(h.rp.PutGroup(ctx, c)))
		case http.MethodGet:
			return h.respond(req, c, wrap(h.rp.GetGroup(ctx, c)))
		case http.MethodHead:
			if _, err := h.rp.GetGroup(ctx, c); err != nil {
				req.w.WriteHeader(http.StatusNotFound)
				return nil
			}
			req.w.WriteHeader(http.StatusNoContent)
			return nil
		case http.MethodPatch:
			return h.respond(req, c, wrap(h.rp.PatchGroup(ctx, c)))
		case http.MethodDelete:
			return h.respond(req, c, wrap(h.rp.DeleteGroup(ctx, c)))
		}
		return methodNotAllowed(req)
	}
	if eq(rest[0], "resources") && len(rest) == 1 {
		return h.listResources(req, sub, rg)
	}
	if !eq(rest[0], "providers") || len(rest) < 3 {
		return noRoute(req)
	}
	ns, typ := rest[1], rest[2]
	after := rest[3:]
	if len(after) == 0 {
		if m != http.MethodGet {
			return methodNotAllowed(req)
		}
		return h.list(req, sub, rg, ns, typ)
	}
	id := arm.ResourceID{SubscriptionID: sub, ResourceGroup: rg, Namespace: ns, Types: []string{typ}, Names: []string{after[0]}}
	after = after[1:]
	for len(after) >= 2 {
		id = id.Child(after[0], after[1])
		after = after[2:]
	}
	return h.resource(req, id, after)
}

// resource serves a resource id, optionally followed by one trailing
// segment (a child collection or an action).
func (h *Handler) resource(req *request, id arm.ResourceID, tail []string) error {
	ns := id.Namespace
	if !eq(ns, arm.NamespaceNetwork) && !eq(ns, arm.NamespaceCompute) {
		return arm.Errorf(http.StatusNotFound, arm.CodeInvalidResourceType, "The resource namespace '%s' is not served by Paddock.", ns)
	}
	v, err := h.apiVersion(req, ns, strings.Join(id.Types, "/"), "local")
	if err != nil {
		return err
	}
	c := &rp.Call{ID: id, APIVersion: v, Body: req.body, IfMatch: req.r.Header.Get("If-Match"), IfNoneMatch: req.r.Header.Get("If-None-Match")}
	ctx := req.r.Context()
	m := req.r.Method
	if len(tail) == 1 {
		action := tail[0]
		switch {
		case m == http.MethodGet && id.Depth() == 1 && eq(id.Types[0], "loadBalancers") && eq(action, "networkInterfaces"):
			items, err := h.rp.LBNetworkInterfaces(ctx, c)
			return h.writeList(req, items, err)
		case m == http.MethodGet && id.Depth() == 1 && eq(id.Types[0], "networkInterfaces") && eq(action, "loadBalancers"):
			items, err := h.rp.NICLoadBalancers(ctx, c)
			return h.writeList(req, items, err)
		case m == http.MethodGet && id.Depth() == 1:
			items, err := h.rp.ListChildren(ctx, c, action)
			return h.writeList(req, items, err)
		case m == http.MethodPost && id.Depth() == 1 && eq(id.Types[0], "loadBalancers") && eq(action, "migrateToIpBased"):
			return h.respond(req, c, wrap(h.rp.MigrateToIPBased(ctx, c)))
		case m == http.MethodPost && id.Depth() == 2 && eq(id.Types[0], "loadBalancers") && eq(id.Types[1], "loadBalancingRules") && eq(action, "health"):
			return h.ruleHealth(req, c)
		case m == http.MethodPost && id.Depth() == 2 && eq(id.Types[1], "backendAddressPools") && eq(action, "queryInboundNatRulePortMapping"):
			return h.respond(req, c, wrap(h.rp.QueryNATPortMapping(ctx, c)))
		}
		return noRoute(req)
	}
	if len(tail) > 1 {
		return noRoute(req)
	}
	switch m {
	case http.MethodGet:
		return h.respond(req, c, wrap(h.rp.Get(ctx, c)))
	case http.MethodPut:
		return h.respond(req, c, wrap(h.rp.Put(ctx, c)))
	case http.MethodDelete:
		return h.respond(req, c, wrap(h.rp.Delete(ctx, c)))
	case http.MethodPatch:
		return h.respond(req, c, wrap(h.rp.PatchTags(ctx, c)))
	}
	return methodNotAllowed(req)
}

type outcome struct {
	res *rp.Result
	err error
}

func wrap(res *rp.Result, err error) outcome { return outcome{res, err} }

// respond writes a provider result, adding long-running-operation headers.
func (h *Handler) respond(req *request, c *rp.Call, o outcome) error {
	if o.err != nil {
		return o.err
	}
	res := o.res
	if op := res.Operation; op != nil {
		base := req.baseURL() + "/subscriptions/" + op.SubscriptionID + "/providers/" + op.Namespace + "/locations/" + url.PathEscape(strings.ReplaceAll(strings.ToLower(op.Location), " ", "")) + "/"
		q := "?api-version=" + url.QueryEscape(string(c.APIVersion))
		hd := req.w.Header()
		hd.Set("Azure-AsyncOperation", base+"operations/"+op.ID+q)
		if op.Kind == "delete" {
			hd.Set("Location", base+"operationResults/"+op.ID+q)
		}
		hd.Set("Retry-After", "1")
	}
	if res.Body == nil {
		if res.Status == http.StatusNoContent {
			req.w.WriteHeader(res.Status)
			return nil
		}
		req.w.Header().Set("Content-Length", "0")
		req.w.WriteHeader(res.Status)
		return nil
	}
	writeRaw(req.w, res.Status, res.Body)
	return nil
}

func (h *Handler) writeList(req *request, items []json.RawMessage, err error) error {
	if err != nil {
		return err
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	writeJSON(req.w, http.StatusOK, map[string]any{"value": items})
	return nil
}

// list serves a paged list of top-level resources.
func (h *Handler) list(req *request, sub, rg, ns, typ string) error {
	if !eq(ns, arm.NamespaceNetwork) && !eq(ns, arm.NamespaceCompute) {
		return arm.Errorf(http.StatusNotFound, arm.CodeInvalidResourceType, "The resource namespace '%s' is not served by Paddock.", ns)
	}
	v, err := h.apiVersion(req, ns, typ, "")
	if err != nil {
		return err
	}
	size := h.pageSize
	if top, err := strconv.Atoi(req.query.Get("$top")); err == nil && top > 0 && top < size {
		size = top
	}
	page, err := h.rp.List(req.r.Context(), sub, rg, ns, typ, v, req.query.Get("$skipToken"), size)
	if err != nil {
		return err
	}
	out := map[string]any{"value": page.Items}
	if page.Next != "" {
		u := *req.r.URL
		q := u.Query()
		q.Set("$skipToken", page.Next)
		u.RawQuery = q.Encode()
		out["nextLink"] = req.baseURL() + u.Path + "?" + u.RawQuery
	}
	writeJSON(req.w, http.StatusOK, out)
	return nil
}

// routeSubProvider serves subscription-level provider paths: lists across
// the subscription and operation status.
func (h *Handler) routeSubProvider(req *request, sub, ns string, rest []string) error {
	if len(rest) == 1 {
		if req.r.Method != http.MethodGet {
			return methodNotAllowed(req)
		}
		return h.list(req, sub, "", ns, rest[0])
	}
	if len(rest) == 4 && eq(rest[0], "locations") && (eq(rest[2], "operations") || eq(rest[2], "operationResults")) {
		if req.r.Method != http.MethodGet {
			return methodNotAllowed(req)
		}
		op, err := h.rp.GetOperation(req.r.Context(), sub, rest[3])
		if err != nil {
			return err
		}
		if eq(rest[2], "operationResults") {
			if op.Status == rp.OpInProgress {
				req.w.Header().Set("Location", req.baseURL()+req.r.URL.RequestURI())
				req.w.Header().Set("Retry-After", "1")
				req.w.WriteHeader(http.StatusAccepted)
				return nil
			}
			if op.Status == rp.OpFailed {
				return op.Error
			}
			req.w.WriteHeader(http.StatusNoContent)
			return nil
		}
		body := map[string]any{"id": req.r.URL.Path, "name": op.ID, "status": op.Status, "startTime": op.StartTime}
		if op.EndTime != nil {
			body["endTime"] = op.EndTime
		}
		if op.Error != nil {
			body["error"] = op.Error
		}
		if op.Status == rp.OpInProgress {
			req.w.Header().Set("Retry-After", "1")
		}
		writeJSON(req.w, http.StatusOK, body)
		return nil
	}
	return noRoute(req)
}

// listResources serves GET .../resources with the $filter forms clients
// use (resourceGroup, name, resourceType equality joined by "and").
func (h *Handler) listResources(req *request, sub, rg string) error {
	if req.r.Method != http.MethodGet {
		return methodNotAllowed(req)
	}
	if _, err := h.apiVersion(req, arm.NamespaceResources, "resources", ""); err != nil {
		return err
	}
	filter := map[string]string{}
	if f := req.query.Get("$filter"); f != "" {
		for _, part := range splitAnd(f) {
			k, v, ok := strings.Cut(part, " eq ")
			if !ok {
				return arm.BadRequest("InvalidFilter", "Unsupported $filter expression '%s'. Paddock supports equality on resourceGroup, name and resourceType joined by 'and'.", part)
			}
			filter[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), "'")
		}
	}
	if g, ok := filter["resourcegroup"]; ok {
		rg = g
	}
	types := [][2]string{{arm.NamespaceNetwork, "loadBalancers"}, {arm.NamespaceNetwork, "networkInterfaces"}, {arm.NamespaceNetwork, "virtualNetworks"}, {arm.NamespaceNetwork, "publicIPAddresses"}, {arm.NamespaceCompute, "virtualMachines"}}
	var out []map[string]any
	for _, t := range types {
		if rt, ok := filter["resourcetype"]; ok && !eq(rt, t[0]+"/"+t[1]) {
			continue
		}
		v := arm.LatestNetworkAPIVersion
		if t[0] == arm.NamespaceCompute {
			v = "2024-07-01"
		}
		page, err := h.rp.List(req.r.Context(), sub, rg, t[0], t[1], arm.APIVersion(v), "", 0)
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			var env struct {
				ID       string            `json:"id"`
				Name     string            `json:"name"`
				Type     string            `json:"type"`
				Location string            `json:"location"`
				Tags     map[string]string `json:"tags"`
			}
			if err := json.Unmarshal(it, &env); err != nil {
				return fmt.Errorf("decode list item: %w", err)
			}
			if n, ok := filter["name"]; ok && !eq(n, env.Name) {
				continue
			}
			item := map[string]any{"id": env.ID, "name": env.Name, "type": env.Type, "location": env.Location}
			if env.Tags != nil {
				item["tags"] = env.Tags
			}
			out = append(out, item)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return strings.ToLower(out[i]["id"].(string)) < strings.ToLower(out[j]["id"].(string))
	})
	if out == nil {
		out = []map[string]any{}
	}
	writeJSON(req.w, http.StatusOK, map[string]any{"value": out})
	return nil
}

func splitAnd(f string) []string {
	var out []string
	for _, p := range strings.Split(f, " and ") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// metadata serves the cloud metadata document clients use to discover the
// endpoints (/metadata/endpoints, three api-versions).
func (h *Handler) metadata(req *request) error {
	base := req.baseURL() + "/"
	doc := map[string]any{
		"name":            "Paddock",
		"resourceManager": base,
		"authentication": map[string]any{
			"loginEndpoint": base + "adfs", "audiences": []string{base}, "tenant": "common", "identityProvider": "AAD",
		},
		"microsoftGraphResourceId": base + "msgraph/", "graph": base + "graph/", "graphAudience": base + "graph/",
		"portal": base + "portal/", "batch": base + "batch/", "sqlManagement": base + "sql/", "media": base + "media/",
		"activeDirectoryDataLake": base + "datalake/",
		"suffixes":                map[string]string{"storage": "core.paddock.invalid", "keyVaultDns": "vault.paddock.invalid", "acrLoginServer": "azurecr.paddock.invalid", "sqlServerHostname": "sql.paddock.invalid"},
	}
	switch req.query.Get("api-version") {
	case "2015-01-01":
		writeJSON(req.w, http.StatusOK, map[string]any{
			"galleryEndpoint": base + "gallery/", "graphEndpoint": base + "graph/", "portalEndpoint": base + "portal/",
			"authentication": doc["authentication"],
		})
	case "2019-05-01":
		writeJSON(req.w, http.StatusOK, []any{doc})
	default:
		writeJSON(req.w, http.StatusOK, doc)
	}
	return nil
}
