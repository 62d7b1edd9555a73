//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

const (
	armSub     = "00000000-0000-0000-0000-0000000d0001"
	armRG      = "dpbench"
	netVersion = "2024-05-01"
	rgVersion  = "2021-04-01"
)

// arm is a minimal client of Paddock's ARM API over plain HTTP.
type arm struct {
	base string // http://127.0.0.1:PORT
	hc   *http.Client
}

func (a *arm) rgPath() string {
	return "/subscriptions/" + armSub + "/resourceGroups/" + armRG
}

func (a *arm) netID(rel string) string {
	return a.rgPath() + "/providers/Microsoft.Network/" + rel
}

func (a *arm) do(ctx context.Context, method, path, version string, body any) ([]byte, int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path+"?api-version="+version, rd)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, resp.StatusCode, err
}

func (a *arm) put(ctx context.Context, path, version string, body any) error {
	b, code, err := a.do(ctx, http.MethodPut, path, version, body)
	if err != nil {
		return fmt.Errorf("PUT %s: %w", path, err)
	}
	if code != http.StatusOK && code != http.StatusCreated {
		return fmt.Errorf("PUT %s: %d %s", path, code, b)
	}
	return nil
}

type obj = map[string]any

func ref(id string) obj { return obj{"id": id} }

// configurePaddock creates the resource group, the VNet and the Standard
// internal load balancer of the benchmark (frontend 10.0.0.100, one
// IP-based pool and one rule per workload, no probe so that no probe
// traffic reaches iperf3 or the idle backend: every backend is then
// "Up_No_Probe"), then waits until the load balancer is Succeeded.
func (a *arm) configurePaddock(ctx context.Context) error {
	if err := a.put(ctx, a.rgPath(), rgVersion, obj{"location": "local"}); err != nil {
		return err
	}
	vnet := a.netID("virtualNetworks/vnet")
	if err := a.put(ctx, vnet, netVersion, obj{
		"location": "local",
		"properties": obj{
			"addressSpace": obj{"addressPrefixes": []string{"10.0.0.0/16"}},
			"subnets":      []obj{{"name": "default", "properties": obj{"addressPrefix": "10.0.0.0/24"}}},
		},
	}); err != nil {
		return err
	}
	lb := a.netID("loadBalancers/lb")
	type wl struct {
		name  string
		proto string
		port  int
		idle  int
		hosts []string
	}
	wls := []wl{
		{"web", "Tcp", webPort, 30, webBackends},
		{"iperf", "Tcp", iperfPort, 30, iperfBackends},
		{"udp", "Udp", udpPort, 30, udpBackends},
		{"idle", "Tcp", idlePort, 100, idleBackends},
	}
	var pools, rules []obj
	for _, w := range wls {
		var members []obj
		for _, h := range w.hosts {
			members = append(members, obj{"name": "m" + strings.ReplaceAll(vnetAddr(h), ".", "-"), "properties": obj{
				"ipAddress": vnetAddr(h), "virtualNetwork": ref(vnet),
			}})
		}
		pools = append(pools, obj{"name": "pool-" + w.name, "properties": obj{"loadBalancerBackendAddresses": members}})
		rules = append(rules, obj{"name": w.name, "properties": obj{
			"frontendIPConfiguration": ref(lb + "/frontendIPConfigurations/fe"),
			"backendAddressPool":      ref(lb + "/backendAddressPools/pool-" + w.name),
			"protocol":                w.proto,
			"frontendPort":            w.port,
			"backendPort":             w.port,
			"idleTimeoutInMinutes":    w.idle,
			"loadDistribution":        "Default",
		}})
	}
	body := obj{
		"location": "local",
		"sku":      obj{"name": "Standard"},
		"properties": obj{
			"frontendIPConfigurations": []obj{{"name": "fe", "properties": obj{
				"privateIPAllocationMethod": "Static",
				"privateIPAddress":          "10.0.0.100",
				"subnet":                    ref(vnet + "/subnets/default"),
			}}},
			"backendAddressPools": pools,
			"loadBalancingRules":  rules,
		},
	}
	if err := a.put(ctx, lb, netVersion, body); err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, code, err := a.do(ctx, http.MethodGet, lb, netVersion, nil)
		if err != nil {
			return err
		}
		var got struct {
			Properties struct {
				ProvisioningState string `json:"provisioningState"`
			} `json:"properties"`
		}
		if code == http.StatusOK {
			if err := json.Unmarshal(b, &got); err != nil {
				return err
			}
			switch got.Properties.ProvisioningState {
			case "Succeeded":
				return nil
			case "Failed", "Canceled":
				return fmt.Errorf("load balancer %s: %s", got.Properties.ProvisioningState, b)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("load balancer not Succeeded after 60s: %d %s", code, b)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
