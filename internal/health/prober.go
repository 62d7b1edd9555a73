package health

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Protocol is the protocol of a health probe.
type Protocol int

const (
	// TCP probes succeed when a connection is established.
	TCP Protocol = iota
	// HTTP probes succeed when GET of the path answers 200.
	HTTP
	// HTTPS is HTTP over TLS, without certificate verification.
	HTTPS
)

func (p Protocol) String() string {
	switch p {
	case TCP:
		return "Tcp"
	case HTTP:
		return "Http"
	case HTTPS:
		return "Https"
	}
	return "unknown"
}

// Azure's ceilings on one attempt: the timeout is the probe interval, but no
// more than these.
const (
	MaxHTTPTimeout = 30 * time.Second
	MaxTCPTimeout  = 60 * time.Second
)

// DefaultInterval is Azure's default intervalInSeconds.
const DefaultInterval = 15 * time.Second

// Target is one (probe, backend) member to watch.
type Target struct {
	// Key identifies the member: the probe and the backend, e.g.
	// "lb1/probe1/10.0.0.4". Targets sharing a Key are probed once.
	Key      string
	Addr     netip.AddrPort
	Protocol Protocol
	// Path is the HTTP request path; "/" is prepended when missing.
	Path string
	// Interval between attempts; 0 means DefaultInterval.
	Interval time.Duration
	// Threshold of consecutive results needed to change status (Azure:
	// probeThreshold if set, else numberOfProbes, else 1); 0 means 1.
	Threshold int
}

func (t Target) withDefaults() Target {
	if t.Interval <= 0 {
		t.Interval = DefaultInterval
	}
	t.Threshold = max(t.Threshold, 1)
	return t
}

// AttemptTimeout is how long one attempt on t may take: its interval, but
// at most MaxHTTPTimeout (HTTP, HTTPS) or MaxTCPTimeout (TCP).
func AttemptTimeout(t Target) time.Duration {
	t = t.withDefaults()
	ceiling := MaxTCPTimeout
	if t.Protocol != TCP {
		ceiling = MaxHTTPTimeout
	}
	return min(t.Interval, ceiling)
}

// Prober runs one probe attempt. It returns nil when the target is healthy;
// otherwise an error that Reason classifies. It must return when ctx is
// done.
type Prober interface {
	Probe(ctx context.Context, t Target) error
}

// ProberFunc adapts a function to Prober.
type ProberFunc func(ctx context.Context, t Target) error

// Probe calls f.
func (f ProberFunc) Probe(ctx context.Context, t Target) error { return f(ctx, t) }

// DialFunc dials a connection, like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// userAgent is what Azure's probes send.
const userAgent = "Load Balancer Agent"

// NetProber probes over the network.
type NetProber struct {
	dial   DialFunc
	client *http.Client
}

// NewNetProber returns a prober that dials with dial (nil: a net.Dialer).
// Injecting dial lets tests run probes over in-memory connections.
func NewNetProber(dial DialFunc) *NetProber {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	tr := &http.Transport{
		Proxy:                  nil, // never an HTTP proxy from the environment
		DialContext:            dial,
		TLSClientConfig:        &tls.Config{InsecureSkipVerify: true}, // backends use self-signed certificates
		DisableKeepAlives:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &NetProber{
		dial: dial,
		client: &http.Client{
			Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse // a redirect is a non-200 answer
			},
		},
	}
}

// Probe runs one attempt on t.
func (p *NetProber) Probe(ctx context.Context, t Target) error {
	switch t.Protocol {
	case TCP:
		c, err := p.dial(ctx, "tcp", t.Addr.String())
		if err != nil {
			return fmt.Errorf("probe tcp %s: %w", t.Addr, err)
		}
		c.Close()
		return nil
	case HTTP, HTTPS:
		return p.probeHTTP(ctx, t)
	}
	return fmt.Errorf("probe %s: unknown protocol %d", t.Addr, t.Protocol)
}

func (p *NetProber) probeHTTP(ctx context.Context, t Target) error {
	path := t.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	scheme := "http"
	if t.Protocol == HTTPS {
		scheme = "https"
	}
	url := scheme + "://" + t.Addr.String() + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("probe %s: %w", url, err)
	}
	req.Close = true
	req.Header.Set("User-Agent", userAgent)
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("probe %s: %w", url, err)
	}
	// Drain a little so the server sees a clean close; the body is not
	// part of the verdict.
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("probe %s: %w", url, &HTTPStatusError{Code: resp.StatusCode})
	}
	return nil
}

// Close releases the prober's idle resources.
func (p *NetProber) Close() {
	p.client.CloseIdleConnections()
}
