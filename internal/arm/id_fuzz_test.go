package arm

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseResourceID checks that parsing never panics and that a parsed ID
// survives a round trip through String: it re-parses to the same ID, with
// the same Key, which is lower-case.
func FuzzParseResourceID(f *testing.F) {
	for _, s := range []string{
		"/subscriptions/subid",
		"/subscriptions/subid/resourceGroups/rg1",
		"/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb",
		"/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/backendAddressPools/be-lb",
		"/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnetlb/subnets/subnetlb",
		"/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/networkInterfaces/test-nic/ipConfigurations/ipconfig1",
		"/SUBSCRIPTIONS/subid/RESOURCEGROUPS/RG1/PROVIDERS/microsoft.network/LOADBALANCERS/LB",
		"//subscriptions//subid///resourceGroups/rg1/providers/Microsoft.Network/publicIPAddresses/pip//",
		"/subscriptions/subid/providers/Microsoft.Network/loadBalancers",
		"/subscriptions/subid/resourceGroups/providers/providers/Microsoft.Network/loadBalancers/lb",
		"/subscriptions/subid/resourceGroups",
		"/subscriptions/subid/providers/Microsoft.Network",
		"/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/loadBalancers/lb/frontendIPConfigurations",
		"/subscriptions/Ünïcödé/resourceGroups/ΣΑΣ/providers/Microsoft.Network/loadBalancers/İstanbul",
		"/subscriptions/s/resourceGroups/rg/providers/ns/t/\xff\xfe",
		"subscriptions/subid",
		"/",
		"",
		"/providers/Microsoft.Network/operations",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseResourceID(s)
		if err != nil {
			return
		}
		str := id.String()
		again, err := ParseResourceID(str)
		if err != nil {
			t.Fatalf("ParseResourceID(%q) = %#v, whose String() %q does not parse: %v", s, id, str, err)
		}
		if diff := cmp.Diff(id, again); diff != "" {
			t.Fatalf("ParseResourceID(%q).String() = %q re-parses differently (-first +again):\n%s", s, str, diff)
		}
		if again.String() != str {
			t.Fatalf("String() is not stable: %q, then %q", str, again.String())
		}
		if len(id.Types) != len(id.Names) {
			t.Fatalf("ParseResourceID(%q): %d types but %d names", s, len(id.Types), len(id.Names))
		}
		key := id.Key()
		if key != strings.ToLower(key) {
			t.Fatalf("ParseResourceID(%q).Key() = %q is not lower-case", s, key)
		}
		if key != again.Key() {
			t.Fatalf("Key() changed across a round trip: %q, then %q", key, again.Key())
		}
		if !id.Equal(again) || !SameID(s, str) || IDKey(s) != key {
			t.Fatalf("ParseResourceID(%q): the ID, its String() %q and their keys do not compare equal", s, str)
		}
	})
}
