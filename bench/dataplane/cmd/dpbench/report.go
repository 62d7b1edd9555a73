//go:build linux

package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// row is one line of the results table.
type row struct {
	id, what string
	kind     string             // how values print: gbps, rate, lat, mib, kib, pct, cpu-gb, cpu-us, count, fds
	vals     map[string]float64 // by path name
	notes    map[string]string  // by path name: shown instead of / after the value
	target   string
	verdict  func(vals map[string]float64) string
	lower    bool // lower is better (ratios still print as Paddock/other)
}

// derive adds per-sample metrics that need the proxy's CPU time.
func derive(w string, s sample) sample {
	ops := s["requests"]
	if w == "udp" {
		ops = s["received"]
	}
	if cs, ok := s["ctxSwitches"]; ok && ops > 0 {
		s["csPerOp"] = cs / ops
	}
	cpu, ok := s["cpuSec"]
	if !ok {
		return s
	}
	switch {
	case strings.HasPrefix(w, "tcp") && s["bytes"] > 0:
		s["cpuPerGB"] = cpu / (s["bytes"] / 1e9)
	case w == "udp" && s["received"] > 0:
		s["cpuUsPerOp"] = cpu * 1e6 / s["received"]
	case s["requests"] > 0:
		s["cpuUsPerOp"] = cpu * 1e6 / s["requests"]
	}
	return s
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// med returns the median of metric m over the samples of workload w on
// every path that has it.
func (b *bench) med(w, m string) map[string]float64 {
	out := map[string]float64{}
	for path, ss := range b.res[w] {
		var v []float64
		for _, s := range ss {
			if x, ok := derive(w, s)[m]; ok {
				v = append(v, x)
			}
		}
		if len(v) > 0 {
			out[path] = median(v)
		}
	}
	return out
}

// errNotes marks paths whose runs had request errors or failed.
func (b *bench) errNotes(w string) map[string]string {
	out := map[string]string{}
	for path, ss := range b.res[w] {
		total := 0.0
		for _, s := range ss {
			total += s["errors"]
		}
		if total > 0 {
			out[path] = fmt.Sprintf("(%.0f errors)", total)
		}
	}
	for path, es := range b.errs[w] {
		if len(es) > 0 {
			out[path] = strings.TrimSpace(out[path] + fmt.Sprintf(" (%d runs failed)", len(es)))
		}
	}
	return out
}

func atLeast(f float64) func(map[string]float64) string {
	return func(v map[string]float64) string {
		p, ok1 := v["paddock"]
		h, ok2 := v["haproxy"]
		if !ok1 || !ok2 || h == 0 {
			return "n/a"
		}
		if p/h >= f {
			return "**pass**"
		}
		return "**MISS**"
	}
}

func noWorse(v map[string]float64) string {
	p, ok1 := v["paddock"]
	h, ok2 := v["haproxy"]
	if !ok1 || !ok2 {
		return "n/a"
	}
	if p <= h {
		return "**pass**"
	}
	return "**MISS**"
}

func (b *bench) rows() []row {
	var rs []row
	add := func(r row) {
		if len(r.vals) > 0 || len(r.notes) > 0 {
			rs = append(rs, r)
		}
	}
	d := b.cfg.duration.Seconds()
	for i, streams := range []int{1, 4} {
		w := fmt.Sprintf("tcp%d", streams)
		id := string(rune('a' + 2*i))
		add(row{id: "1" + id, what: fmt.Sprintf("TCP bulk throughput, iperf3 -P %d -t %.0f", streams, d), kind: "gbps",
			vals: b.med(w, "gbps"), notes: b.errNotes(w), target: "≥ 1.2× HAProxy", verdict: atLeast(1.2)})
		add(row{id: "1" + string(rune('b'+2*i)), what: fmt.Sprintf("proxy CPU per GB moved (-P %d)", streams), kind: "cpu-gb",
			vals: b.med(w, "cpuPerGB"), lower: true})
	}
	add(row{id: "2a", what: fmt.Sprintf("new connections/s: wrk -t%d -c%d, Connection: close", b.cfg.wrkThreads, b.cfg.wrkConns), kind: "rate",
		vals: b.med("wrk-close", "rps"), notes: b.errNotes("wrk-close"), target: "≥ 1.2× HAProxy", verdict: atLeast(1.2)})
	add(row{id: "2b", what: "  same run, latency p50 (saturated)", kind: "lat", vals: b.med("wrk-close", "p50us"), lower: true})
	add(row{id: "2c", what: "  same run, latency p99 (saturated)", kind: "lat", vals: b.med("wrk-close", "p99us"), lower: true})
	add(row{id: "2d", what: "  proxy CPU per new connection", kind: "cpu-us", vals: b.med("wrk-close", "cpuUsPerOp"), lower: true})
	add(row{id: "2d'", what: "  proxy context switches per new connection", kind: "fds", vals: b.med("wrk-close", "csPerOp"), lower: true})
	add(row{id: "2e", what: fmt.Sprintf("keep-alive requests/s: wrk -t%d -c%d", b.cfg.wrkThreads, b.cfg.wrkConns), kind: "rate",
		vals: b.med("wrk-keepalive", "rps"), notes: b.errNotes("wrk-keepalive")})
	add(row{id: "2f", what: "  same run, latency p50 (saturated)", kind: "lat", vals: b.med("wrk-keepalive", "p50us"), lower: true})
	add(row{id: "2g", what: "  same run, latency p99 (saturated)", kind: "lat", vals: b.med("wrk-keepalive", "p99us"), lower: true,
		target: "≤ HAProxy", verdict: noWorse})
	add(row{id: "2h", what: "  proxy CPU per keep-alive request", kind: "cpu-us", vals: b.med("wrk-keepalive", "cpuUsPerOp"), lower: true})
	add(row{id: "2h'", what: "  proxy context switches per keep-alive request", kind: "fds", vals: b.med("wrk-keepalive", "csPerOp"), lower: true})
	add(row{id: "2i", what: fmt.Sprintf("fixed %.0f new conn/s (open loop): latency p50", b.cfg.rateClose), kind: "lat",
		vals: b.med("rr-close", "p50us"), notes: b.errNotes("rr-close"), lower: true})
	add(row{id: "2j", what: "  same run, latency p99", kind: "lat", vals: b.med("rr-close", "p99us"), lower: true,
		target: "≤ HAProxy", verdict: noWorse})
	add(row{id: "2k", what: "  same run, latency p99.9", kind: "lat", vals: b.med("rr-close", "p999us"), lower: true})
	add(row{id: "2l", what: fmt.Sprintf("fixed %.0f req/s over %d keep-alive conns: latency p50", b.cfg.rateKA, b.cfg.kaConns), kind: "lat",
		vals: b.med("rr-keepalive", "p50us"), notes: b.errNotes("rr-keepalive"), lower: true})
	add(row{id: "2m", what: "  same run, latency p99", kind: "lat", vals: b.med("rr-keepalive", "p99us"), lower: true,
		target: "≤ HAProxy", verdict: noWorse})
	udpNotes := b.errNotes("udp")
	if _, ok := b.res["udp"]; ok {
		udpNotes["haproxy"] = "n/a (HAProxy 2.6 has no generic UDP proxying)"
	}
	add(row{id: "3a", what: fmt.Sprintf("UDP echo replies/s, %d sockets × window 32, 64 B", b.cfg.udpSockets), kind: "rate",
		vals: b.med("udp", "pps"), notes: udpNotes})
	add(row{id: "3b", what: "  same run, datagrams lost", kind: "pct", vals: b.med("udp", "lossPct"), lower: true})
	add(row{id: "3c", what: "  proxy CPU per echo (request + reply relayed)", kind: "cpu-us", vals: b.med("udp", "cpuUsPerOp"), lower: true})
	add(row{id: "3d", what: "  proxy context switches per echo", kind: "fds", vals: b.med("udp", "csPerOp"), lower: true})
	rs = append(rs, b.idleRows()...)
	if b.remap != nil {
		r := b.remap
		rs = append(rs, row{id: "5", what: fmt.Sprintf("Maglev remap when 1 of %d backends leaves (mean of %d; %d flows; M=%d)", r.Backends, r.Backends, r.Flows, r.Size),
			kind: "pct", vals: map[string]float64{"paddock": r.MeanPct},
			notes:  map[string]string{"paddock": fmt.Sprintf("(max %.2f%%, collateral %.3f%%; add 1: %.2f%%)", r.MaxPct, r.MeanCollateralPct, r.AddPct)},
			target: fmt.Sprintf("%.0f%% ± 2 pp", r.IdealPct),
			verdict: func(v map[string]float64) string {
				if math.Abs(v["paddock"]-r.IdealPct) <= 2 {
					return "**pass**"
				}
				return "**MISS**"
			}})
	}
	return rs
}

func (b *bench) idleRows() []row {
	if len(b.idle) == 0 {
		return nil
	}
	n := b.maxIdle()
	held := map[string]float64{}
	heldNotes := map[string]string{}
	atStage := map[string]float64{}
	atMax := map[string]float64{}
	maxNotes := map[string]string{}
	perConn := map[string]float64{}
	fdsPer := map[string]float64{}
	slabPer := map[string]float64{}
	est := map[string]float64{}
	estAll := map[string]float64{}
	for path, r := range b.idle {
		if len(r.Stages) == 0 {
			continue
		}
		last := r.Stages[len(r.Stages)-1]
		held[path] = float64(last.Held)
		if r.Stopped != "" {
			heldNotes[path] = fmt.Sprintf("(stopped: %s; %s)", r.Stopped, r.FirstErr)
		}
		for _, st := range r.Stages {
			if st.Target == b.cfg.idleStage && st.Held >= st.Target {
				atStage[path] = float64(st.Proxy.RSSKiB) / 1024
			}
		}
		atMax[path] = float64(last.Proxy.RSSKiB) / 1024
		maxNotes[path] = fmt.Sprintf("(%d conns)", last.Held)
		if last.Held > 0 {
			per := float64(last.Proxy.RSSKiB-last.ProxyBase.RSSKiB) / float64(last.Held) // KiB
			perConn[path] = per
			fdsPer[path] = float64(last.Proxy.FDs-last.ProxyBase.FDs) / float64(last.Held)
			slab := float64(last.Proxy.SUnreclaimKiB-last.ProxyBase.SUnreclaimKiB) / float64(last.Held)
			slabPer[path] = slab
			est[path] = (float64(last.ProxyBase.RSSKiB) + per*10000) / 1024
			estAll[path] = est[path] + max(slab, 0)*10000/1024
		}
	}
	under300 := func(v map[string]float64) string {
		p, ok := v["paddock"]
		if !ok {
			return "n/a"
		}
		if p < 300 {
			return "**pass**"
		}
		return "**MISS**"
	}
	heldVerdict := func(v map[string]float64) string {
		if v["paddock"] >= float64(n) {
			return "**pass**"
		}
		return "**MISS**"
	}
	rs := []row{
		{id: "4a", what: fmt.Sprintf("idle TCP conns held (attempted %d)", n), kind: "count", vals: held, notes: heldNotes,
			target: fmt.Sprintf("all %d", n), verdict: heldVerdict},
		{id: "4b", what: "  descriptors per held conn", kind: "fds", vals: fdsPer, lower: true},
		{id: "4c", what: fmt.Sprintf("RSS with %d idle conns", b.cfg.idleStage), kind: "mib", vals: atStage, lower: true},
		{id: "4d", what: "RSS with the most conns held", kind: "mib", vals: atMax, notes: maxNotes, lower: true},
		{id: "4e", what: "  RSS per idle conn (above the RSS before)", kind: "kib", vals: perConn, lower: true},
	}
	r := row{id: "4f", what: "RSS with 10,000 idle conns", kind: "mib", vals: est, lower: true, target: "< 300 MiB", verdict: under300,
		notes: map[string]string{}}
	for path, r2 := range b.idle {
		if len(r2.Stages) > 0 && r2.Stages[len(r2.Stages)-1].Held < 10000 {
			r.notes[path] = "(extrapolated)"
		}
	}
	return append(rs, r,
		row{id: "4g", what: "  kernel slab per idle conn, whole system (SUnreclaim: all 4 sockets of a proxied conn + the proxy's pipes)", kind: "kib", vals: slabPer, lower: true},
		row{id: "4h", what: "RSS + that kernel memory, 10,000 idle conns (extrapolated)", kind: "mib", vals: estAll, lower: true})
}

func fmtVal(kind string, v float64) string {
	switch kind {
	case "gbps":
		return fmt.Sprintf("%.2f Gbit/s", v)
	case "rate":
		return fmt.Sprintf("%s/s", thousands(v))
	case "lat":
		if v < 1000 {
			return fmt.Sprintf("%.0f µs", v)
		}
		return fmt.Sprintf("%.2f ms", v/1000)
	case "mib":
		return fmt.Sprintf("%.1f MiB", v)
	case "kib":
		return fmt.Sprintf("%.1f KiB", v)
	case "pct":
		return fmt.Sprintf("%.2f%%", v)
	case "cpu-gb":
		return fmt.Sprintf("%.2f CPU-s/GB", v)
	case "cpu-us":
		return fmt.Sprintf("%.1f CPU-µs", v)
	case "count":
		return thousands(v)
	case "fds":
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%g", v)
}

func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func ratio(a, b map[string]float64, pa, pb string) string {
	x, ok1 := a[pa]
	y, ok2 := b[pb]
	if !ok1 || !ok2 || y == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", x/y)
}

func (b *bench) report(w io.Writer) {
	cols := []string{"direct", "paddock", "haproxy"}
	label := map[string]string{"direct": "direct", "paddock": "Paddock", "haproxy": "HAProxy 2.6", "inproc": "Paddock data plane in-process"}
	for _, p := range b.paths {
		if !slices.Contains(cols, p.name) {
			cols = append(cols, p.name)
			if label[p.name] == "" {
				label[p.name] = p.label
			}
		}
	}

	fmt.Fprintf(w, "\n## Paddock data plane vs HAProxy vs direct\n\n")
	for _, e := range b.env {
		fmt.Fprintf(w, "- %s\n", e)
	}
	fmt.Fprintf(w, "- load average by section (1, 5, 15 min): %s\n", strings.Join(b.loads, "; "))
	fmt.Fprintf(w, "- median of %d runs of %v each, paths interleaved; all traffic on 127.0.0.0/8\n\n", b.cfg.reps, b.cfg.duration)

	fmt.Fprintf(w, "| # | workload | ")
	for _, c := range cols {
		fmt.Fprintf(w, "%s | ", label[c])
	}
	fmt.Fprintf(w, "Paddock/HAProxy | Paddock/direct | target | result |\n|---|---|")
	for range cols {
		fmt.Fprintf(w, "---:|")
	}
	fmt.Fprintf(w, "---:|---:|---|---|\n")
	for _, r := range b.rows() {
		fmt.Fprintf(w, "| %s | %s | ", r.id, strings.TrimSpace(r.what))
		for _, c := range cols {
			cell := "–"
			if v, ok := r.vals[c]; ok {
				cell = fmtVal(r.kind, v)
			}
			if n := r.notes[c]; n != "" {
				if cell == "–" {
					cell = n
				} else {
					cell += " " + n
				}
			}
			fmt.Fprintf(w, "%s | ", cell)
		}
		verdict := ""
		if r.verdict != nil {
			verdict = r.verdict(r.vals)
		}
		fmt.Fprintf(w, "%s | %s | %s | %s |\n", ratio(r.vals, r.vals, "paddock", "haproxy"), ratio(r.vals, r.vals, "paddock", "direct"), r.target, verdict)
	}
	fmt.Fprintf(w, "\nLatency: wrk rows are closed-loop at saturation (wrk's own histogram); fixed-rate rows are open-loop (`dpbench rr`), measured from each request's scheduled start, so stalls are not hidden. Ratios are Paddock ÷ other: above 1 is better for rates, below 1 is better for latency, CPU and memory. CPU is the proxy process's user+system time over the run (/proc/PID/stat).\n")
	if len(b.notes) > 0 {
		fmt.Fprintf(w, "\nNotes:\n")
		for _, n := range b.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}
