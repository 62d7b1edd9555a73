package rp

import (
	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/resources/network"
)

// trimLB removes the properties api-version v does not know (the stored
// model is the union of all versions). Versions per azure-lb-api.md §3.14;
// scope and enableConnectionTracking appeared after 2024-01-01 in an
// unverified version, taken here as 2024-03-01.
func trimLB(lb *network.LoadBalancer, v arm.APIVersion) {
	if !v.AtLeast("2020-07-01") {
		lb.ExtendedLocation = nil
		if lb.SKU != nil {
			lb.SKU.Tier = ""
		}
	}
	if !v.AtLeast("2024-03-01") {
		lb.Properties.Scope = ""
	}
	for _, fe := range lb.Properties.FrontendIPConfigurations {
		if !v.AtLeast("2021-02-01") {
			fe.Properties.GatewayLoadBalancer = nil
		}
	}
	for _, b := range lb.Properties.BackendAddressPools {
		trimPool(b, v)
	}
	for _, r := range lb.Properties.LoadBalancingRules {
		if !v.AtLeast("2021-02-01") {
			r.Properties.BackendAddressPools = nil
		}
		if !v.AtLeast("2024-03-01") {
			r.Properties.EnableConnectionTracking = nil
		}
	}
	for _, pr := range lb.Properties.Probes {
		if !v.AtLeast("2022-05-01") {
			pr.Properties.ProbeThreshold = nil
		}
		if !v.AtLeast("2024-01-01") {
			pr.Properties.NoHealthyBackendsBehavior = ""
		}
	}
	for _, r := range lb.Properties.InboundNATRules {
		if !v.AtLeast("2021-03-01") {
			r.Properties.FrontendPortRangeStart, r.Properties.FrontendPortRangeEnd, r.Properties.BackendAddressPool = nil, nil, nil
		}
	}
}

func trimPool(b *network.BackendAddressPool, v arm.APIVersion) {
	p := &b.Properties
	if !v.AtLeast("2021-02-01") {
		p.Location, p.TunnelInterfaces = "", nil
	}
	if !v.AtLeast("2021-05-01") {
		p.InboundNATRules = nil
	}
	if !v.AtLeast("2021-08-01") {
		p.DrainPeriodInSeconds = nil
	}
	if !v.AtLeast("2022-07-01") {
		p.VirtualNetwork = nil
	}
	if !v.AtLeast("2023-04-01") {
		p.SyncMode = ""
	}
	for _, a := range p.LoadBalancerBackendAddresses {
		ap := &a.Properties
		if !v.AtLeast("2020-07-01") {
			ap.LoadBalancerFrontendIPConfiguration = nil
		}
		if !v.AtLeast("2020-11-01") {
			ap.Subnet = nil
		}
		if !v.AtLeast("2021-05-01") {
			ap.InboundNATRulesPortMapping = nil
		}
		if !v.AtLeast("2021-08-01") {
			ap.AdminState = ""
		}
	}
}

func trimFor(obj any, v arm.APIVersion) {
	switch o := obj.(type) {
	case *network.LoadBalancer:
		trimLB(o, v)
	case *network.NetworkInterface:
		if !v.AtLeast("2022-01-01") {
			o.Properties.VnetEncryptionSupported = nil
		}
	case *network.PublicIPAddress:
		if !v.AtLeast("2020-07-01") && o.SKU != nil {
			o.SKU.Tier = ""
		}
	}
}
