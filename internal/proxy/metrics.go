package proxy

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports a Proxy's Stats as Prometheus metrics named after Azure
// Load Balancer's metrics (ByteCount, PacketCount, SYNCount,
// VipAvailability, DipAvailability), labelled by listener Key and, for
// per-backend metrics, backend Key. Register it with a
// prometheus.Registerer; it reads the counters at each scrape.
type Collector struct {
	p *Proxy
}

// NewCollector returns a Collector for p.
func NewCollector(p *Proxy) *Collector { return &Collector{p: p} }

var (
	descBytes = prometheus.NewDesc("paddock_byte_count",
		"Payload bytes relayed, by direction: in is client to backend, out is backend to client.",
		[]string{"listener", "protocol", "direction"}, nil)
	descPackets = prometheus.NewDesc("paddock_packet_count",
		"UDP datagrams relayed, by direction (a userspace proxy does not see TCP segments).",
		[]string{"listener", "protocol", "direction"}, nil)
	descSYN = prometheus.NewDesc("paddock_syn_count",
		"TCP connections accepted.",
		[]string{"listener"}, nil)
	descNewFlows = prometheus.NewDesc("paddock_flow_count",
		"New flows: TCP connections accepted or UDP flows started.",
		[]string{"listener", "protocol"}, nil)
	descRejected = prometheus.NewDesc("paddock_rejected_flow_count",
		"New flows not served, by reason: no_healthy_backend, listener_full, backend_unreachable.",
		[]string{"listener", "protocol", "reason"}, nil)
	descEnded = prometheus.NewDesc("paddock_ended_flow_count",
		"Flows ended by the load balancer, by reason: idle_timeout, drained.",
		[]string{"listener", "protocol", "reason"}, nil)
	descActive = prometheus.NewDesc("paddock_active_flows",
		"Flows open now.",
		[]string{"listener", "protocol"}, nil)
	descVIP = prometheus.NewDesc("paddock_vip_availability",
		"1 when the listener is bound and has a backend that takes new flows (Azure data path availability).",
		[]string{"listener", "protocol"}, nil)
	descDIP = prometheus.NewDesc("paddock_dip_availability",
		"1 when the backend is healthy in the configuration (Azure health probe status).",
		[]string{"listener", "backend"}, nil)
	descBackendActive = prometheus.NewDesc("paddock_backend_active_flows",
		"Flows open now to the backend, including those draining after it left the rule.",
		[]string{"listener", "backend"}, nil)
)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descBytes, descPackets, descSYN, descNewFlows, descRejected, descEnded,
		descActive, descVIP, descDIP, descBackendActive,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for key, st := range c.p.Stats() {
		proto := st.Protocol.String()
		counter(descBytes, st.BytesIn, key, proto, "in")
		counter(descBytes, st.BytesOut, key, proto, "out")
		if proto == "udp" {
			counter(descPackets, st.PacketsIn, key, proto, "in")
			counter(descPackets, st.PacketsOut, key, proto, "out")
		} else {
			counter(descSYN, st.NewFlows, key)
		}
		counter(descNewFlows, st.NewFlows, key, proto)
		counter(descRejected, st.Refused, key, proto, "no_healthy_backend")
		counter(descRejected, st.Dropped, key, proto, "listener_full")
		counter(descRejected, st.DialFailures, key, proto, "backend_unreachable")
		counter(descEnded, st.IdleTimeouts, key, proto, "idle_timeout")
		counter(descEnded, st.Drained, key, proto, "drained")
		gauge(descActive, float64(st.ActiveFlows), key, proto)
		gauge(descVIP, boolFloat(st.EligibleBackends > 0), key, proto)
		for bk, b := range st.Backends {
			if b.Member {
				gauge(descDIP, boolFloat(b.Healthy), key, bk)
			}
			gauge(descBackendActive, float64(b.ActiveFlows), key, bk)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
