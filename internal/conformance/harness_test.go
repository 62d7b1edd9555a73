package conformance

import (
	"strings"
	"testing"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestComparison checks the comparison rules the replay relies on.
func TestComparison(t *testing.T) {
	cases := []struct {
		name, want, got string
		diffs           []string // paths
		extras          []string
	}{
		{"subset", `{"a":1,"b":{"c":"x"}}`, `{"a":1.0,"b":{"c":"x","d":2},"e":3}`, nil, []string{"b.d", "e"}},
		{"missing and changed", `{"a":1,"b":"x"}`, `{"b":"y"}`, []string{"a", "b"}, nil},
		{"casing of a key", `{"noHealthyBackendsBehavior":"AllProbedUp"}`, `{"NoHealthyBackendsBehavior":"AllProbedUp"}`, []string{"noHealthyBackendsBehavior"}, nil},
		{"ids ignore case", `{"subnet":{"id":"/subscriptions/S/resourceGroups/RG/x"}}`, `{"subnet":{"id":"/subscriptions/s/resourcegroups/rg/X"}}`, nil, nil},
		{"other strings keep case", `{"protocol":"Tcp"}`, `{"protocol":"TCP"}`, []string{"protocol"}, nil},
		{"generated values", `{"etag":"W/\"0\"","resourceGuid":"x","macAddress":"m","n":"00000000-0000-0000-0000-00000000"}`, `{"etag":"W/\"1\"","resourceGuid":"y","macAddress":"k","n":"6a1b2c3d-0000-0000-0000-000000000001"}`, nil, nil},
		{"generated values must be present", `{"etag":"W/\"0\""}`, `{}`, []string{"etag"}, nil},
		{"dynamic private address", `{"privateIPAddress":"10.0.0.4","privateIPAllocationMethod":"Dynamic"}`, `{"privateIPAddress":"10.9.9.9","privateIPAllocationMethod":"Dynamic"}`, nil, nil},
		{"static private address", `{"privateIPAddress":"10.0.0.4","privateIPAllocationMethod":"Static"}`, `{"privateIPAddress":"10.9.9.9","privateIPAllocationMethod":"Static"}`, []string{"privateIPAddress"}, nil},
		{"public address", `{"ipAddress":"1.2.3.4","publicIPAllocationMethod":"Static"}`, `{"ipAddress":"127.224.0.1","publicIPAllocationMethod":"Static"}`, nil, nil},
		{"member address", `{"ipAddress":"10.0.0.4"}`, `{"ipAddress":"10.0.0.5"}`, []string{"ipAddress"}, nil},
		{"provisioning state", `{"provisioningState":"Succeeded"}`, `{"provisioningState":"Updating"}`, nil, nil},
		{"elements by name", `{"r":[{"name":"a","v":1},{"name":"b","v":2}]}`, `{"r":[{"name":"b","v":2},{"name":"c"},{"name":"a","v":3}]}`, []string{"r[a].v"}, []string{"r[c]"}},
		{"elements by id", `{"r":[{"id":"/subscriptions/s/x/1"}]}`, `{"r":[{"id":"/subscriptions/s/x/2"}]}`, []string{"r[1]"}, []string{"r[2]"}},
		{"scalar arrays as sets", `{"z":["1","2"]}`, `{"z":["2","1","3"]}`, nil, []string{"z[#2]"}},
		{"scalar array element missing", `{"z":["1","2"]}`, `{"z":["2"]}`, []string{"z[#0]"}, nil},
		{"unnamed objects by index", `{"t":[{"port":1},{"port":2}]}`, `{"t":[{"port":1}]}`, []string{"t[#1]"}, nil},
		{"recorded null asks nothing", `{"a":null}`, `{}`, nil, nil},
		{"type mismatch", `{"a":{"b":1}}`, `{"a":[1]}`, []string{"a"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &comparison{}
			c.values("", decode(t, tc.want), decode(t, tc.got))
			var paths []string
			for _, d := range c.diffs {
				paths = append(paths, d.Path)
			}
			if strings.Join(paths, ",") != strings.Join(tc.diffs, ",") {
				t.Errorf("differences %v, want %v (%v)", paths, tc.diffs, c.diffs)
			}
			if strings.Join(c.extras, ",") != strings.Join(tc.extras, ",") {
				t.Errorf("extras %v, want %v", c.extras, tc.extras)
			}
		})
	}
}

// TestOperations checks that the operation table maps file names as
// intended (the replay fails for a file no operation matches).
func TestOperations(t *testing.T) {
	for name, want := range map[string]string{
		"LoadBalancerCreateWithZones.json":                          "PUT RG/loadBalancers/{lb}",
		"LoadBalancerGetInboundNatRulePortMapping.json":             "GET RG/loadBalancers/{lb}",
		"LoadBalancerBackendAddressPoolDelete.json":                 "DELETE RG/loadBalancers/{lb}/backendAddressPools/{backendAddressPoolName}",
		"LBBackendAddressPoolListWithBackendAddressesPoolType.json": "GET RG/loadBalancers/{lb}/backendAddressPools",
		"LoadBalancerNetworkInterfaceListVmss.json":                 "GET RG/loadBalancers/{lb}/networkInterfaces",
		"NetworkInterfaceListAll.json":                              "GET SUB/networkInterfaces",
		"NetworkInterfaceList.json":                                 "GET RG/networkInterfaces",
		"SubnetGetWithSharingScope.json":                            "GET RG/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}",
		"LoadBalancerUpdateTags.json":                               "PATCH RG/loadBalancers/{lb}",
		"QueryInboundNatRulePortMapping.json":                       "POST RG/loadBalancers/{lb}/backendAddressPools/{backendPoolName}/queryInboundNatRulePortMapping",
	} {
		o, ok := operationFor(name)
		if !ok || o.describe() != want {
			t.Errorf("%s maps to %q, want %q", name, o.describe(), want)
		}
	}
}

// TestReadOnlyStripped checks that read-only properties of recorded bodies
// are not sent as prerequisites while writable ones are.
func TestReadOnlyStripped(t *testing.T) {
	body := decode(t, `{"etag":"e","properties":{"provisioningState":"Succeeded","subnets":[{"name":"s","properties":{"addressPrefix":"10.0.0.0/24","ipConfigurations":[{"id":"x"}],"purpose":""}}],"virtualNetworkPeerings":[]}}`).(obj)
	got := stripReadOnly("virtualnetworks", body)
	want := `{"properties":{"subnets":[{"name":"s","properties":{"addressPrefix":"10.0.0.0/24"}}],"virtualNetworkPeerings":[]}}`
	if brief(got) != want {
		t.Errorf("stripped %s, want %s", brief(got), want)
	}
}
