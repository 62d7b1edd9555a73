package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// TestHTTPConventions checks the ARM conventions clients rely on beyond
// what the SDK surfaces: long-running-operation headers and status
// documents, request ids, case-insensitive and doubled-slash paths.
func TestHTTPConventions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.group("rg")
	e.vnet("rg", "vnet", "s0")

	t.Run("PUT answers with an async operation", func(t *testing.T) {
		r := e.do(http.MethodPut, withAPI(pipID("rg", "pip")), pipBody("Basic"), "x-ms-client-request-id", "client-1")
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		for _, h := range []string{"x-ms-request-id", "x-ms-correlation-request-id"} {
			if r.Header.Get(h) == "" {
				t.Errorf("no %s header", h)
			}
		}
		if got := r.Header.Get("x-ms-client-request-id"); got != "client-1" {
			t.Errorf("x-ms-client-request-id echoed as %q", got)
		}
		if got := r.Header.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After %q", got)
		}
		op := r.Header.Get("Azure-AsyncOperation")
		u, err := url.Parse(op)
		if err != nil || u.Scheme != "https" || u.Host != strings.TrimPrefix(e.srv.URL, "https://") || u.Query().Get("api-version") != netAPI {
			t.Fatalf("Azure-AsyncOperation %q is not an absolute URL on the server with the api-version", op)
		}
		st := e.do(http.MethodGet, u.RequestURI(), nil)
		var body struct{ Status string }
		if err := json.Unmarshal(st.Body, &body); err != nil || st.Status != http.StatusOK || body.Status != "Succeeded" {
			t.Errorf("operation status: %d %s", st.Status, st.Body)
		}
		if r := e.do(http.MethodPut, withAPI(pipID("rg", "pip")), pipBody("Basic")); r.Status != http.StatusOK {
			t.Errorf("update: %d, want 200", r.Status)
		}
	})

	t.Run("DELETE answers 202 with Location, then 204", func(t *testing.T) {
		e.create(pipID("rg", "gone"), pipBody("Basic"), nil)
		r := e.do(http.MethodDelete, withAPI(pipID("rg", "gone")), nil)
		if r.Status != http.StatusAccepted {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		loc, err := url.Parse(r.Header.Get("Location"))
		if err != nil || !loc.IsAbs() {
			t.Fatalf("Location %q", r.Header.Get("Location"))
		}
		if st := e.do(http.MethodGet, loc.RequestURI(), nil); st.Status != http.StatusNoContent {
			t.Errorf("operation result: %d %s", st.Status, st.Body)
		}
		if r := e.do(http.MethodDelete, withAPI(pipID("rg", "gone")), nil); r.Status != http.StatusNoContent {
			t.Errorf("delete of a missing resource: %d, want 204", r.Status)
		}
		if r := e.do(http.MethodGet, "/subscriptions/"+testSub+"/providers/Microsoft.Network/locations/eastus/operations/nope?api-version="+netAPI, nil); r.Status != http.StatusNotFound {
			t.Errorf("unknown operation: %d", r.Status)
		}
	})

	t.Run("paths match in any casing and keep the stored casing", func(t *testing.T) {
		r := e.do(http.MethodGet, "/SUBSCRIPTIONS/"+testSub+"/resourcegroups/RG/PROVIDERS/microsoft.network/VIRTUALNETWORKS/VNet?api-version="+netAPI, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET: %d %s", r.Status, r.Body)
		}
		var v struct{ ID, Name string }
		if err := json.Unmarshal(r.Body, &v); err != nil {
			t.Fatal(err)
		}
		if v.ID != vnetID("rg", "vnet") || v.Name != "vnet" {
			t.Errorf("id %s name %s", v.ID, v.Name)
		}
	})

	t.Run("doubled slashes", func(t *testing.T) {
		r := e.do(http.MethodGet, "//metadata/endpoints?api-version=2022-09-01", nil)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"resourceManager"`) {
			t.Errorf("metadata: %d %s", r.Status, r.Body)
		}
		r = e.do(http.MethodPut, "//subscriptions/"+testSub+"//resourceGroups/rg2?api-version="+rgAPI, `{"location":"eastus"}`)
		if r.Status != http.StatusCreated {
			t.Errorf("PUT with doubled slashes: %d %s", r.Status, r.Body)
		}
	})
}

// TestConcurrentAllocations creates NICs with dynamic addresses from many
// clients at once (and deletes some): no private address may end up with
// two holders, and the subnet's ipConfigurations must match the NICs.
func TestConcurrentAllocations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.group("rg")
	e.vnet("rg", "vnet", "s0")
	s0 := subnetID("rg", "vnet", "s0")
	const workers, perWorker = 8, 12
	var wg sync.WaitGroup
	errs := make(chan string, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				id := nicID("rg", fmt.Sprintf("nic-%d-%d", w, i))
				b, _ := json.Marshal(nicBody(s0, ""))
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, e.srv.URL+withAPI(id), bytes.NewReader(b))
				resp, err := e.http.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					errs <- fmt.Sprintf("PUT %s: %d", id, resp.StatusCode)
				}
				if i%4 == 3 { // delete every fourth
					req, _ := http.NewRequestWithContext(t.Context(), http.MethodDelete, e.srv.URL+withAPI(id), nil)
					resp, err := e.http.Do(req)
					if err != nil {
						errs <- err.Error()
						return
					}
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	holders := map[string]string{}
	var want []string
	for pg := e.net.NewInterfacesClient().NewListPager("rg", nil); pg.More(); {
		page, err := pg.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range page.Value {
			ic := n.Properties.IPConfigurations[0]
			a := *ic.Properties.PrivateIPAddress
			if h, dup := holders[a]; dup {
				t.Errorf("address %s held by %s and %s", a, h, *ic.ID)
			}
			holders[a] = *ic.ID
			want = append(want, *ic.ID)
		}
	}
	if len(want) != workers*perWorker*3/4 {
		t.Errorf("%d NICs left, want %d", len(want), workers*perWorker*3/4)
	}
	sameIDs(t, "subnet ipConfigurations", want, ipConfigIDs(e.getSubnet("rg", "vnet", "s0").Properties.IPConfigurations))
}

// TestConcurrentDeleteGuards races a write that starts using a resource
// against the delete that checks it is unused: whichever wins, the delete
// guard must hold (no NIC in a deleted subnet, no NIC in a pool of a
// deleted load balancer).
func TestConcurrentDeleteGuards(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.group("rg")
	e.vnet("rg", "vnet", "s0")
	const rounds = 25
	race := func(a, b func()) {
		var wg sync.WaitGroup
		wg.Go(a)
		wg.Go(b)
		wg.Wait()
	}
	send := func(method, path string, body any) int {
		var rd *bytes.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		} else {
			rd = bytes.NewReader(nil)
		}
		req, _ := http.NewRequestWithContext(t.Context(), method, e.srv.URL+withAPI(path), rd)
		resp, err := e.http.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	exists := func(path string) bool { return send(http.MethodGet, path, nil) == http.StatusOK }
	for i := range rounds {
		sn := fmt.Sprintf("r%d", i)
		e.create(subnetID("rg", "vnet", sn), map[string]any{"properties": map[string]any{"addressPrefix": fmt.Sprintf("10.0.%d.0/24", 10+i)}}, nil)
		nic := nicID("rg", "nic-"+sn)
		race(func() { send(http.MethodPut, nic, nicBody(subnetID("rg", "vnet", sn), "")) },
			func() { send(http.MethodDelete, subnetID("rg", "vnet", sn), nil) })
		if exists(nic) && !exists(subnetID("rg", "vnet", sn)) {
			t.Errorf("round %d: NIC %s lives in deleted subnet %s", i, nic, sn)
		}
		send(http.MethodDelete, nic, nil)

		lb := lbID("rg", "lb-"+sn)
		e.create(lb, internalLB("rg", "lb-"+sn, subnetID("rg", "vnet", "s0"), "Standard"), nil)
		pool := lbID("rg", "lb-"+sn, "backendAddressPools", "pool1")
		race(func() { send(http.MethodPut, nicID("rg", "m-"+sn), nicBody(subnetID("rg", "vnet", "s0"), "", pool)) },
			func() { send(http.MethodDelete, lb, nil) })
		if exists(nicID("rg", "m-"+sn)) && !exists(lb) {
			t.Errorf("round %d: NIC m-%s is in a pool of deleted load balancer %s", i, sn, lb)
		}
	}
}

// TestConcurrentGroupDelete creates resources in a group while the group
// is being deleted: afterwards no resource may outlive its group.
func TestConcurrentGroupDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	send := func(method, path string, body any) int {
		b, _ := json.Marshal(body)
		if body == nil {
			b = nil
		}
		req, _ := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, bytes.NewReader(b))
		resp, err := e.http.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for round := range 10 {
		rg := fmt.Sprintf("rg%d", round)
		e.group(rg)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := range 5 {
					send(http.MethodPut, withAPI(pipID(rg, fmt.Sprintf("pip-%d-%d", w, i))), pipBody("Basic"))
				}
			})
		}
		wg.Go(func() { send(http.MethodDelete, rgID(rg)+"?api-version="+rgAPI, nil) })
		wg.Wait()
		if send(http.MethodGet, rgID(rg)+"?api-version="+rgAPI, nil) == http.StatusOK {
			continue // the group outlived the delete (a create came first): fine
		}
		for pg := e.net.NewPublicIPAddressesClient().NewListAllPager(nil); pg.More(); {
			page, err := pg.NextPage(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page.Value {
				if strings.Contains(*p.ID, "/resourceGroups/"+rg+"/") {
					t.Errorf("round %d: %s outlived its group", round, *p.ID)
				}
			}
		}
	}
}
