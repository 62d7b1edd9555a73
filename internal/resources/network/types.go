// Package network holds the wire types of the Microsoft.Network resources
// Paddock serves — load balancers and their children, network interfaces,
// virtual networks and subnets, public IP addresses — with ARM's JSON names
// verbatim. One Go type holds the union of every api-version from
// 2020-05-01 to 2026-01-01; ForVersion trims what an older version does not
// know. Properties Paddock does not model are kept (package extra).
package network

import (
	"bytes"
	"encoding/json"

	"github.com/paddock-lb/paddock/internal/resources/extra"
)

// Resource types, as ARM spells them in bodies.
const (
	TypeLoadBalancer      = "Microsoft.Network/loadBalancers"
	TypeFrontend          = "Microsoft.Network/loadBalancers/frontendIPConfigurations"
	TypeBackendPool       = "Microsoft.Network/loadBalancers/backendAddressPools"
	TypeLBRule            = "Microsoft.Network/loadBalancers/loadBalancingRules"
	TypeProbe             = "Microsoft.Network/loadBalancers/probes"
	TypeInboundNATRule    = "Microsoft.Network/loadBalancers/inboundNatRules"
	TypeInboundNATPool    = "Microsoft.Network/loadBalancers/inboundNatPools"
	TypeOutboundRule      = "Microsoft.Network/loadBalancers/outboundRules"
	TypeNetworkInterface  = "Microsoft.Network/networkInterfaces"
	TypeNICIPConfig       = "Microsoft.Network/networkInterfaces/ipConfigurations"
	TypeVirtualNetwork    = "Microsoft.Network/virtualNetworks"
	TypeSubnet            = "Microsoft.Network/virtualNetworks/subnets"
	TypePublicIPAddress   = "Microsoft.Network/publicIPAddresses"
	TypeBackendAddressRef = "Microsoft.Network/loadBalancers/backendAddressPools/loadBalancerBackendAddresses"
)

// SubResource is a reference to another resource: {"id": "..."}. Other
// properties a client echoes from a full resource are ignored on decode.
type SubResource struct {
	ID string `json:"id,omitempty"`
}

// Ref returns a reference to id, or nil when id is empty.
func Ref(id string) *SubResource {
	if id == "" {
		return nil
	}
	return &SubResource{ID: id}
}

// SubResources is a list of references. It decodes a single object as a
// one-element list: the project's seed document sends
// "loadBalancerBackendAddressPools": {"id": ...} (see docs/compatibility.md).
type SubResources []SubResource

// UnmarshalJSON implements the single-object leniency.
func (s *SubResources) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var one SubResource
		if err := json.Unmarshal(t, &one); err != nil {
			return err
		}
		*s = SubResources{one}
		return nil
	}
	var many []SubResource
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// SKU of a load balancer or public IP.
type SKU struct {
	Name string `json:"name,omitempty"`
	Tier string `json:"tier,omitempty"`
}

// ExtendedLocation is accepted and echoed.
type ExtendedLocation struct {
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
}

// Tracked holds the envelope common to top-level resources.
type Tracked struct {
	ID               string            `json:"id,omitempty"`
	Name             string            `json:"name,omitempty"`
	Type             string            `json:"type,omitempty"`
	Location         string            `json:"location,omitempty"`
	Tags             map[string]string `json:"tags,omitempty"`
	Etag             string            `json:"etag,omitempty"`
	ExtendedLocation *ExtendedLocation `json:"extendedLocation,omitempty"`
}

// Child holds the envelope common to child resources.
type Child struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
	Etag string `json:"etag,omitempty"`
}

// ---- Load balancer ----

// LoadBalancer is Microsoft.Network/loadBalancers.
type LoadBalancer struct {
	Tracked
	SKU        *SKU                   `json:"sku,omitempty"`
	Properties LoadBalancerProperties `json:"properties"`
}

// LoadBalancerProperties are the load balancer's properties. Collections
// are always rendered, [] when empty (clients index them).
type LoadBalancerProperties struct {
	FrontendIPConfigurations []*FrontendIPConfiguration `json:"frontendIPConfigurations"`
	BackendAddressPools      []*BackendAddressPool      `json:"backendAddressPools"`
	LoadBalancingRules       []*LoadBalancingRule       `json:"loadBalancingRules"`
	Probes                   []*Probe                   `json:"probes"`
	InboundNATRules          []*InboundNATRule          `json:"inboundNatRules"`
	InboundNATPools          []*InboundNATPool          `json:"inboundNatPools"`
	OutboundRules            []*OutboundRule            `json:"outboundRules"`
	ResourceGUID             string                     `json:"resourceGuid,omitempty"`
	ProvisioningState        string                     `json:"provisioningState,omitempty"`
	Scope                    string                     `json:"scope,omitempty"`
}

// FrontendIPConfiguration is a load balancer frontend.
type FrontendIPConfiguration struct {
	Child
	Zones      []string                          `json:"zones,omitempty"`
	Properties FrontendIPConfigurationProperties `json:"properties"`
}

// FrontendIPConfigurationProperties of a frontend.
type FrontendIPConfigurationProperties struct {
	PrivateIPAddress          string       `json:"privateIPAddress,omitempty"`
	PrivateIPAllocationMethod string       `json:"privateIPAllocationMethod,omitempty"`
	PrivateIPAddressVersion   string       `json:"privateIPAddressVersion,omitempty"`
	Subnet                    *SubResource `json:"subnet,omitempty"`
	PublicIPAddress           *SubResource `json:"publicIPAddress,omitempty"`
	PublicIPPrefix            *SubResource `json:"publicIPPrefix,omitempty"`
	GatewayLoadBalancer       *SubResource `json:"gatewayLoadBalancer,omitempty"`
	InboundNATRules           SubResources `json:"inboundNatRules,omitempty"`
	InboundNATPools           SubResources `json:"inboundNatPools,omitempty"`
	OutboundRules             SubResources `json:"outboundRules,omitempty"`
	LoadBalancingRules        SubResources `json:"loadBalancingRules,omitempty"`
	ProvisioningState         string       `json:"provisioningState,omitempty"`
	Extra                     extra.Fields `json:"-"`
}

// UnmarshalJSON keeps unmodelled properties.
func (p *FrontendIPConfigurationProperties) UnmarshalJSON(b []byte) error {
	type plain FrontendIPConfigurationProperties
	return extra.Unmarshal(b, (*plain)(p), &p.Extra)
}

// MarshalJSON renders unmodelled properties too.
func (p FrontendIPConfigurationProperties) MarshalJSON() ([]byte, error) {
	type plain FrontendIPConfigurationProperties
	return extra.Marshal(plain(p), p.Extra)
}

// BackendAddressPool is a load balancer backend pool.
type BackendAddressPool struct {
	Child
	Properties BackendAddressPoolProperties `json:"properties"`
}

// BackendAddressPoolProperties of a pool.
type BackendAddressPoolProperties struct {
	Location                     string                        `json:"location,omitempty"`
	TunnelInterfaces             []TunnelInterface             `json:"tunnelInterfaces,omitempty"`
	LoadBalancerBackendAddresses []*LoadBalancerBackendAddress `json:"loadBalancerBackendAddresses,omitempty"`
	BackendIPConfigurations      []*IPConfigurationRef         `json:"backendIPConfigurations,omitempty"`
	LoadBalancingRules           SubResources                  `json:"loadBalancingRules,omitempty"`
	OutboundRule                 *SubResource                  `json:"outboundRule,omitempty"`
	OutboundRules                SubResources                  `json:"outboundRules,omitempty"`
	InboundNATRules              SubResources                  `json:"inboundNatRules,omitempty"`
	DrainPeriodInSeconds         *int32                        `json:"drainPeriodInSeconds,omitempty"`
	VirtualNetwork               *SubResource                  `json:"virtualNetwork,omitempty"`
	SyncMode                     string                        `json:"syncMode,omitempty"`
	ProvisioningState            string                        `json:"provisioningState,omitempty"`
}

// IPConfigurationRef is how a pool lists a member NIC IP configuration: a
// reference (NRP renders just the id in pool bodies).
type IPConfigurationRef struct {
	ID string `json:"id"`
}

// TunnelInterface of a Gateway load balancer pool.
type TunnelInterface struct {
	Port       *int32 `json:"port,omitempty"`
	Identifier *int32 `json:"identifier,omitempty"`
	Protocol   string `json:"protocol,omitempty"`
	Type       string `json:"type,omitempty"`
}

// LoadBalancerBackendAddress is an IP-based pool member.
type LoadBalancerBackendAddress struct {
	Name       string                               `json:"name,omitempty"`
	Properties LoadBalancerBackendAddressProperties `json:"properties"`
}

// LoadBalancerBackendAddressProperties of a pool member.
type LoadBalancerBackendAddressProperties struct {
	VirtualNetwork                      *SubResource         `json:"virtualNetwork,omitempty"`
	Subnet                              *SubResource         `json:"subnet,omitempty"`
	IPAddress                           string               `json:"ipAddress,omitempty"`
	NetworkInterfaceIPConfiguration     *SubResource         `json:"networkInterfaceIPConfiguration,omitempty"`
	LoadBalancerFrontendIPConfiguration *SubResource         `json:"loadBalancerFrontendIPConfiguration,omitempty"`
	InboundNATRulesPortMapping          []NATRulePortMapping `json:"inboundNatRulesPortMapping,omitempty"`
	AdminState                          string               `json:"adminState,omitempty"`
}

// NATRulePortMapping is one NAT rule v2 port mapping of a member.
type NATRulePortMapping struct {
	InboundNATRuleName string `json:"inboundNatRuleName,omitempty"`
	FrontendPort       int32  `json:"frontendPort"`
	BackendPort        int32  `json:"backendPort"`
}

// LoadBalancingRule is a load balancer rule.
type LoadBalancingRule struct {
	Child
	Properties LoadBalancingRuleProperties `json:"properties"`
}

// LoadBalancingRuleProperties of a rule.
type LoadBalancingRuleProperties struct {
	FrontendIPConfiguration  *SubResource `json:"frontendIPConfiguration,omitempty"`
	BackendAddressPool       *SubResource `json:"backendAddressPool,omitempty"`
	BackendAddressPools      SubResources `json:"backendAddressPools,omitempty"`
	Probe                    *SubResource `json:"probe,omitempty"`
	Protocol                 string       `json:"protocol,omitempty"`
	LoadDistribution         string       `json:"loadDistribution,omitempty"`
	FrontendPort             *int32       `json:"frontendPort,omitempty"`
	BackendPort              *int32       `json:"backendPort,omitempty"`
	IdleTimeoutInMinutes     *int32       `json:"idleTimeoutInMinutes,omitempty"`
	EnableFloatingIP         *bool        `json:"enableFloatingIP,omitempty"`
	EnableTCPReset           *bool        `json:"enableTcpReset,omitempty"`
	DisableOutboundSnat      *bool        `json:"disableOutboundSnat,omitempty"`
	EnableConnectionTracking *bool        `json:"enableConnectionTracking,omitempty"`
	ProvisioningState        string       `json:"provisioningState,omitempty"`
}

// Probe is a health probe.
type Probe struct {
	Child
	Properties ProbeProperties `json:"properties"`
}

// ProbeProperties of a probe.
type ProbeProperties struct {
	Protocol                  string       `json:"protocol,omitempty"`
	Port                      *int32       `json:"port,omitempty"`
	IntervalInSeconds         *int32       `json:"intervalInSeconds,omitempty"`
	NumberOfProbes            *int32       `json:"numberOfProbes,omitempty"`
	ProbeThreshold            *int32       `json:"probeThreshold,omitempty"`
	RequestPath               string       `json:"requestPath,omitempty"`
	NoHealthyBackendsBehavior string       `json:"noHealthyBackendsBehavior,omitempty"`
	LoadBalancingRules        SubResources `json:"loadBalancingRules,omitempty"`
	ProvisioningState         string       `json:"provisioningState,omitempty"`
}

// InboundNATRule is an inbound NAT rule (v1: to one NIC IP configuration;
// v2: a frontend port range over a backend pool).
type InboundNATRule struct {
	Child
	Properties InboundNATRuleProperties `json:"properties"`
}

// InboundNATRuleProperties of a NAT rule.
type InboundNATRuleProperties struct {
	FrontendIPConfiguration *SubResource        `json:"frontendIPConfiguration,omitempty"`
	BackendIPConfiguration  *IPConfigurationRef `json:"backendIPConfiguration,omitempty"`
	Protocol                string              `json:"protocol,omitempty"`
	FrontendPort            *int32              `json:"frontendPort,omitempty"`
	BackendPort             *int32              `json:"backendPort,omitempty"`
	IdleTimeoutInMinutes    *int32              `json:"idleTimeoutInMinutes,omitempty"`
	EnableFloatingIP        *bool               `json:"enableFloatingIP,omitempty"`
	EnableTCPReset          *bool               `json:"enableTcpReset,omitempty"`
	FrontendPortRangeStart  *int32              `json:"frontendPortRangeStart,omitempty"`
	FrontendPortRangeEnd    *int32              `json:"frontendPortRangeEnd,omitempty"`
	BackendAddressPool      *SubResource        `json:"backendAddressPool,omitempty"`
	ProvisioningState       string              `json:"provisioningState,omitempty"`
}

// InboundNATPool is an inbound NAT pool (scale sets).
type InboundNATPool struct {
	Child
	Properties InboundNATPoolProperties `json:"properties"`
}

// InboundNATPoolProperties of a NAT pool.
type InboundNATPoolProperties struct {
	FrontendIPConfiguration *SubResource `json:"frontendIPConfiguration,omitempty"`
	Protocol                string       `json:"protocol,omitempty"`
	FrontendPortRangeStart  *int32       `json:"frontendPortRangeStart,omitempty"`
	FrontendPortRangeEnd    *int32       `json:"frontendPortRangeEnd,omitempty"`
	BackendPort             *int32       `json:"backendPort,omitempty"`
	IdleTimeoutInMinutes    *int32       `json:"idleTimeoutInMinutes,omitempty"`
	EnableFloatingIP        *bool        `json:"enableFloatingIP,omitempty"`
	EnableTCPReset          *bool        `json:"enableTcpReset,omitempty"`
	ProvisioningState       string       `json:"provisioningState,omitempty"`
}

// OutboundRule is an outbound (SNAT) rule.
type OutboundRule struct {
	Child
	Properties OutboundRuleProperties `json:"properties"`
}

// OutboundRuleProperties of an outbound rule.
type OutboundRuleProperties struct {
	AllocatedOutboundPorts   *int32       `json:"allocatedOutboundPorts,omitempty"`
	FrontendIPConfigurations SubResources `json:"frontendIPConfigurations,omitempty"`
	BackendAddressPool       *SubResource `json:"backendAddressPool,omitempty"`
	Protocol                 string       `json:"protocol,omitempty"`
	EnableTCPReset           *bool        `json:"enableTcpReset,omitempty"`
	IdleTimeoutInMinutes     *int32       `json:"idleTimeoutInMinutes,omitempty"`
	ProvisioningState        string       `json:"provisioningState,omitempty"`
}

// ---- Network interface ----

// NetworkInterface is Microsoft.Network/networkInterfaces.
type NetworkInterface struct {
	Tracked
	Properties NetworkInterfaceProperties `json:"properties"`
}

// NetworkInterfaceProperties of a NIC.
type NetworkInterfaceProperties struct {
	VirtualMachine              *SubResource          `json:"virtualMachine,omitempty"`
	NetworkSecurityGroup        *SubResource          `json:"networkSecurityGroup,omitempty"`
	IPConfigurations            []*NICIPConfiguration `json:"ipConfigurations"`
	DNSSettings                 json.RawMessage       `json:"dnsSettings,omitempty"`
	MACAddress                  string                `json:"macAddress,omitempty"`
	Primary                     *bool                 `json:"primary,omitempty"`
	EnableAcceleratedNetworking *bool                 `json:"enableAcceleratedNetworking,omitempty"`
	EnableIPForwarding          *bool                 `json:"enableIPForwarding,omitempty"`
	VnetEncryptionSupported     *bool                 `json:"vnetEncryptionSupported,omitempty"`
	ResourceGUID                string                `json:"resourceGuid,omitempty"`
	ProvisioningState           string                `json:"provisioningState,omitempty"`
	Extra                       extra.Fields          `json:"-"`
}

// UnmarshalJSON keeps unmodelled properties.
func (p *NetworkInterfaceProperties) UnmarshalJSON(b []byte) error {
	type plain NetworkInterfaceProperties
	return extra.Unmarshal(b, (*plain)(p), &p.Extra)
}

// MarshalJSON renders unmodelled properties too.
func (p NetworkInterfaceProperties) MarshalJSON() ([]byte, error) {
	type plain NetworkInterfaceProperties
	return extra.Marshal(plain(p), p.Extra)
}

// NICIPConfiguration is a NIC IP configuration.
type NICIPConfiguration struct {
	Child
	Properties NICIPConfigurationProperties `json:"properties"`
}

// NICIPConfigurationProperties of a NIC IP configuration.
type NICIPConfigurationProperties struct {
	LoadBalancerBackendAddressPools SubResources `json:"loadBalancerBackendAddressPools,omitempty"`
	LoadBalancerInboundNATRules     SubResources `json:"loadBalancerInboundNatRules,omitempty"`
	LoadBalancerInboundNATPools     SubResources `json:"loadBalancerInboundNatPools,omitempty"`
	PrivateIPAddress                string       `json:"privateIPAddress,omitempty"`
	PrivateIPAllocationMethod       string       `json:"privateIPAllocationMethod,omitempty"`
	PrivateIPAddressVersion         string       `json:"privateIPAddressVersion,omitempty"`
	Subnet                          *SubResource `json:"subnet,omitempty"`
	Primary                         *bool        `json:"primary,omitempty"`
	PublicIPAddress                 *SubResource `json:"publicIPAddress,omitempty"`
	GatewayLoadBalancer             *SubResource `json:"gatewayLoadBalancer,omitempty"`
	ProvisioningState               string       `json:"provisioningState,omitempty"`
	Extra                           extra.Fields `json:"-"`
}

// UnmarshalJSON keeps unmodelled properties.
func (p *NICIPConfigurationProperties) UnmarshalJSON(b []byte) error {
	type plain NICIPConfigurationProperties
	return extra.Unmarshal(b, (*plain)(p), &p.Extra)
}

// MarshalJSON renders unmodelled properties too.
func (p NICIPConfigurationProperties) MarshalJSON() ([]byte, error) {
	type plain NICIPConfigurationProperties
	return extra.Marshal(plain(p), p.Extra)
}

// ---- Virtual network ----

// VirtualNetwork is Microsoft.Network/virtualNetworks.
type VirtualNetwork struct {
	Tracked
	Properties VirtualNetworkProperties `json:"properties"`
}

// AddressSpace of a virtual network.
type AddressSpace struct {
	AddressPrefixes []string     `json:"addressPrefixes"`
	Extra           extra.Fields `json:"-"`
}

// UnmarshalJSON keeps unmodelled properties.
func (a *AddressSpace) UnmarshalJSON(b []byte) error {
	type plain AddressSpace
	return extra.Unmarshal(b, (*plain)(a), &a.Extra)
}

// MarshalJSON renders unmodelled properties too.
func (a AddressSpace) MarshalJSON() ([]byte, error) {
	type plain AddressSpace
	return extra.Marshal(plain(a), a.Extra)
}

// VirtualNetworkProperties of a virtual network.
type VirtualNetworkProperties struct {
	AddressSpace           *AddressSpace   `json:"addressSpace,omitempty"`
	Subnets                []*Subnet       `json:"subnets"`
	VirtualNetworkPeerings json.RawMessage `json:"virtualNetworkPeerings,omitempty"`
	ResourceGUID           string          `json:"resourceGuid,omitempty"`
	ProvisioningState      string          `json:"provisioningState,omitempty"`
	EnableDdosProtection   *bool           `json:"enableDdosProtection,omitempty"`
	EnableVMProtection     *bool           `json:"enableVmProtection,omitempty"`
	Extra                  extra.Fields    `json:"-"`
}

// UnmarshalJSON keeps unmodelled properties.
func (p *VirtualNetworkProperties) UnmarshalJSON(b []byte) error {
	type plain VirtualNetworkProperties
	return extra.Unmarshal(b, (*plain)(p), &p.Extra)
}

// MarshalJSON renders unmodelled properties too.
func (p VirtualNetworkProperties) MarshalJSON() ([]byte, error) {
	type plain VirtualNetworkProperties
	return extra.Marshal(plain(p), p.Extra)
}

// Subnet is a virtual network subnet.
type Subnet struct {
	Child
	Properties SubnetProperties `json:"properties"`
}

// SubnetProperties of a subnet.
type SubnetProperties struct {
	AddressPrefix     string                `json:"addressPrefix,omitempty"`
	AddressPrefixes   []string              `json:"addressPrefixes,omitempty"`
	IPConfigurations  []*IPConfigurationRef `json:"ipConfigurations,omitempty"`
	ProvisioningState string                `json:"provisioningState,omitempty"`
	Extra             extra.Fields          `json:"-"`
}

// UnmarshalJSON keeps unmodelled properties.
func (p *SubnetProperties) UnmarshalJSON(b []byte) error {
	type plain SubnetProperties
	return extra.Unmarshal(b, (*plain)(p), &p.Extra)
}

// MarshalJSON renders unmodelled properties too.
func (p SubnetProperties) MarshalJSON() ([]byte, error) {
	type plain SubnetProperties
	return extra.Marshal(plain(p), p.Extra)
}

// ---- Public IP address ----

// PublicIPAddress is Microsoft.Network/publicIPAddresses.
type PublicIPAddress struct {
	Tracked
	SKU        *SKU                      `json:"sku,omitempty"`
	Zones      []string                  `json:"zones,omitempty"`
	Properties PublicIPAddressProperties `json:"properties"`
}

// PublicIPAddressProperties of a public IP.
type PublicIPAddressProperties struct {
	PublicIPAllocationMethod string              `json:"publicIPAllocationMethod,omitempty"`
	PublicIPAddressVersion   string              `json:"publicIPAddressVersion,omitempty"`
	IPConfiguration          *IPConfigurationRef `json:"ipConfiguration,omitempty"`
	IPAddress                string              `json:"ipAddress,omitempty"`
	IdleTimeoutInMinutes     *int32              `json:"idleTimeoutInMinutes,omitempty"`
	ResourceGUID             string              `json:"resourceGuid,omitempty"`
	ProvisioningState        string              `json:"provisioningState,omitempty"`
	Extra                    extra.Fields        `json:"-"`
}

// UnmarshalJSON keeps unmodelled properties.
func (p *PublicIPAddressProperties) UnmarshalJSON(b []byte) error {
	type plain PublicIPAddressProperties
	return extra.Unmarshal(b, (*plain)(p), &p.Extra)
}

// MarshalJSON renders unmodelled properties too.
func (p PublicIPAddressProperties) MarshalJSON() ([]byte, error) {
	type plain PublicIPAddressProperties
	return extra.Marshal(plain(p), p.Extra)
}
