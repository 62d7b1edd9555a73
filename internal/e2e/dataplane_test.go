package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// lbBody builds a Standard internal load balancer: frontend 10.0.0.100, an
// IP-based pool of the given VNet addresses, one TCP rule fport->bport with
// an HTTP probe on bport (interval 5 s, threshold 1), plus extra rules.
func (e *env) lbBody(fport, bport int, addrs []string, extraRules string) string {
	lb := e.id("loadBalancers/lb")
	vnet := e.id("virtualNetworks/vnet")
	var members []string
	for i, a := range addrs {
		members = append(members, fmt.Sprintf(`{"name":"m%d","properties":{"ipAddress":%q,"virtualNetwork":{"id":%q}}}`, i, a, vnet))
	}
	rules := fmt.Sprintf(`{"name":"web","properties":{"frontendIPConfiguration":{"id":"%[1]s/frontendIPConfigurations/fe"},"backendAddressPool":{"id":"%[1]s/backendAddressPools/pool"},"probe":{"id":"%[1]s/probes/hp"},"protocol":"Tcp","frontendPort":%[2]d,"backendPort":%[3]d}}`, lb, fport, bport)
	if extraRules != "" {
		rules += "," + extraRules
	}
	return fmt.Sprintf(`{"location":"local","sku":{"name":"Standard"},"properties":{
 "frontendIPConfigurations":[{"name":"fe","properties":{"privateIPAllocationMethod":"Static","privateIPAddress":"10.0.0.100","subnet":{"id":"%[1]s/subnets/default"}}}],
 "backendAddressPools":[{"name":"pool","properties":{"loadBalancerBackendAddresses":[%[2]s]}}],
 "probes":[{"name":"hp","properties":{"protocol":"Http","port":%[4]d,"requestPath":"/","intervalInSeconds":5,"probeThreshold":1}}],
 "loadBalancingRules":[%[3]s]}}`, vnet, strings.Join(members, ","), rules, bport)
}

type ruleHealth struct {
	Up        int `json:"up"`
	Down      int `json:"down"`
	Addresses []struct {
		IPAddress string `json:"ipAddress"`
		State     string `json:"state"`
		Reason    string `json:"reason"`
	} `json:"loadBalancerBackendAddresses"`
}

func (e *env) health(rule string) ruleHealth {
	e.t.Helper()
	var h ruleHealth
	code, b := e.do(http.MethodPost, strings.Replace(e.net("loadBalancers/lb/loadBalancingRules/"+rule+"/health"), apiVersion, "2026-01-01", 1), "")
	if code != 200 {
		e.t.Fatalf("health: %d %s", code, b)
	}
	if err := jsonUnmarshal(b, &h); err != nil {
		e.t.Fatal(err)
	}
	return h
}

// waitHealth polls the rule's health until cond holds, failing after limit.
func (e *env) waitHealth(rule string, limit time.Duration, cond func(ruleHealth) bool) (ruleHealth, time.Duration) {
	e.t.Helper()
	start := time.Now()
	for {
		h := e.health(rule)
		if cond(h) {
			return h, time.Since(start)
		}
		if time.Since(start) > limit {
			e.t.Fatalf("rule %s health did not reach the expected state within %v: %+v", rule, limit, h)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func state(h ruleHealth, ip string) string {
	for _, a := range h.Addresses {
		if a.IPAddress == ip {
			return a.State
		}
	}
	return ""
}

// TestSpreadFailoverRecovery is the first scenario: three backends
// behind an internal Standard load balancer, traffic reaches all three; one
// stops and is taken out within the probe window with no failed request
// after mark-down; it comes back when it starts again.
func TestSpreadFailoverRecovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	addrs := []string{"10.0.0.11", "10.0.0.12", "10.0.0.13"}
	backends := map[string]*backend{}
	for _, a := range addrs {
		backends[a] = startBackend(t, a, e.host(a)+":9000")
	}
	st := e.put(e.net("loadBalancers/lb"), e.lbBody(8080, 9000, addrs, ""))
	if st["status"] != "Succeeded" {
		t.Fatalf("LB operation: %v", st)
	}
	e.waitHealth("web", 20*time.Second, func(h ruleHealth) bool { return h.Up == 3 })
	front := "http://" + e.host("10.0.0.100") + ":8080/"

	counts := map[string]int{}
	const n = 90
	for range n {
		body, err := fetch(front)
		if err != nil {
			t.Fatalf("request through the load balancer: %v", err)
		}
		counts[body]++
	}
	for _, a := range addrs {
		// Binomial(90, 1/3): mean 30, sd 4.5; 12 is 4 sd below.
		if counts[a] < 12 {
			t.Errorf("backend %s got %d of %d requests: %v", a, counts[a], n, counts)
		}
	}

	backends["10.0.0.12"].stop()
	_, took := e.waitHealth("web", 20*time.Second, func(h ruleHealth) bool { return state(h, "10.0.0.12") == "Down" })
	// Azure: within intervalInSeconds × threshold, plus one interval.
	if limit := 5*time.Second*1 + 5*time.Second + 2*time.Second; took > limit {
		t.Errorf("mark-down took %v, want within %v", took, limit)
	}
	for range 60 {
		body, err := fetch(front)
		if err != nil {
			t.Fatalf("request failed after mark-down: %v", err)
		}
		if body == "10.0.0.12" {
			t.Fatal("a new connection reached the stopped backend after mark-down")
		}
	}

	backends["10.0.0.12"].start()
	e.waitHealth("web", 20*time.Second, func(h ruleHealth) bool { return h.Up == 3 })
	seen := false
	for range 60 {
		if body, err := fetch(front); err == nil && body == "10.0.0.12" {
			seen = true
			break
		}
	}
	if !seen {
		t.Error("the recovered backend got no new connection")
	}
}

// TestEstablishedSurvivesReconfiguration keeps one HTTP keep-alive
// connection open while the load balancer gains a backend and a rule and
// its probe changes; the connection keeps working.
func TestEstablishedSurvivesReconfiguration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	startBackend(t, "10.0.0.11", e.host("10.0.0.11")+":9000")
	startBackend(t, "10.0.0.12", e.host("10.0.0.12")+":9000")
	e.put(e.net("loadBalancers/lb"), e.lbBody(8080, 9000, []string{"10.0.0.11"}, ""))
	e.waitHealth("web", 20*time.Second, func(h ruleHealth) bool { return h.Up == 1 })

	conn, err := net.DialTimeout("tcp", e.host("10.0.0.100")+":8080", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	ask := func() string {
		t.Helper()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatalf("write on the established connection: %v", err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("read on the established connection: %v", err)
		}
		defer resp.Body.Close()
		b := make([]byte, 64)
		k, _ := resp.Body.Read(b)
		return string(b[:k])
	}
	if got := ask(); got != "10.0.0.11" {
		t.Fatalf("first answer from %q", got)
	}
	lb := e.id("loadBalancers/lb")
	extra := fmt.Sprintf(`{"name":"other","properties":{"frontendIPConfiguration":{"id":"%[1]s/frontendIPConfigurations/fe"},"backendAddressPool":{"id":"%[1]s/backendAddressPools/pool"},"protocol":"Tcp","frontendPort":8081,"backendPort":9001}}`, lb)
	body := strings.Replace(e.lbBody(8080, 9000, []string{"10.0.0.11", "10.0.0.12"}, extra), `"intervalInSeconds":5`, `"intervalInSeconds":6`, 1)
	if st := e.put(e.net("loadBalancers/lb"), body); st["status"] != "Succeeded" {
		t.Fatalf("update: %v", st)
	}
	for range 3 {
		if got := ask(); got != "10.0.0.11" {
			t.Fatalf("the established connection moved to %q", got)
		}
	}
}

// TestUnbindableFrontendFails: when the data plane cannot bind a frontend,
// the write's operation ends Failed with the reason and the load balancer
// shows provisioningState Failed; fixing it makes the next write succeed.
func TestUnbindableFrontendFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	blocker, err := net.Listen("tcp", e.host("10.0.0.100")+":8080")
	if err != nil {
		t.Fatal(err)
	}
	st := e.put(e.net("loadBalancers/lb"), e.lbBody(8080, 9000, []string{"10.0.0.11"}, ""))
	if st["status"] != "Failed" {
		t.Fatalf("operation status = %v, want Failed", st)
	}
	errBody, _ := st["error"].(map[string]any)
	if msg, _ := errBody["message"].(string); !strings.Contains(msg, "address already in use") {
		t.Errorf("failure reason = %q, want the bind error", msg)
	}
	var lb struct {
		Properties struct {
			ProvisioningState string `json:"provisioningState"`
		} `json:"properties"`
	}
	e.get(e.net("loadBalancers/lb"), &lb)
	if lb.Properties.ProvisioningState != "Failed" {
		t.Errorf("provisioningState = %q, want Failed", lb.Properties.ProvisioningState)
	}
	blocker.Close()
	if st := e.put(e.net("loadBalancers/lb"), e.lbBody(8080, 9000, []string{"10.0.0.11"}, "")); st["status"] != "Succeeded" {
		t.Fatalf("after freeing the port: %v", st)
	}
	e.get(e.net("loadBalancers/lb"), &lb)
	if lb.Properties.ProvisioningState != "Succeeded" {
		t.Errorf("provisioningState = %q, want Succeeded", lb.Properties.ProvisioningState)
	}
}

// TestMetrics: after traffic through a probed rule, /metrics shows the
// Azure-named figures for the frontend and the backend.
func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	startBackend(t, "10.0.0.11", e.host("10.0.0.11")+":9000")
	e.put(e.net("loadBalancers/lb"), e.lbBody(8080, 9000, []string{"10.0.0.11"}, ""))
	e.waitHealth("web", 20*time.Second, func(h ruleHealth) bool { return h.Up == 1 })
	for range 5 {
		if _, err := fetch("http://" + e.host("10.0.0.100") + ":8080/"); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := e.client.Get(e.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	text := string(b)
	for _, want := range []string{"paddock_syn_count", "paddock_byte_count", "paddock_vip_availability", "paddock_dip_availability", "paddock_health_probe_status", "paddock_health_probe_latency_seconds"} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !strings.Contains(text, `paddock_syn_count{`) || strings.Contains(text, "paddock_syn_count{listener=\"\"") {
		t.Errorf("unexpected syn count lines")
	}
}
