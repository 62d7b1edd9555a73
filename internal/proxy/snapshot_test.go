package proxy

import (
	"log/slog"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/paddock-lb/paddock/internal/dataplane"
	"github.com/paddock-lb/paddock/internal/maglev"
)

func TestNewSnapshot(t *testing.T) {
	t.Parallel()
	ap := func(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
	a := dataplane.Backend{Key: "a", Addr: ap("10.0.0.1:80"), Healthy: true}
	b := dataplane.Backend{Key: "b", Addr: ap("10.0.0.2:80"), Healthy: false}
	c := dataplane.Backend{Key: "c", Addr: ap("10.0.0.3:80"), Healthy: true}
	bad := dataplane.Backend{Key: "bad", Healthy: true}
	dupA := dataplane.Backend{Key: "a", Addr: ap("10.0.0.9:80"), Healthy: true}
	for _, tc := range []struct {
		name         string
		rule         dataplane.Rule
		wantEligible []string
		wantMembers  []string
	}{
		{"healthy only", dataplane.Rule{Backends: []dataplane.Backend{a, b, c}}, []string{"a", "c"}, []string{"a", "b", "c"}},
		{"none healthy", dataplane.Rule{Backends: []dataplane.Backend{b}}, nil, []string{"b"}},
		{"none healthy, allow all", dataplane.Rule{NoHealthyAllowAll: true, Backends: []dataplane.Backend{b}}, []string{"b"}, []string{"b"}},
		{"some healthy, allow all", dataplane.Rule{NoHealthyAllowAll: true, Backends: []dataplane.Backend{a, b}}, []string{"a"}, []string{"a", "b"}},
		{"invalid and duplicate skipped", dataplane.Rule{Backends: []dataplane.Backend{bad, a, dupA}}, []string{"a"}, []string{"a"}},
		{"no backends", dataplane.Rule{}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSnapshot(tc.rule, nil, map[string]*maglev.Table{}, slog.New(slog.DiscardHandler))
			var elig, members []string
			for _, id := range s.eligible {
				elig = append(elig, id.key)
			}
			for _, k := range []string{"a", "b", "c", "bad"} {
				for id := range s.members {
					if id.key == k {
						members = append(members, k)
					}
				}
			}
			if diff := cmp.Diff(tc.wantEligible, elig); diff != "" {
				t.Errorf("eligible (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantMembers, members); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			_, ok := s.pick(maglev.NewFlowHasher(), ap("192.0.2.1:1234"), ap("198.51.100.1:80"), maglev.ProtoTCP)
			if ok != (len(tc.wantEligible) > 0) {
				t.Errorf("pick ok = %v with eligible %v", ok, tc.wantEligible)
			}
		})
	}
}

func TestNewSnapshotReusesTables(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	ap := netip.MustParseAddrPort("10.0.0.1:80")
	r := dataplane.Rule{Backends: []dataplane.Backend{{Key: "a", Addr: ap, Healthy: true}}}
	s1 := newSnapshot(r, nil, map[string]*maglev.Table{}, log)
	r2 := r
	r2.Backends = append(r2.Backends, dataplane.Backend{Key: "b", Addr: ap, Healthy: false})
	s2 := newSnapshot(r2, s1, map[string]*maglev.Table{}, log)
	if s2.table != s1.table {
		t.Error("same eligible keys, table rebuilt")
	}
	r2.Backends[1].Healthy = true
	if s3 := newSnapshot(r2, s2, map[string]*maglev.Table{}, log); s3.table == s2.table {
		t.Error("new eligible backend, table reused")
	}
	tables := map[string]*maglev.Table{}
	first, second := newSnapshot(r, nil, tables, log), newSnapshot(r, nil, tables, log)
	if first.table != second.table {
		t.Error("two listeners with one pool in one Apply built two tables")
	}
}
