package rp

import (
	"github.com/paddock-lb/paddock/internal/arm"
	"net/netip"
	"strings"
)

// Private address management. Every private address in use in a virtual
// network has one key ip/{vnet}/{address} whose value is the id of its
// holder (a NIC IP configuration or a load balancer frontend). Claiming an
// address creates that key with a create-only condition, so two writers can
// never hold the same address, even on different servers.

// reservedIP reports whether a is one of Azure's five reserved addresses of
// the subnet: the network address, .1 (gateway), .2 and .3 (DNS), and the
// broadcast address.
func reservedIP(p netip.Prefix, a netip.Addr) bool {
	p = p.Masked()
	first := p.Addr()
	for i := 0; i < 4; i++ {
		if a == first {
			return true
		}
		first = first.Next()
	}
	if a.Is4() {
		return a == lastAddr(p)
	}
	return false
}

// lastAddr returns the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// usedIPs returns the addresses in use in a VNet, mapped to their holders.
func (s *Service) usedIPs(t *txn, vnetID string) (map[netip.Addr]string, error) {
	kvs, err := t.scan(ipPrefix(vnetID))
	if err != nil {
		return nil, err
	}
	m := make(map[netip.Addr]string, len(kvs))
	pre := ipPrefix(vnetID)
	for _, kv := range kvs {
		a, err := netip.ParseAddr(strings.TrimPrefix(kv.Key, pre))
		if err != nil {
			continue
		}
		m[a] = string(kv.Value)
	}
	return m, nil
}

// claimIP records holder as the user of address a in the VNet. It returns
// the id of another holder when the address is taken.
func (t *txn) claimIP(vnetID string, a netip.Addr, holder string) (string, error) {
	k := ipKey(vnetID, a)
	v, ok, err := t.get(k)
	if err != nil {
		return "", err
	}
	if ok && !strings.EqualFold(string(v), holder) {
		return string(v), nil
	}
	if !ok {
		t.put(k, []byte(holder))
	}
	return "", nil
}

// releaseIP frees an address held by holder (an address another holder
// has is left alone).
func (t *txn) releaseIP(vnetID string, a netip.Addr, holder string) error {
	k := ipKey(vnetID, a)
	v, ok, err := t.get(k)
	if err != nil || !ok || !strings.EqualFold(string(v), holder) {
		return err
	}
	t.del(k)
	if t.svc != nil {
		t.svc.lowerHints(arm.IDKey(vnetID), a)
	}
	return nil
}

// maxScan bounds the addresses one allocation looks at (IPv6 subnets are
// /64s).
const maxScan = 1 << 17

// allocateFree claims a free address of p for holder: the lowest free one
// at or after this process's hint for p (addresses below it were taken
// when it was set; a release lowers it), skipping Azure's reserved
// addresses and addresses other transactions of this process are claiming.
// keyOf maps an address to its claim key; claim reads the key (so the
// commit is conditional on it) and reports the other holder, if any.
func (s *Service) allocateFree(t *txn, hintKey string, p netip.Prefix, keyOf func(netip.Addr) string, claim func(netip.Addr) (string, error)) (netip.Addr, bool, error) {
	p = p.Masked()
	start := s.hint(hintKey, p)
	a := start
	for n := 0; n < maxScan; n++ {
		if !p.Contains(a) {
			a = p.Addr()
		}
		if n > 0 && a == start {
			break // went all the way round
		}
		if reservedIP(p, a) {
			a = a.Next()
			continue
		}
		if s.reserve(t, keyOf(a)) {
			other, err := claim(a)
			if err != nil {
				return netip.Addr{}, false, err
			}
			if other == "" {
				s.setHint(hintKey, a.Next())
				return a, true, nil
			}
		}
		a = a.Next()
	}
	return netip.Addr{}, false, nil
}

func (s *Service) hint(key string, p netip.Prefix) netip.Addr {
	s.resMu.Lock()
	defer s.resMu.Unlock()
	if a, ok := s.hints[key]; ok && p.Contains(a) {
		return a
	}
	return p.Addr()
}

func (s *Service) setHint(key string, a netip.Addr) {
	s.resMu.Lock()
	defer s.resMu.Unlock()
	if s.hints == nil {
		s.hints = map[string]netip.Addr{}
	}
	s.hints[key] = a
}

// lowerHints moves the hints of a VNet (or of the public range, scope "")
// down to a freed address.
func (s *Service) lowerHints(scope string, a netip.Addr) {
	s.resMu.Lock()
	defer s.resMu.Unlock()
	for k, h := range s.hints {
		if strings.HasPrefix(k, scope+"|") && a.Less(h) {
			s.hints[k] = a
		}
	}
}

// subnetPrefix returns the (first) address prefix of a subnet.
func subnetPrefix(addressPrefix string, addressPrefixes []string) (netip.Prefix, bool) {
	s := addressPrefix
	if s == "" && len(addressPrefixes) > 0 {
		s = addressPrefixes[0]
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	return p, true
}
