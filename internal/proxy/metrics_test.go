package proxy

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/paddock-lb/paddock/internal/dataplane"
	"github.com/prometheus/client_golang/prometheus"
)

func TestCollector(t *testing.T) {
	t.Parallel()
	feT, feU := feAddr(110, 18110), feAddr(111, 18111)
	a := newTCPBackend(t, "a", 110)
	u := newUDPBackend(t, "u", 110)
	p := newProxy(t)
	cfg := tcpConfig(feT, dataplane.Rule{Backends: []dataplane.Backend{a.backend(true), {Key: "pool/down", Addr: a.addr, Healthy: false}}})
	cfg.Listeners = append(cfg.Listeners, udpConfig(feU, dataplane.Rule{Backends: []dataplane.Backend{u.backend(false)}}).Listeners...)
	apply(t, p, cfg)
	c := dial(t, srcIP(0), feT)
	defer c.Close()
	c.echo(t, "1234")
	if got := newUDPClient(t, feU).ask(t, "x", 100*time.Millisecond); got != "" {
		t.Fatalf("udp answered by %s with no healthy backend", got)
	}

	eventually(t, "byte counters caught up", func() bool {
		st := p.Stats()["lb/fe/tcp/18110"]
		return st.BytesIn == 4 && st.BytesOut == 6
	})

	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(NewCollector(p)); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(labels)
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			got[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	want := map[string]float64{
		"paddock_syn_count{listener=lb/fe/tcp/18110}":                                            1,
		"paddock_byte_count{direction=in,listener=lb/fe/tcp/18110,protocol=tcp}":                 4,
		"paddock_byte_count{direction=out,listener=lb/fe/tcp/18110,protocol=tcp}":                6,
		"paddock_packet_count{direction=in,listener=lb/fe/udp,protocol=udp}":                     1,
		"paddock_rejected_flow_count{listener=lb/fe/udp,protocol=udp,reason=no_healthy_backend}": 1,
		"paddock_active_flows{listener=lb/fe/tcp/18110,protocol=tcp}":                            1,
		"paddock_vip_availability{listener=lb/fe/tcp/18110,protocol=tcp}":                        1,
		"paddock_vip_availability{listener=lb/fe/udp,protocol=udp}":                              0,
		"paddock_dip_availability{backend=pool/a,listener=lb/fe/tcp/18110}":                      1,
		"paddock_dip_availability{backend=pool/down,listener=lb/fe/tcp/18110}":                   0,
		"paddock_backend_active_flows{backend=pool/a,listener=lb/fe/tcp/18110}":                  1,
	}
	picked := map[string]float64{}
	for k := range want {
		if v, ok := got[k]; ok {
			picked[k] = v
		}
	}
	if diff := cmp.Diff(want, picked); diff != "" {
		t.Errorf("metrics (-want +got):\n%s\nall: %v", diff, got)
	}
}
