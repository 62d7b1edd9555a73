//go:build linux

package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"

	"github.com/paddock-lb/paddock/internal/maglev"
)

// remapResult: the share of flows that change backend when one of N
// backends leaves, averaged (and worst case) over each backend leaving in
// turn. Ideal is 1/N: exactly the flows of the backend that left.
type remapResult struct {
	Backends int     `json:"backends"`
	Flows    int     `json:"flows"`
	Size     uint64  `json:"tableSize"`
	MeanPct  float64 `json:"meanRemappedPercent"`
	MaxPct   float64 `json:"maxRemappedPercent"`
	IdealPct float64 `json:"idealPercent"`
	// Flows that moved although their backend stayed (between survivors).
	MeanCollateralPct float64 `json:"meanCollateralPercent"`
	// Same measure when one backend is added to N.
	AddPct float64 `json:"addRemappedPercent"`
}

func remapMain(args []string) error {
	fs := flag.NewFlagSet("remap", flag.ContinueOnError)
	n := fs.Int("backends", 10, "backends")
	flows := fs.Int("flows", 1_000_000, "random TCP 5-tuples hashed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	r, err := remap(*n, *flows)
	if err != nil {
		return err
	}
	return printJSON(r)
}

// remap builds the tables the way internal/proxy does (maglev.New over
// backend keys, maglev.SizeFor) and hashes random 5-tuples with the
// proxy's FlowHasher.
func remap(n, flows int) (remapResult, error) {
	if n < 2 || flows < 1 {
		return remapResult{}, fmt.Errorf("need at least 2 backends and 1 flow")
	}
	keys := make([]string, n+1)
	for i := range keys {
		keys[i] = fmt.Sprintf("pool/10.0.1.%d", 10+i)
	}
	all := keys[:n]
	full := maglev.New(all, maglev.SizeFor(n))
	h := maglev.NewFlowHasher()
	rng := rand.New(rand.NewPCG(1, 2))
	dst := netip.MustParseAddrPort("10.0.0.100:80")
	sums := make([]uint64, flows)
	for i := range sums {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(rng.IntN(256)), byte(rng.IntN(256))}), uint16(1024+rng.IntN(64511)))
		sums[i] = h.FiveTuple(src, dst, maglev.ProtoTCP)
	}
	before := make([]string, flows)
	for i, s := range sums {
		before[i] = all[full.Lookup(s)]
	}
	res := remapResult{Backends: n, Flows: flows, Size: full.Size(), IdealPct: 100 / float64(n)}
	for gone := range n {
		rest := make([]string, 0, n-1)
		for i, k := range all {
			if i != gone {
				rest = append(rest, k)
			}
		}
		t := maglev.New(rest, maglev.SizeFor(n-1))
		moved, collateral := 0, 0
		for i, s := range sums {
			if after := rest[t.Lookup(s)]; after != before[i] {
				moved++
				if before[i] != all[gone] {
					collateral++
				}
			}
		}
		pct := 100 * float64(moved) / float64(flows)
		res.MeanPct += pct / float64(n)
		res.MaxPct = max(res.MaxPct, pct)
		res.MeanCollateralPct += 100 * float64(collateral) / float64(flows) / float64(n)
	}
	grown := maglev.New(keys, maglev.SizeFor(n+1))
	moved := 0
	for i, s := range sums {
		if keys[grown.Lookup(s)] != before[i] {
			moved++
		}
	}
	res.AddPct = 100 * float64(moved) / float64(flows)
	return res, nil
}
