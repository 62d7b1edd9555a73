package boltstore_test

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paddock-lb/paddock/internal/store"
	"github.com/paddock-lb/paddock/internal/store/boltstore"
)

// reportLatency adds p50 and p99 latency metrics, in milliseconds.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(float64(len(lat)-1)*p)]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkTxnSingle measures one client's conditional single-key Txn
// (a read-modify-write of a 256-byte value): each pays a full fsync.
func BenchmarkTxnSingle(b *testing.B) {
	s, _ := openTemp(b, boltstore.Options{})
	defer s.Close()
	ctx := b.Context()
	value := make([]byte, 256)
	var mod int64
	lat := make([]time.Duration, 0, 1024)
	for b.Loop() {
		start := time.Now()
		rev, err := s.Txn(ctx, []store.Cond{{Key: "bench/single", ModRev: mod}}, []store.Op{{Key: "bench/single", Value: value}})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		mod = rev
	}
	reportLatency(b, lat)
}

// BenchmarkTxnParallel32 runs 32 concurrent clients, each doing conditional
// single-key Txns on its own key, so group commit shares fsyncs. ns/op is
// the inverse of aggregate throughput; p99-ms is per-Txn latency.
func BenchmarkTxnParallel32(b *testing.B) {
	s, _ := openTemp(b, boltstore.Options{})
	defer s.Close()
	ctx := b.Context()
	const clients = 32
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((clients + procs - 1) / procs)
	var (
		mu  sync.Mutex
		all []time.Duration
		id  int
	)
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		key := fmt.Sprintf("bench/par/%d", id)
		id++
		mu.Unlock()
		value := make([]byte, 256)
		var mod int64
		var lat []time.Duration
		for pb.Next() {
			start := time.Now()
			rev, err := s.Txn(ctx, []store.Cond{{Key: key, ModRev: mod}}, []store.Op{{Key: key, Value: value}})
			if err != nil {
				b.Error(err)
				return
			}
			lat = append(lat, time.Since(start))
			mod = rev
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	reportLatency(b, all)
}
