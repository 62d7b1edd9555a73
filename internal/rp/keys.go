package rp

import (
	"net/netip"
	"strings"

	"github.com/paddock-lb/paddock/internal/arm"
)

// Key layout (all lower-case):
//
//	g/{sub}/{rg}                         resource group
//	r/{sub}/{namespace/type}/{rg}/{name} top-level resource document
//	x/{target id}|{source id}            back-reference index: source refers to target
//	                                     (value: the source id as written)
//	xg/{target id}                       guard of target's back-references: rewritten,
//	                                     unread, by every write that adds one; read by
//	                                     every write that decides from their absence
//	ip/{vnet id}/{address}               private address holder in a VNet (value: holder id)
//	pip/{address}                        allocated public address (value: public IP id)
//	op/{operation id}                    long-running operation record
//	pend/{operation id}                  operation waiting for the data plane (value: resource id)
const (
	prefixGroup = "g/"
	prefixRes   = "r/"
	prefixRef   = "x/"
	prefixGuard = "xg/"
	prefixIP    = "ip/"
	prefixPIP   = "pip/"
	prefixOp    = "op/"
	prefixPend  = "pend/"
)

func groupKey(sub, rg string) string {
	return prefixGroup + strings.ToLower(sub) + "/" + strings.ToLower(rg)
}

func groupPrefix(sub string) string { return prefixGroup + strings.ToLower(sub) + "/" }

// resKey is the document key of a top-level resource (id must have depth 1).
func resKey(id arm.ResourceID) string {
	return strings.ToLower(prefixRes + id.SubscriptionID + "/" + id.Namespace + "/" + id.Types[0] + "/" + id.ResourceGroup + "/" + id.Names[0])
}

// typePrefix lists a type in a subscription, or in one group when rg != "".
func typePrefix(sub, namespace, typ, rg string) string {
	p := prefixRes + sub + "/" + namespace + "/" + typ + "/"
	if rg != "" {
		p += rg + "/"
	}
	return strings.ToLower(p)
}

func refPrefix(target string) string { return prefixRef + arm.IDKey(target) + "|" }

func refKey(target, source string) string { return refPrefix(target) + arm.IDKey(source) }

func refGuardKey(target string) string { return prefixGuard + arm.IDKey(target) }

func ipKey(vnetID string, a netip.Addr) string {
	return prefixIP + arm.IDKey(vnetID) + "/" + a.StringExpanded()
}

func ipPrefix(vnetID string) string { return prefixIP + arm.IDKey(vnetID) + "/" }

func pipAddrKey(a netip.Addr) string { return prefixPIP + a.StringExpanded() }

func opKey(id string) string { return prefixOp + strings.ToLower(id) }
