package maglev

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func backendKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("lb1/pool1/10.0.0.%d", i+1)
	}
	return keys
}

// owners returns the key owning each table entry ("" when empty).
func owners(t *Table, keys []string) []string {
	out := make([]string, t.Size())
	for i := range out {
		if j := t.Lookup(uint64(i)); j >= 0 {
			out[i] = keys[j]
		}
	}
	return out
}

func TestNewPanicsOnCompositeSize(t *testing.T) {
	t.Parallel()
	for _, size := range []uint64{1, 4, 65536, 100} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Errorf("New(_, %d) did not panic", size)
				}
			}()
			New([]string{"a"}, size)
		})
	}
}

func TestEmpty(t *testing.T) {
	t.Parallel()
	for name, tab := range map[string]*Table{
		"nil":     nil,
		"zero":    {},
		"no keys": New(nil, 0),
	} {
		for _, h := range []uint64{0, 1, math.MaxUint64} {
			if got := tab.Lookup(h); got != -1 {
				t.Errorf("%s: Lookup(%d) = %d, want -1", name, h, got)
			}
		}
		if tab.Len() != 0 || tab.Size() != 0 {
			t.Errorf("%s: Len, Size = %d, %d; want 0, 0", name, tab.Len(), tab.Size())
		}
	}
}

func TestDeterministicAndOrderIndependent(t *testing.T) {
	t.Parallel()
	keys := backendKeys(7)
	a := owners(New(keys, 0), keys)
	b := owners(New(keys, 0), keys)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("two builds differ (-first +second):\n%s", diff)
	}
	rev := slices.Clone(keys)
	slices.Reverse(rev)
	if diff := cmp.Diff(a, owners(New(rev, 0), rev)); diff != "" {
		t.Fatalf("reordered keys give another table (-sorted +reversed):\n%s", diff)
	}
}

func TestDuplicateKeys(t *testing.T) {
	t.Parallel()
	tab := New([]string{"a", "b", "a", "c"}, 251)
	seen := map[int]int{}
	for h := range uint64(251) {
		seen[tab.Lookup(h)]++
	}
	if _, ok := seen[2]; ok {
		t.Errorf("duplicate key reported at its second index")
	}
	if len(seen) != 3 {
		t.Errorf("owners = %v, want indices 0, 1 and 3", seen)
	}
}

func TestEvenSpread(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3, 10, 100, 655} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			keys := backendKeys(n)
			tab := New(keys, 0)
			count := make([]int, n)
			for h := range tab.Size() {
				count[tab.Lookup(h)]++
			}
			ideal := float64(DefaultSize) / float64(n)
			for i, c := range count {
				// Maglev guarantees ⌊M/N⌋ or ⌈M/N⌉ per backend.
				if math.Abs(float64(c)-ideal) > 1 {
					t.Errorf("backend %d owns %d entries, want %.1f ± 1", i, c, ideal)
				}
			}
		})
	}
}

// TestDisruption removes one of ten backends and measures the share of all
// table entries (hence of all flows, the hash being uniform) that change
// owner. Ideal is 10%: exactly the removed backend's entries.
func TestDisruption(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		n      int
		remove int
	}{
		{"first of 10", 10, 0},
		{"middle of 10", 10, 4},
		{"last of 10", 10, 9},
		{"one of 100", 100, 42},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keys := backendKeys(tc.n)
			before := owners(New(keys, 0), keys)
			rest := slices.Delete(slices.Clone(keys), tc.remove, tc.remove+1)
			after := owners(New(rest, 0), rest)
			var moved, survivorsMoved int
			for i := range before {
				if before[i] != after[i] {
					moved++
					if before[i] != keys[tc.remove] {
						survivorsMoved++
					}
				}
			}
			share := float64(moved) / float64(len(before))
			ideal := 1 / float64(tc.n)
			t.Logf("remapped %.3f%% of flows (ideal %.3f%%); %.3f%% moved between surviving backends",
				100*share, 100*ideal, 100*float64(survivorsMoved)/float64(len(before)))
			if share < ideal || share > ideal+0.02 {
				t.Errorf("remapped share %.4f, want within [%.4f, %.4f]", share, ideal, ideal+0.02)
			}
		})
	}
}

func TestSizeFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int
		want uint64
	}{
		{0, 65537}, {1, 65537}, {655, 65537}, {656, 131071}, {5000, 524287}, {1 << 30, 16777213},
	} {
		if got := SizeFor(tc.n); got != tc.want {
			t.Errorf("SizeFor(%d) = %d, want %d", tc.n, got, tc.want)
		}
		if !isPrime(SizeFor(tc.n)) {
			t.Errorf("SizeFor(%d) is not prime", tc.n)
		}
	}
}

func TestFlowHash(t *testing.T) {
	t.Parallel()
	h := NewFlowHasher()
	a := netip.MustParseAddrPort("192.0.2.1:40000")
	a2 := netip.MustParseAddrPort("192.0.2.1:40001")
	mapped := netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), a.Port())
	d := netip.MustParseAddrPort("198.51.100.7:80")

	if h.FiveTuple(a, d, ProtoTCP) != h.FiveTuple(mapped, d, ProtoTCP) {
		t.Error("FiveTuple differs for an IPv4 address and its IPv4-mapped form")
	}
	if h.FiveTuple(a, d, ProtoTCP) == h.FiveTuple(a2, d, ProtoTCP) {
		t.Error("FiveTuple ignores the source port")
	}
	if h.FiveTuple(a, d, ProtoTCP) == h.FiveTuple(a, d, ProtoUDP) {
		t.Error("FiveTuple ignores the protocol")
	}
	if h.ThreeTuple(a.Addr(), d.Addr(), ProtoTCP) == h.ThreeTuple(a.Addr(), d.Addr(), ProtoUDP) {
		t.Error("ThreeTuple ignores the protocol")
	}
	if h.TwoTuple(a.Addr(), d.Addr()) != h.TwoTuple(a2.Addr(), d.Addr()) {
		t.Error("TwoTuple depends on something else than the addresses")
	}
	if NewFlowHasher().FiveTuple(a, d, ProtoTCP) == h.FiveTuple(a, d, ProtoTCP) {
		t.Error("two hashers share a seed")
	}

	// The hash spreads source ports evenly over a 3-backend table.
	tab := New([]string{"a", "b", "c"}, 0)
	count := make([]int, 3)
	const flows = 30000
	for p := range flows {
		src := netip.AddrPortFrom(a.Addr(), uint16(1024+p))
		count[tab.Lookup(h.FiveTuple(src, d, ProtoTCP))]++
	}
	for i, c := range count {
		if c < flows/3*9/10 || c > flows/3*11/10 {
			t.Errorf("backend %d got %d of %d flows, want %d ± 10%%", i, c, flows, flows/3)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	keys := backendKeys(10)
	for b.Loop() {
		New(keys, 0)
	}
}

func BenchmarkFiveTuple(b *testing.B) {
	h := NewFlowHasher()
	s := netip.MustParseAddrPort("192.0.2.1:40000")
	d := netip.MustParseAddrPort("198.51.100.7:80")
	b.ReportAllocs()
	for b.Loop() {
		h.FiveTuple(s, d, ProtoTCP)
	}
}
