package controller

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paddock-lb/paddock/internal/health"
)

// ProbeCollector exports the health probes' results: Azure's
// DipAvailability as seen by each probe, and probe latency.
type ProbeCollector struct {
	hs *health.Scheduler
}

// NewProbeCollector returns a collector over a health scheduler.
func NewProbeCollector(hs *health.Scheduler) *ProbeCollector { return &ProbeCollector{hs: hs} }

var (
	descProbeUp = prometheus.NewDesc("paddock_health_probe_status",
		"1 when the backend passes its health probe (Azure DipAvailability per probe), 0 otherwise.",
		[]string{"probe", "backend"}, nil)
	descProbeLatency = prometheus.NewDesc("paddock_health_probe_latency_seconds",
		"Duration of the backend's most recent health probe attempt.",
		[]string{"probe", "backend"}, nil)
)

// Describe implements prometheus.Collector.
func (c *ProbeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descProbeUp
	ch <- descProbeLatency
}

// Collect implements prometheus.Collector.
func (c *ProbeCollector) Collect(ch chan<- prometheus.Metric) {
	for key, r := range c.hs.Snapshot() {
		probe, backend, _ := strings.Cut(key, "|")
		up := 0.0
		if r.Up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descProbeUp, prometheus.GaugeValue, up, probe, backend)
		if !r.Probed.IsZero() {
			ch <- prometheus.MustNewConstMetric(descProbeLatency, prometheus.GaugeValue, r.Latency.Seconds(), probe, backend)
		}
	}
}
