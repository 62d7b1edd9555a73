package rp

import (
	"context"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/paddock-lb/paddock/internal/arm"
)

// ResourceGroup is Microsoft.Resources/resourceGroups.
type ResourceGroup struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Location   string            `json:"location"`
	ManagedBy  string            `json:"managedBy,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	Properties struct {
		ProvisioningState string `json:"provisioningState"`
	} `json:"properties"`
}

var groupName = regexp.MustCompile(`^[-\w._()]{1,90}$`)

// PutGroup creates or updates a resource group (synchronous, 201/200).
func (s *Service) PutGroup(ctx context.Context, c *Call) (*Result, error) {
	sub, name := c.ID.SubscriptionID, c.ID.ResourceGroup
	if !groupName.MatchString(name) || strings.HasSuffix(name, ".") {
		return nil, arm.BadRequest("InvalidResourceGroupName", "The provided resource group name '%s' has these invalid characters or is too long. The name can only be a letter, digit, '-', '.', '(', ')' or '_' and at most 90 characters, and cannot end with '.'.", name)
	}
	var in ResourceGroup
	if err := decodeBody(c.Body, &in); err != nil {
		return nil, err
	}
	if in.Location == "" {
		return nil, arm.BadRequest(arm.CodeLocationRequired, "The location property is required for this definition.").WithTarget("location")
	}
	return s.retry(ctx, func(t *txn) (*Result, error) {
		var cur ResourceGroup
		exists, err := t.getJSON(groupKey(sub, name), &cur)
		if err != nil {
			return nil, err
		}
		status := http.StatusCreated
		out := in
		out.ID = "/subscriptions/" + sub + "/resourceGroups/" + name
		out.Name = name
		if exists {
			status = http.StatusOK
			if cur.Properties.ProvisioningState == groupDeleting {
				return nil, groupBeingDeleted(name)
			}
			if !strings.EqualFold(normLocation(cur.Location), normLocation(in.Location)) {
				return nil, arm.Errorf(http.StatusConflict, "InvalidResourceGroupLocation", "Invalid resource group location '%s'. The Resource group already exists in location '%s'.", in.Location, cur.Location)
			}
			out.ID, out.Name, out.Location = cur.ID, cur.Name, cur.Location
		}
		out.Type = "Microsoft.Resources/resourceGroups"
		out.Properties.ProvisioningState = "Succeeded"
		if err := t.putJSON(groupKey(sub, name), out); err != nil {
			return nil, err
		}
		body, err := marshal(out)
		return &Result{Status: status, Body: body}, err
	})
}

// GetGroup returns a resource group.
func (s *Service) GetGroup(ctx context.Context, c *Call) (*Result, error) {
	t := newTxn(ctx, s.st)
	var g ResourceGroup
	ok, err := t.getJSON(groupKey(c.ID.SubscriptionID, c.ID.ResourceGroup), &g)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, groupNotFound(c.ID.ResourceGroup)
	}
	body, err := marshal(g)
	return &Result{Status: http.StatusOK, Body: body}, err
}

// PatchGroup replaces the tags (and managedBy) of a resource group.
func (s *Service) PatchGroup(ctx context.Context, c *Call) (*Result, error) {
	var in struct {
		Tags      map[string]string `json:"tags"`
		ManagedBy *string           `json:"managedBy"`
	}
	if err := decodeBody(c.Body, &in); err != nil {
		return nil, err
	}
	return s.retry(ctx, func(t *txn) (*Result, error) {
		var g ResourceGroup
		ok, err := t.getJSON(groupKey(c.ID.SubscriptionID, c.ID.ResourceGroup), &g)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, groupNotFound(c.ID.ResourceGroup)
		}
		if in.Tags != nil {
			g.Tags = in.Tags
		}
		if in.ManagedBy != nil {
			g.ManagedBy = *in.ManagedBy
		}
		if err := t.putJSON(groupKey(c.ID.SubscriptionID, c.ID.ResourceGroup), g); err != nil {
			return nil, err
		}
		body, err := marshal(g)
		return &Result{Status: http.StatusOK, Body: body}, err
	})
}

func (s *Service) groupExists(t *txn, sub, rg string) (bool, error) {
	_, ok, err := t.get(groupKey(sub, rg))
	return ok, err
}

// groupDeleting is the provisioning state of a group being deleted.
const groupDeleting = "Deleting"

func groupBeingDeleted(rg string) *arm.Error {
	return arm.Errorf(http.StatusConflict, "ResourceGroupBeingDeleted", "The resource group '%s' is in deprovisioning state and cannot perform this operation.", rg)
}

// requireGroup fails with ResourceGroupNotFound when the group of id is
// missing, and with ResourceGroupBeingDeleted while it is being deleted.
func (s *Service) requireGroup(t *txn, id arm.ResourceID) error {
	var g ResourceGroup
	ok, err := t.getJSON(groupKey(id.SubscriptionID, id.ResourceGroup), &g)
	if err != nil {
		return err
	}
	if !ok {
		return groupNotFound(id.ResourceGroup)
	}
	if g.Properties.ProvisioningState == groupDeleting {
		return groupBeingDeleted(id.ResourceGroup)
	}
	return nil
}

// setGroupState sets a group's provisioning state (from is the state it
// must have, "" for any).
func (s *Service) setGroupState(ctx context.Context, sub, rg, from, to string) error {
	_, err := s.retry(ctx, func(t *txn) (*Result, error) {
		var g ResourceGroup
		ok, err := t.getJSON(groupKey(sub, rg), &g)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, groupNotFound(rg)
		}
		if (from != "" && g.Properties.ProvisioningState != from) || g.Properties.ProvisioningState == to {
			return nil, nil
		}
		g.Properties.ProvisioningState = to
		return nil, t.putJSON(groupKey(sub, rg), g)
	})
	return err
}

// deleteOrder lists resource types in the order a group delete removes them:
// dependents before what they depend on.
var deleteOrder = []struct{ ns, typ string }{
	{arm.NamespaceCompute, "virtualMachines"},
	{arm.NamespaceNetwork, "networkInterfaces"},
	{arm.NamespaceNetwork, "loadBalancers"},
	{arm.NamespaceNetwork, "publicIPAddresses"},
	{arm.NamespaceNetwork, "virtualNetworks"},
}

// DeleteGroup deletes a resource group and everything in it, in dependency
// order, each resource with its own guards (a subnet still used from
// another group stops the delete, as in Azure). The group is Deleting
// meanwhile: a create that read it before conflicts and, retried, is
// refused, and one that committed before is found by the cascade.
func (s *Service) DeleteGroup(ctx context.Context, c *Call) (*Result, error) {
	sub, rg := c.ID.SubscriptionID, c.ID.ResourceGroup
	if err := s.setGroupState(ctx, sub, rg, "", groupDeleting); err != nil {
		return nil, err
	}
	if err := s.deleteGroupResources(ctx, sub, rg); err != nil {
		if rerr := s.setGroupState(ctx, sub, rg, groupDeleting, "Succeeded"); rerr != nil {
			s.log.Error("restore resource group state after a failed delete", "group", rg, "err", rerr)
		}
		return nil, err
	}
	return s.retry(ctx, func(t *txn) (*Result, error) {
		t.del(groupKey(sub, rg))
		op, err := s.newOp(t, "delete", c.ID, "")
		if err != nil {
			return nil, err
		}
		return &Result{Status: http.StatusAccepted, Operation: op}, nil
	})
}

func (s *Service) deleteGroupResources(ctx context.Context, sub, rg string) error {
	for _, rt := range deleteOrder {
		kvs, _, err := s.st.List(ctx, typePrefix(sub, rt.ns, rt.typ, rg), storeListAll)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var env struct {
				ID string `json:"id"`
			}
			if err := jsonUnmarshal(kv.Value, &env); err != nil {
				return err
			}
			id, err := arm.ParseResourceID(env.ID)
			if err != nil {
				return err
			}
			if _, err := s.Delete(ctx, &Call{ID: id, APIVersion: arm.LatestNetworkAPIVersion}); err != nil {
				return err
			}
		}
	}
	return nil
}

// ListGroups lists the resource groups of a subscription.
func (s *Service) ListGroups(ctx context.Context, sub string) ([][]byte, error) {
	kvs, _, err := s.st.List(ctx, groupPrefix(sub), storeListAll)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, kv.Value)
	}
	return out, nil
}

// Subscriptions lists the subscription ids that hold resource groups, plus
// the given defaults.
func (s *Service) Subscriptions(ctx context.Context, defaults ...string) ([]string, error) {
	kvs, _, err := s.st.List(ctx, prefixGroup, storeListAll)
	if err != nil {
		return nil, err
	}
	seen := map[string]string{}
	for _, d := range defaults {
		seen[strings.ToLower(d)] = d
	}
	for _, kv := range kvs {
		var g ResourceGroup
		if err := jsonUnmarshal(kv.Value, &g); err != nil {
			return nil, err
		}
		id, err := arm.ParseResourceID(g.ID)
		if err != nil {
			continue
		}
		if _, ok := seen[strings.ToLower(id.SubscriptionID)]; !ok {
			seen[strings.ToLower(id.SubscriptionID)] = id.SubscriptionID
		}
	}
	out := make([]string, 0, len(seen))
	for _, v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out, nil
}

func normLocation(l string) string { return strings.ReplaceAll(strings.ToLower(l), " ", "") }
