// Package arm holds the Azure Resource Manager vocabulary shared by every
// layer of Paddock's control plane: resource IDs (parsed and compared
// case-insensitively, printed with the casing they were given), api-versions,
// ETags, provisioning states and the ARM error model.
package arm

import (
	"fmt"
	"strings"
)

// ResourceID is a parsed ARM resource ID:
//
//	/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{type}/{name}]...
//
// A resource-group ID has no Namespace; a subscription ID has no
// ResourceGroup. Types and Names have the same length. The zero value is not
// a valid ID.
type ResourceID struct {
	SubscriptionID string
	ResourceGroup  string
	Namespace      string   // e.g. "Microsoft.Network"
	Types          []string // e.g. ["loadBalancers", "backendAddressPools"]
	Names          []string // e.g. ["lb1", "pool1"]
}

// ParseResourceID parses an ARM resource ID. Keywords (subscriptions,
// resourceGroups, providers) match in any casing; empty segments from
// doubled slashes are ignored; the casing of names is kept.
func ParseResourceID(s string) (ResourceID, error) {
	var id ResourceID
	segs := make([]string, 0, 12)
	for _, p := range strings.Split(s, "/") {
		if p != "" {
			segs = append(segs, p)
		}
	}
	if !strings.HasPrefix(s, "/") || len(segs) < 2 || !strings.EqualFold(segs[0], "subscriptions") {
		return id, fmt.Errorf("parse resource id %q: must start with /subscriptions/{subscriptionId}", s)
	}
	id.SubscriptionID = segs[1]
	rest := segs[2:]
	if len(rest) == 0 {
		return id, nil
	}
	if strings.EqualFold(rest[0], "resourceGroups") {
		if len(rest) < 2 {
			return id, fmt.Errorf("parse resource id %q: resource group name missing", s)
		}
		id.ResourceGroup = rest[1]
		rest = rest[2:]
	}
	if len(rest) == 0 {
		return id, nil
	}
	if !strings.EqualFold(rest[0], "providers") || len(rest) < 2 {
		return id, fmt.Errorf("parse resource id %q: expected providers/{namespace}", s)
	}
	id.Namespace = rest[1]
	rest = rest[2:]
	if len(rest) == 0 || len(rest)%2 != 0 {
		return id, fmt.Errorf("parse resource id %q: expected {type}/{name} pairs after the namespace", s)
	}
	for i := 0; i < len(rest); i += 2 {
		id.Types = append(id.Types, rest[i])
		id.Names = append(id.Names, rest[i+1])
	}
	return id, nil
}

// String formats the ID with canonical keywords and the stored casing.
func (id ResourceID) String() string {
	var b strings.Builder
	b.Grow(128)
	b.WriteString("/subscriptions/")
	b.WriteString(id.SubscriptionID)
	if id.ResourceGroup != "" {
		b.WriteString("/resourceGroups/")
		b.WriteString(id.ResourceGroup)
	}
	if id.Namespace != "" {
		b.WriteString("/providers/")
		b.WriteString(id.Namespace)
		for i := range id.Types {
			b.WriteByte('/')
			b.WriteString(id.Types[i])
			b.WriteByte('/')
			b.WriteString(id.Names[i])
		}
	}
	return b.String()
}

// Key is the case-folded form of the ID, used for lookups and comparisons.
func (id ResourceID) Key() string { return strings.ToLower(id.String()) }

// Equal reports whether two IDs name the same resource (case-insensitively).
func (id ResourceID) Equal(o ResourceID) bool { return strings.EqualFold(id.String(), o.String()) }

// Name is the last name segment ("" for subscription and group IDs).
func (id ResourceID) Name() string {
	if len(id.Names) == 0 {
		if id.Namespace == "" {
			return id.ResourceGroup
		}
		return ""
	}
	return id.Names[len(id.Names)-1]
}

// Type is the full resource type, e.g. "Microsoft.Network/loadBalancers/backendAddressPools".
func (id ResourceID) Type() string {
	if id.Namespace == "" {
		return ""
	}
	return id.Namespace + "/" + strings.Join(id.Types, "/")
}

// IsType reports whether the ID's type equals t case-insensitively.
func (id ResourceID) IsType(t string) bool { return strings.EqualFold(id.Type(), t) }

// Depth is the number of type/name pairs below the namespace.
func (id ResourceID) Depth() int { return len(id.Types) }

// Parent returns the ID with the last type/name pair removed. It is only
// meaningful when Depth() > 1.
func (id ResourceID) Parent() ResourceID {
	p := id
	p.Types = append([]string(nil), id.Types[:len(id.Types)-1]...)
	p.Names = append([]string(nil), id.Names[:len(id.Names)-1]...)
	return p
}

// Root returns the top-level resource of a child ID (depth 1).
func (id ResourceID) Root() ResourceID {
	p := id
	p.Types = []string{id.Types[0]}
	p.Names = []string{id.Names[0]}
	return p
}

// Child returns the ID of a child resource.
func (id ResourceID) Child(typ, name string) ResourceID {
	c := id
	c.Types = append(append(make([]string, 0, len(id.Types)+1), id.Types...), typ)
	c.Names = append(append(make([]string, 0, len(id.Names)+1), id.Names...), name)
	return c
}

// GroupID returns the ID of the resource group that holds the resource.
func (id ResourceID) GroupID() ResourceID {
	return ResourceID{SubscriptionID: id.SubscriptionID, ResourceGroup: id.ResourceGroup}
}

// Resource builds the ID of a top-level resource.
func Resource(sub, rg, namespace, typ, name string) ResourceID {
	return ResourceID{SubscriptionID: sub, ResourceGroup: rg, Namespace: namespace, Types: []string{typ}, Names: []string{name}}
}

// SameID reports whether two ID strings name the same resource, comparing
// them case-insensitively after normalising keywords and slashes. Unparsable
// strings compare by case-folded text.
func SameID(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	ia, errA := ParseResourceID(a)
	ib, errB := ParseResourceID(b)
	if errA != nil || errB != nil {
		return false
	}
	return ia.Equal(ib)
}

// IDKey returns the case-folded canonical form of an ID string, or the
// case-folded string itself when it does not parse.
func IDKey(s string) string {
	id, err := ParseResourceID(s)
	if err != nil {
		return strings.ToLower(s)
	}
	return id.Key()
}
