package rp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/arm/field"
	"github.com/paddock-lb/paddock/internal/store"
)

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

// decodeBody decodes a JSON request body into v, turning syntax and type
// errors into InvalidRequestFormat with the offending JSON path as target.
func decodeBody(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return arm.BadRequest(arm.CodeInvalidRequestContent, "The request content was invalid and could not be deserialized: the body is empty.")
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return arm.BadRequest(arm.CodeInvalidRequestFormat, "Cannot parse the request. Invalid JSON at offset %d: %s.", se.Offset, se.Error())
	case errors.As(err, &te):
		target := bodyPath(body, te.Field, te.Value)
		return arm.BadRequest(arm.CodeInvalidRequestFormat, "Cannot parse the request. Value of type %s is not valid for property '%s' (expected %s).", te.Value, target, te.Type.String()).WithTarget(target)
	}
	return arm.BadRequest(arm.CodeInvalidRequestFormat, "Cannot parse the request. %s", err.Error())
}

// bodyPath turns the field of a JSON type error into the JSON path of the
// offending value in body. encoding/json reports the Go field path: no
// array indexes, and embedded structs named ("Tracked.location"); the
// value is found again in the body, following the path through arrays to
// the element whose value has the reported JSON kind, e.g.
// properties.loadBalancingRules[1].properties.frontendPort.
func bodyPath(body []byte, goField, kind string) string {
	var doc any
	if goField == "" || json.Unmarshal(body, &doc) != nil {
		return goField
	}
	if f := strings.Fields(kind); len(f) > 0 {
		kind = f[0] // "number 1e400" for overflows
	}
	if p, ok := findValue(doc, strings.Split(goField, "."), kind, ""); ok {
		return p
	}
	return goField
}

func findValue(v any, segs []string, kind, at string) (string, bool) {
	arr, isArr := v.([]any)
	if len(segs) == 0 {
		if jsonKind(v) == kind {
			return at, true
		}
		if !isArr {
			return "", false
		}
	}
	if isArr {
		for i, el := range arr {
			if p, ok := findValue(el, segs, kind, at+"["+strconv.Itoa(i)+"]"); ok {
				return p, true
			}
		}
		return "", false
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	matched := false
	for _, k := range keys {
		if !strings.EqualFold(k, segs[0]) {
			continue
		}
		matched = true
		next := k
		if at != "" {
			next = at + "." + k
		}
		if p, ok := findValue(obj[k], segs[1:], kind, next); ok {
			return p, true
		}
	}
	if !matched {
		// Not a JSON property: the Go name of an embedded struct.
		return findValue(v, segs[1:], kind, at)
	}
	return "", false
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

// cannotParse wraps a shape error the way NRP reports it: 400
// InvalidRequestFormat "Cannot parse the request." with the reason in
// details (e.g. InvalidJsonReferenceWrongType).
func cannotParse(reason *arm.Error) *arm.Error {
	return &arm.Error{Status: http.StatusBadRequest, Code: arm.CodeInvalidRequestFormat, Message: "Cannot parse the request.", Target: reason.Target, Details: []*arm.Error{reason}}
}

// retarget rewrites the targets of e and of all its details.
func retarget(e *arm.Error, f func(string) string) {
	e.Target = f(e.Target)
	for _, d := range e.Details {
		retarget(d, f)
	}
}

// Network resource names: 1-80 characters, start alphanumeric, end
// alphanumeric or underscore, middle [A-Za-z0-9_.-].
var networkName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$`)

func validName(name string) bool { return networkName.MatchString(name) }

func checkName(id arm.ResourceID) error {
	name := id.Name()
	if !validName(name) {
		return arm.BadRequest(arm.CodeInvalidResourceName, "Resource name %s is invalid. The name can be up to 80 characters long. It must begin with a word character, and it must end with a word character or with '_'. The name may contain word characters or '.', '-', '_'.", name)
	}
	return nil
}

func notFound(id arm.ResourceID) *arm.Error {
	if id.Depth() > 1 {
		return arm.Errorf(http.StatusNotFound, arm.CodeNotFound, "Resource %s not found.", id.String())
	}
	return arm.Errorf(http.StatusNotFound, arm.CodeResourceNotFound,
		"The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
		id.Type(), id.Name(), id.ResourceGroup)
}

func parentNotFound(id arm.ResourceID) *arm.Error {
	p := id.Root()
	return arm.Errorf(http.StatusNotFound, arm.CodeParentResourceNotFound,
		"Can not perform requested operation on nested resource. Parent resource '%s' not found.", p.Name())
}

func groupNotFound(rg string) *arm.Error {
	return arm.Errorf(http.StatusNotFound, arm.CodeResourceGroupNotFound, "Resource group '%s' could not be found.", rg)
}

func invalidRef(ref, referrer string, p field.Path) *arm.Error {
	return arm.BadRequest(arm.CodeInvalidResourceReference,
		"Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.", ref, referrer).WithTarget(p.String())
}

func wrongRefType(ref, want string, p field.Path) *arm.Error {
	return cannotParse(arm.BadRequest(arm.CodeWrongReferenceType,
		"Reference Id %s is referencing resource of a wrong type. The Id is expected to reference resources of type %s. Path %s.", ref, want, p.String()).WithTarget(p.String()))
}

func malformedRef(ref string, p field.Path) *arm.Error {
	return arm.BadRequest(arm.CodeLinkedInvalidPropertyID,
		"Property id '%s' at path '%s' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.", ref, p.String()).WithTarget(p.String())
}

// parseRef parses a reference and checks its type (e.g.
// "Microsoft.Network/virtualNetworks/subnets"). It adds an error to errs
// and returns ok=false when the reference is malformed or of the wrong type.
func parseRef(ref, wantType string, p field.Path, errs *field.ErrorList) (arm.ResourceID, bool) {
	id, err := arm.ParseResourceID(ref)
	if err != nil || id.Namespace == "" {
		errs.Append(malformedRef(ref, p))
		return id, false
	}
	if !id.IsType(wantType) {
		short := strings.TrimPrefix(wantType, "Microsoft.Network/")
		errs.Append(wrongRefType(ref, short, p))
		return id, false
	}
	return id, true
}

// checkPreconditions applies If-Match / If-None-Match against the current
// etag ("" when the resource does not exist).
func checkPreconditions(c *Call, exists bool, etag string) error {
	if c.IfMatch != "" {
		if !exists {
			return arm.Errorf(http.StatusPreconditionFailed, arm.CodePreconditionFailed, "The resource %s does not exist, but the request has an If-Match header.", c.ID.String())
		}
		if c.IfMatch != "*" && !etagMatch(c.IfMatch, etag) {
			return arm.Errorf(http.StatusPreconditionFailed, arm.CodePreconditionFailed, "The etag %s in the If-Match header does not match the current etag %s of resource %s.", c.IfMatch, etag, c.ID.String())
		}
	}
	if c.IfNoneMatch != "" && exists {
		if c.IfNoneMatch == "*" || etagMatch(c.IfNoneMatch, etag) {
			return arm.Errorf(http.StatusPreconditionFailed, arm.CodePreconditionFailed, "The resource %s already exists and the request has an If-None-Match header.", c.ID.String())
		}
	}
	return nil
}

func etagMatch(header, etag string) bool {
	norm := func(s string) string { return strings.Trim(strings.TrimPrefix(strings.TrimSpace(s), "W/"), `"`) }
	for _, h := range strings.Split(header, ",") {
		if norm(h) == norm(etag) {
			return true
		}
	}
	return false
}

// marshal renders a response body.
func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return b, nil
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

var storeListAll = store.ListOptions{}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
