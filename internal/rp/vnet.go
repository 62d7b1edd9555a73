package rp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/arm/field"
	"github.com/paddock-lb/paddock/internal/resources/network"
)

func (s *Service) loadVNet(t *txn, id arm.ResourceID) (*network.VirtualNetwork, bool, error) {
	var v network.VirtualNetwork
	ok, err := t.getJSON(resKey(id), &v)
	if err != nil || !ok {
		return nil, ok, err
	}
	return &v, true, nil
}

// validateVNet checks a virtual network body; existing is the stored
// version (nil on create).
func (s *Service) validateVNet(t *txn, v *network.VirtualNetwork, existing *network.VirtualNetwork) (field.ErrorList, error) {
	var errs field.ErrorList
	props := field.NewPath("properties")
	var space []netip.Prefix
	if v.Properties.AddressSpace == nil || len(v.Properties.AddressSpace.AddressPrefixes) == 0 {
		errs.Add("InvalidAddressSpace", props.Child("addressSpace", "addressPrefixes"), "Virtual network %s must have at least one address prefix in its address space.", v.ID)
	} else {
		for i, ap := range v.Properties.AddressSpace.AddressPrefixes {
			p, err := netip.ParsePrefix(ap)
			if err != nil || p != p.Masked() {
				errs.Add("InvalidAddressPrefixFormat", props.Child("addressSpace", "addressPrefixes").Index(i), "Address prefix %s of virtual network %s is not a valid CIDR block.", ap, v.ID)
				continue
			}
			space = append(space, p)
		}
	}
	seen := map[string]bool{}
	var prefixes []netip.Prefix
	var owners []string
	for i, sn := range v.Properties.Subnets {
		p := props.Child("subnets").Index(i)
		if sn == nil {
			errs.Add(arm.CodeInvalidRequestFormat, p, "Subnet entry must be an object.")
			continue
		}
		if !validName(sn.Name) {
			errs.Add(arm.CodeInvalidResourceName, p.Child("name"), "Subnet name '%s' is invalid.", sn.Name)
			continue
		}
		if seen[strings.ToLower(sn.Name)] {
			errs.Add("DuplicateResourceName", p.Child("name"), "Virtual network %s has two subnets with the same name %s.", v.ID, sn.Name)
			continue
		}
		seen[strings.ToLower(sn.Name)] = true
		sp, ok := subnetPrefix(sn.Properties.AddressPrefix, sn.Properties.AddressPrefixes)
		if !ok || sp != sp.Masked() {
			errs.Add("InvalidAddressPrefixFormat", p.Child("properties", "addressPrefix"), "Subnet %s has an invalid address prefix '%s'.", sn.Name, sn.Properties.AddressPrefix)
			continue
		}
		if sp.Addr().Is4() && sp.Bits() > 29 {
			errs.Add("InvalidSubnetPrefixLength", p.Child("properties", "addressPrefix"), "Subnet %s with prefix %s is too small: the smallest IPv4 subnet is /29.", sn.Name, sp)
		}
		inside := false
		for _, sp2 := range space {
			if sp2.Bits() <= sp.Bits() && sp2.Contains(sp.Addr()) {
				inside = true
			}
		}
		if !inside && len(space) > 0 {
			errs.Add("NetcfgSubnetRangeOutsideVnet", p.Child("properties", "addressPrefix"), "Subnet '%s' is not valid because its IP address range %s is outside the IP address range of virtual network '%s'.", sn.Name, sp, v.Name)
		}
		for j, other := range prefixes {
			if other.Overlaps(sp) {
				errs.Add("NetcfgSubnetRangesOverlap", p.Child("properties", "addressPrefix"), "Subnet '%s' is not valid because its IP address range overlaps with that of an existing subnet '%s' in virtual network '%s'.", sn.Name, owners[j], v.Name)
			}
		}
		prefixes = append(prefixes, sp)
		owners = append(owners, sn.Name)
	}
	if existing == nil {
		return errs, nil
	}
	// Subnets in use may neither disappear nor shrink away from their addresses.
	used, err := s.usedIPs(t, v.ID)
	if err != nil {
		return nil, err
	}
	for _, old := range existing.Properties.Subnets {
		var now *network.Subnet
		for _, sn := range v.Properties.Subnets {
			if sn != nil && strings.EqualFold(sn.Name, old.Name) {
				now = sn
			}
		}
		users, err := s.subnetUsers(t, old.ID)
		if err != nil {
			return nil, err
		}
		if len(users) == 0 {
			continue
		}
		if now == nil {
			errs.Append(subnetInUse(old, users[0]).WithTarget(props.Child("subnets").String()))
			continue
		}
		np, ok := subnetPrefix(now.Properties.AddressPrefix, now.Properties.AddressPrefixes)
		if !ok {
			continue
		}
		op, _ := subnetPrefix(old.Properties.AddressPrefix, old.Properties.AddressPrefixes)
		for a, holder := range used {
			if op.Contains(a) && !np.Contains(a) {
				errs.Add("InUseSubnetCannotBeUpdated", field.NewPath("properties", "subnets"), "Subnet %s is in use by %s whose address %s would fall outside the new prefix %s.", old.Name, holder, a, np)
				break
			}
		}
	}
	return errs, nil
}

func subnetInUse(sn *network.Subnet, user string) *arm.Error {
	return arm.BadRequest("InUseSubnetCannotBeDeleted", "Subnet %s is in use by %s and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.", sn.Name, user)
}

// subnetUsers lists the ids of IP configurations and frontends in a subnet.
func (s *Service) subnetUsers(t *txn, subnetID string) ([]string, error) {
	return t.refsOf(subnetID)
}

// normalizeVNet sets ids, types, etags and states of a VNet about to be stored.
func normalizeVNet(v *network.VirtualNetwork, id arm.ResourceID, existing *network.VirtualNetwork, etag string) {
	v.ID, v.Name, v.Type, v.Etag = id.String(), id.Name(), network.TypeVirtualNetwork, etag
	v.Properties.ProvisioningState = string(arm.Succeeded)
	if existing != nil {
		v.ID, v.Name = existing.ID, existing.Name
		v.Properties.ResourceGUID = existing.Properties.ResourceGUID
	}
	if v.Properties.ResourceGUID == "" {
		v.Properties.ResourceGUID = arm.NewGUID()
	}
	if v.Properties.Subnets == nil {
		v.Properties.Subnets = []*network.Subnet{}
	}
	vid, _ := arm.ParseResourceID(v.ID)
	for _, sn := range v.Properties.Subnets {
		name := sn.Name
		if existing != nil {
			for _, old := range existing.Properties.Subnets {
				if strings.EqualFold(old.Name, sn.Name) {
					name = old.Name
				}
			}
		}
		sn.Name = name
		sn.ID = vid.Child("subnets", name).String()
		sn.Type = network.TypeSubnet
		sn.Etag = etag
		sn.Properties.ProvisioningState = string(arm.Succeeded)
		sn.Properties.IPConfigurations = nil
	}
	if len(v.Properties.VirtualNetworkPeerings) == 0 {
		v.Properties.VirtualNetworkPeerings = json.RawMessage("[]")
	}
	if v.Properties.EnableDdosProtection == nil {
		v.Properties.EnableDdosProtection = ptr(false)
	}
}

func (s *Service) putVNet(t *txn, c *Call, v *network.VirtualNetwork) (*Result, error) {
	existing, exists, err := s.loadVNet(t, c.ID)
	if err != nil {
		return nil, err
	}
	if err := checkPreconditions(c, exists, etagOfVNet(existing)); err != nil {
		return nil, err
	}
	normalizeVNet(v, c.ID, existing, arm.NewETag())
	errs, err := s.validateVNet(t, v, existing)
	if err != nil {
		return nil, err
	}
	if e := errs.ToError(); e != nil {
		return nil, e
	}
	return s.finishPut(t, c, resKey(c.ID), v, exists, v.Location)
}

func etagOfVNet(v *network.VirtualNetwork) string {
	if v == nil {
		return ""
	}
	return v.Etag
}

// renderVNet fills read-only back-references of a stored VNet.
func (s *Service) renderVNet(t *txn, v *network.VirtualNetwork) error {
	for _, sn := range v.Properties.Subnets {
		if err := s.fillSubnet(t, sn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) fillSubnet(t *txn, sn *network.Subnet) error {
	users, err := s.subnetUsers(t, sn.ID)
	if err != nil {
		return err
	}
	sn.Properties.IPConfigurations = nil
	for _, u := range users {
		sn.Properties.IPConfigurations = append(sn.Properties.IPConfigurations, &network.IPConfigurationRef{ID: u})
	}
	return nil
}

func (s *Service) deleteVNet(t *txn, id arm.ResourceID, v *network.VirtualNetwork) error {
	for _, sn := range v.Properties.Subnets {
		users, err := s.subnetUsers(t, sn.ID)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return subnetInUse(sn, users[0])
		}
		t.del(refGuardKey(sn.ID))
	}
	t.del(resKey(id))
	return nil
}

// subnet child operations: read-modify-write of the VNet.

func (s *Service) putSubnet(t *txn, c *Call) (*Result, error) {
	vid := c.ID.Root()
	v, ok, err := s.loadVNet(t, vid)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, parentNotFound(c.ID)
	}
	var sn network.Subnet
	if err := decodeBody(c.Body, &sn); err != nil {
		return nil, err
	}
	name := c.ID.Name()
	var cur *network.Subnet
	idx := -1
	for i, old := range v.Properties.Subnets {
		if strings.EqualFold(old.Name, name) {
			cur, idx = old, i
		}
	}
	if err := checkPreconditions(c, cur != nil, v.Etag); err != nil {
		return nil, err
	}
	sn.Name = name
	if cur != nil {
		sn.Name = cur.Name
	}
	old := *v
	old.Properties.Subnets = append([]*network.Subnet(nil), v.Properties.Subnets...)
	if idx >= 0 {
		v.Properties.Subnets[idx] = &sn
	} else {
		v.Properties.Subnets = append(v.Properties.Subnets, &sn)
	}
	normalizeVNet(v, vid, &old, arm.NewETag())
	errs, err := s.validateVNet(t, v, &old)
	if err != nil {
		return nil, err
	}
	if e := errs.ToError(); e != nil {
		// Point targets at the subnet body the client sent.
		at := fmt.Sprintf("properties.subnets[%d].", len(v.Properties.Subnets)-1)
		if idx >= 0 {
			at = fmt.Sprintf("properties.subnets[%d].", idx)
		}
		retarget(e, func(t string) string { return strings.TrimPrefix(t, at) })
		return nil, e
	}
	if err := t.putJSON(resKey(vid), v); err != nil {
		return nil, err
	}
	status := http.StatusOK
	if cur == nil {
		status = http.StatusCreated
	}
	op, err := s.newOp(t, "put", c.ID, v.Location)
	if err != nil {
		return nil, err
	}
	if err := s.fillSubnet(t, &sn); err != nil {
		return nil, err
	}
	body, err := marshal(&sn)
	return &Result{Status: status, Body: body, Operation: op}, err
}

func (s *Service) deleteSubnet(t *txn, c *Call) (*Result, error) {
	vid := c.ID.Root()
	v, ok, err := s.loadVNet(t, vid)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, parentNotFound(c.ID)
	}
	idx := -1
	for i, sn := range v.Properties.Subnets {
		if strings.EqualFold(sn.Name, c.ID.Name()) {
			idx = i
		}
	}
	if idx < 0 {
		if c.IfMatch != "" {
			return nil, checkPreconditions(c, false, "")
		}
		return &Result{Status: http.StatusNoContent}, nil
	}
	if err := checkPreconditions(c, true, v.Etag); err != nil {
		return nil, err
	}
	users, err := s.subnetUsers(t, v.Properties.Subnets[idx].ID)
	if err != nil {
		return nil, err
	}
	if len(users) > 0 {
		return nil, subnetInUse(v.Properties.Subnets[idx], users[0])
	}
	t.del(refGuardKey(v.Properties.Subnets[idx].ID))
	v.Properties.Subnets = append(v.Properties.Subnets[:idx], v.Properties.Subnets[idx+1:]...)
	v.Etag = arm.NewETag()
	for _, sn := range v.Properties.Subnets {
		sn.Etag = v.Etag
	}
	if err := t.putJSON(resKey(vid), v); err != nil {
		return nil, err
	}
	op, err := s.newOp(t, "delete", c.ID, v.Location)
	if err != nil {
		return nil, err
	}
	return &Result{Status: http.StatusAccepted, Operation: op}, nil
}

// findSubnet resolves a subnet reference: the VNet, the subnet and its prefix.
func (s *Service) findSubnet(t *txn, ref arm.ResourceID) (*network.VirtualNetwork, *network.Subnet, netip.Prefix, error) {
	v, ok, err := s.loadVNet(t, ref.Root())
	if err != nil || !ok {
		return nil, nil, netip.Prefix{}, err
	}
	for _, sn := range v.Properties.Subnets {
		if strings.EqualFold(sn.Name, ref.Name()) {
			p, _ := subnetPrefix(sn.Properties.AddressPrefix, sn.Properties.AddressPrefixes)
			return v, sn, p, nil
		}
	}
	return v, nil, netip.Prefix{}, nil
}
