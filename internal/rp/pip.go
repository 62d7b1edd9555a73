package rp

import (
	"encoding/json"
	"net/netip"
	"strings"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/arm/field"
	"github.com/paddock-lb/paddock/internal/resources/network"
)

func (s *Service) loadPIP(t *txn, id arm.ResourceID) (*network.PublicIPAddress, bool, error) {
	var p network.PublicIPAddress
	ok, err := t.getJSON(resKey(id), &p)
	if err != nil || !ok {
		return nil, ok, err
	}
	return &p, true, nil
}

// setPIPHolder updates a public IP's ipConfiguration back-reference: from
// oldHolder (cleared only if it still holds it) to newHolder ("" clears).
func (s *Service) setPIPHolder(t *txn, pipID, oldHolder, newHolder string) error {
	id, err := arm.ParseResourceID(pipID)
	if err != nil {
		return nil
	}
	pip, ok, err := s.loadPIP(t, id)
	if err != nil || !ok {
		return err
	}
	cur := pip.Properties.IPConfiguration
	if newHolder == "" {
		if cur == nil || (oldHolder != "" && !arm.SameID(cur.ID, oldHolder)) {
			return nil
		}
		pip.Properties.IPConfiguration = nil
	} else {
		if cur != nil && arm.SameID(cur.ID, newHolder) {
			return nil
		}
		pip.Properties.IPConfiguration = &network.IPConfigurationRef{ID: newHolder}
	}
	return t.putJSON(resKey(id), pip)
}

func (s *Service) putPIP(t *txn, c *Call, p *network.PublicIPAddress) (*Result, error) {
	existing, exists, err := s.loadPIP(t, c.ID)
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
	var errs field.ErrorList
	props := field.NewPath("properties")
	if p.Location == "" {
		errs.Add(arm.CodeLocationRequired, field.NewPath("location"), "The location property is required for this definition.")
	}
	p.ID, p.Name, p.Type, p.Etag = c.ID.String(), c.ID.Name(), network.TypePublicIPAddress, arm.NewETag()
	if p.SKU == nil || p.SKU.Name == "" {
		p.SKU = &network.SKU{Name: "Basic"}
		if existing != nil && existing.SKU != nil {
			p.SKU = existing.SKU
		}
	}
	switch strings.ToLower(p.SKU.Name) {
	case "basic", "standard", "standardv2":
	default:
		errs.Add(arm.CodeInvalidParameter, field.NewPath("sku", "name"), "Public IP address SKU '%s' is not supported. Supported values are Basic, Standard and StandardV2.", p.SKU.Name)
	}
	if !strings.EqualFold(p.SKU.Name, "Basic") && p.SKU.Tier == "" && c.APIVersion.AtLeast("2020-07-01") {
		p.SKU.Tier = "Regional"
	}
	pp := &p.Properties
	switch strings.ToLower(pp.PublicIPAllocationMethod) {
	case "":
		pp.PublicIPAllocationMethod = "Dynamic"
		if !strings.EqualFold(p.SKU.Name, "Basic") {
			pp.PublicIPAllocationMethod = "Static"
		}
	case "static", "dynamic":
		if !strings.EqualFold(p.SKU.Name, "Basic") && strings.EqualFold(pp.PublicIPAllocationMethod, "Dynamic") {
			errs.Add("StandardSkuPublicIPAddressesMustBeStatic", props.Child("publicIPAllocationMethod"), "Standard sku publicIp %s must have AllocationMethod set to Static.", p.ID)
		}
	default:
		errs.Add(arm.CodeInvalidParameter, props.Child("publicIPAllocationMethod"), "Value '%s' is not valid for publicIPAllocationMethod. Supported values are Static and Dynamic.", pp.PublicIPAllocationMethod)
	}
	switch strings.ToLower(pp.PublicIPAddressVersion) {
	case "", "ipv4":
		pp.PublicIPAddressVersion = "IPv4"
	case "ipv6":
		errs.Add("PublicIPv6NotSupported", props.Child("publicIPAddressVersion"), "Public IP address %s asks for IPv6; Paddock allocates IPv4 public addresses only.", p.ID)
	default:
		errs.Add(arm.CodeInvalidParameter, props.Child("publicIPAddressVersion"), "Value '%s' is not valid for publicIPAddressVersion.", pp.PublicIPAddressVersion)
	}
	if v := pp.IdleTimeoutInMinutes; v != nil && (*v < 4 || *v > 30) {
		errs.Add("InvalidIdleTimeoutInMinutes", props.Child("idleTimeoutInMinutes"), "Idle timeout %d of public IP address %s is invalid. It must be between 4 and 30 minutes.", *v, p.ID)
	}
	if pp.IdleTimeoutInMinutes == nil {
		pp.IdleTimeoutInMinutes = ptr(int32(4))
	}
	if existing != nil {
		p.ID, p.Name = existing.ID, existing.Name
		pp.ResourceGUID = existing.Properties.ResourceGUID
		pp.IPConfiguration = existing.Properties.IPConfiguration
		if pp.IPConfiguration != nil && existing.SKU != nil && !strings.EqualFold(existing.SKU.Name, p.SKU.Name) {
			errs.Add(arm.CodePropertyChangeNotAllowed, field.NewPath("sku", "name"), "Public IP address %s is in use by %s; its SKU cannot change.", p.ID, pp.IPConfiguration.ID)
		}
	} else {
		pp.IPConfiguration = nil
	}
	if e := errs.ToError(); e != nil {
		return nil, e
	}
	if pp.ResourceGUID == "" {
		pp.ResourceGUID = arm.NewGUID()
	}
	pp.ProvisioningState = string(arm.Succeeded)
	// Address: keep the one held, else allocate from the configured range.
	pp.IPAddress = ""
	if existing != nil {
		pp.IPAddress = existing.Properties.IPAddress
	}
	if pp.IPAddress == "" {
		a, err := s.allocatePublicIP(t, p.ID)
		if err != nil {
			return nil, err
		}
		pp.IPAddress = a.String()
	}
	fillFQDN(p)
	return s.finishPut(t, c, resKey(c.ID), p, exists, p.Location)
}

// fillFQDN sets dnsSettings.fqdn from domainNameLabel, as Azure does.
func fillFQDN(p *network.PublicIPAddress) {
	raw, ok := p.Properties.Extra["dnsSettings"]
	if !ok {
		return
	}
	var dns map[string]any
	if err := json.Unmarshal(raw, &dns); err != nil {
		return
	}
	label, _ := dns["domainNameLabel"].(string)
	if label == "" {
		return
	}
	dns["fqdn"] = label + "." + strings.ReplaceAll(strings.ToLower(p.Location), " ", "") + ".cloudapp.azure.com"
	if b, err := json.Marshal(dns); err == nil {
		p.Properties.Extra["dnsSettings"] = b
	}
}

func (s *Service) allocatePublicIP(t *txn, holder string) (netip.Addr, error) {
	a, ok, err := s.allocateFree(t, "|public", s.pipRange, pipAddrKey, func(a netip.Addr) (string, error) {
		// Reading the key makes the commit conditional on it staying free.
		v, held, err := t.get(pipAddrKey(a))
		if err != nil || held {
			return string(v), err
		}
		t.put(pipAddrKey(a), []byte(holder))
		return "", nil
	})
	if err != nil {
		return netip.Addr{}, err
	}
	if !ok {
		return netip.Addr{}, arm.BadRequest("PublicIPAddressRangeExhausted", "No public IP address is free in Paddock's public range %s for %s.", s.pipRange, holder)
	}
	return a, nil
}

func (s *Service) deletePIP(t *txn, id arm.ResourceID, p *network.PublicIPAddress) error {
	if p.Properties.IPConfiguration != nil {
		return arm.BadRequest("PublicIPAddressCannotBeDeleted", "Public IP address %s can not be deleted since it is still allocated to resource %s. In order to delete the public IP, disassociate/detach the Public IP address from the resource.", p.ID, p.Properties.IPConfiguration.ID)
	}
	if a, err := netip.ParseAddr(p.Properties.IPAddress); err == nil {
		t.del(pipAddrKey(a))
		s.lowerHints("", a)
	}
	t.del(resKey(id))
	return nil
}
