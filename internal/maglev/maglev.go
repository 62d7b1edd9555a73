// Package maglev implements Maglev consistent hashing (Eisenbud et al.,
// "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI 2016,
// section 3.4) and the flow hashes that index it.
//
// A Table maps a flow hash to one of N backends through a lookup table of M
// entries (M prime). Every backend fills the table following its own
// permutation of 0..M-1, taking turns, so each backend owns ⌊M/N⌋ or ⌈M/N⌉
// entries (even spread), and removing one backend mostly reassigns only the
// entries it owned (minimal disruption). The paper recommends M ≥ 100·N to
// keep the imbalance between backends within about 1%: DefaultSize (65537)
// satisfies that for up to 655 backends; SizeFor picks a larger prime beyond.
//
// Permutations are derived from two deterministic hashes of each backend's
// key, not its position, and the table is filled in key order, so a Table is
// a pure function of the key set: every process that sees the same backends
// builds the same table, and reordering the keys changes nothing.
package maglev

import (
	"fmt"
	"slices"
)

// DefaultSize is the table size used when New is given 0: the prime 65537,
// at least 100 entries per backend for up to 655 backends.
const DefaultSize uint64 = 65537

// sizes are primes, each about twice the previous, for SizeFor.
var sizes = [...]uint64{65537, 131071, 262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213}

// SizeFor returns the smallest size from a fixed list of primes (starting at
// DefaultSize) that gives at least 100 table entries per backend, or the
// largest of the list.
func SizeFor(n int) uint64 {
	for _, m := range sizes {
		if m >= 100*uint64(n) {
			return m
		}
	}
	return sizes[len(sizes)-1]
}

// Table is an immutable Maglev lookup table. The zero value and a table of
// no backends look up -1.
type Table struct {
	n     int
	entry []int32 // index into the caller's keys; nil when n == 0
}

// New builds the lookup table of backendKeys with tableSize entries
// (DefaultSize when 0). Lookup returns indices into backendKeys. A key that
// appears more than once is one backend, reported at its first index.
//
// New panics if tableSize is not prime or is smaller than the number of
// distinct keys: the permutations are only complete for a prime size, and
// that is a programming error, not a runtime condition.
func New(backendKeys []string, tableSize uint64) *Table {
	m := tableSize
	if m == 0 {
		m = DefaultSize
	}
	if !isPrime(m) {
		panic(fmt.Sprintf("maglev: table size %d is not prime", m))
	}

	// Distinct keys in sorted order, each remembering its first index in
	// the caller's slice: the fill order then depends only on the key set.
	first := make(map[string]int, len(backendKeys))
	for i, k := range backendKeys {
		if _, ok := first[k]; !ok {
			first[k] = i
		}
	}
	keys := make([]string, 0, len(first))
	for k := range first {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	n := len(keys)
	t := &Table{n: len(backendKeys)}
	if n == 0 {
		return t
	}
	if uint64(n) > m {
		panic(fmt.Sprintf("maglev: %d backends do not fit a table of %d", n, m))
	}

	// Population (paper, Pseudocode 1). pos[i] is backend i's current
	// permutation value, offset + j·skip mod m, advanced by skip.
	pos := make([]uint64, n)
	skip := make([]uint64, n)
	for i, k := range keys {
		pos[i] = hashOffset(k) % m
		skip[i] = hashSkip(k)%(m-1) + 1
	}
	t.entry = make([]int32, m)
	for i := range t.entry {
		t.entry[i] = -1
	}
	var filled uint64
	for {
		for i := range keys {
			c := pos[i]
			for t.entry[c] >= 0 {
				c += skip[i]
				if c >= m {
					c -= m
				}
			}
			t.entry[c] = int32(first[keys[i]])
			c += skip[i]
			if c >= m {
				c -= m
			}
			pos[i] = c
			filled++
			if filled == m {
				return t
			}
		}
	}
}

// Lookup returns the index (into the keys given to New) of the backend that
// owns hash, or -1 when the table has no backends.
func (t *Table) Lookup(hash uint64) int {
	if t == nil || t.entry == nil {
		return -1
	}
	return int(t.entry[hash%uint64(len(t.entry))])
}

// Len returns the number of keys the table was built from.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return t.n
}

// Size returns the number of table entries (0 for a table of no backends).
func (t *Table) Size() uint64 {
	if t == nil {
		return 0
	}
	return uint64(len(t.entry))
}

// hashOffset and hashSkip are two independent deterministic 64-bit hashes
// of a backend key (FNV-1a with distinct offset bases, finished with the
// SplitMix64 mixer so that nearby keys land far apart).
func hashOffset(key string) uint64 { return mix(fnv1a(0xcbf29ce484222325, key)) }
func hashSkip(key string) uint64   { return mix(fnv1a(0x84222325cbf29ce4, key) ^ 0x9e3779b97f4a7c15) }

func fnv1a(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return h
}

func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func isPrime(n uint64) bool {
	if n < 2 {
		return false
	}
	if n%2 == 0 {
		return n == 2
	}
	for d := uint64(3); d*d <= n; d += 2 {
		if n%d == 0 {
			return false
		}
	}
	return true
}
