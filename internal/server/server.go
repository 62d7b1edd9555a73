// Package server assembles a running Paddock: it opens the store, builds the
// resource providers and the ARM HTTP handler, and serves them over HTTPS
// (or plain HTTP) on a listener. cmd/paddock and the integration tests both
// start Paddock through it.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/paddock-lb/paddock/internal/armhttp"
	"github.com/paddock-lb/paddock/internal/certs"
	"github.com/paddock-lb/paddock/internal/controller"
	"github.com/paddock-lb/paddock/internal/health"
	"github.com/paddock-lb/paddock/internal/lbplan"
	"github.com/paddock-lb/paddock/internal/proxy"
	"github.com/paddock-lb/paddock/internal/rp"
	"github.com/paddock-lb/paddock/internal/store"
	"github.com/paddock-lb/paddock/internal/store/boltstore"
)

// Config is how to run a server.
type Config struct {
	// Listen is the HOST:PORT to serve on (port 0 picks a free one).
	Listen string
	// DataDir holds the database and the TLS certificate.
	DataDir string
	// InsecureHTTP serves plain HTTP instead of HTTPS.
	InsecureHTTP bool
	// PublicIPRange is where public IP addresses are allocated.
	PublicIPRange netip.Prefix
	// PageSize of list responses (0: default).
	PageSize int
	// Store, when set, is used instead of opening the bolt database in
	// DataDir (tests pass a memstore). The server does not close it.
	Store  store.Store
	Logger *slog.Logger
	// DataPlane selects the data plane: "" or "none" (control plane only:
	// writes complete at once, nothing listens) or "userspace" (the
	// portable proxy; writes complete when it has applied them).
	DataPlane string
	// AddressMap translates VNET addresses to host addresses for the data
	// plane only.
	AddressMap lbplan.AddressMap
}

// Server is a running Paddock.
type Server struct {
	// URL is the base URL clients use, e.g. https://127.0.0.1:8443.
	URL string
	// CACertFile is the PEM file clients must trust ("" with InsecureHTTP).
	CACertFile string
	// Addr is the bound address.
	Addr net.Addr

	http *http.Server
	st   store.Store
	// data plane, when running
	stopDP  func()
	ownsSt  bool
	done    chan error
	stopped atomic.Bool
}

// DefaultDataDir is the per-user data directory.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "paddock")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "paddock")
	}
	return filepath.Join(os.TempDir(), "paddock")
}

// Start opens everything and begins serving; it returns once the listener
// accepts connections.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8443"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", cfg.DataDir, err)
	}
	s := &Server{st: cfg.Store, done: make(chan error, 1)}
	if s.st == nil {
		bs, err := boltstore.Open(filepath.Join(cfg.DataDir, "paddock.db"), boltstore.Options{})
		if err != nil {
			return nil, err
		}
		s.st, s.ownsSt = bs, true
	}
	var ready atomic.Bool
	var svc *rp.Service
	var healthSrc armhttp.RuleHealthSource
	var statusSrc func() any
	reg := prometheus.NewRegistry()
	switch cfg.DataPlane {
	case "", "none":
		svc = rp.New(rp.Options{Store: s.st, PublicIPRange: cfg.PublicIPRange, Logger: log})
	case "userspace":
		svc = rp.New(rp.Options{Store: s.st, PublicIPRange: cfg.PublicIPRange, Logger: log, DataPlane: true})
		px := proxy.New(proxy.Options{Logger: log})
		hs := health.New(health.Options{Logger: log})
		ctl := controller.New(controller.Options{RP: svc, Store: s.st, DataPlane: px, Health: hs, Addresses: cfg.AddressMap, Logger: log})
		healthSrc = ctl
		statusSrc = func() any { return ctl.Status() }
		if err := errors.Join(reg.Register(proxy.NewCollector(px)), reg.Register(controller.NewProbeCollector(hs))); err != nil {
			s.closeStore()
			return nil, fmt.Errorf("register metrics: %w", err)
		}
		dctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := ctl.Run(dctx); err != nil {
				log.Error("controller stopped", "err", err)
			}
		}()
		s.stopDP = func() {
			cancel()
			<-done
			px.Close()
			hs.Close()
		}
	default:
		s.closeStore()
		return nil, fmt.Errorf("unknown data plane %q (want none or userspace)", cfg.DataPlane)
	}
	armh := armhttp.New(armhttp.Options{RP: svc, Logger: log, PageSize: cfg.PageSize, Ready: ready.Load, Health: healthSrc, Status: statusSrc})
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", armh)
	var h http.Handler = mux
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		s.closeStore()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	s.Addr = ln.Addr()
	s.http = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	scheme := "http"
	if !cfg.InsecureHTTP {
		host, _, _ := net.SplitHostPort(cfg.Listen)
		cert, caFile, err := certs.LoadOrCreate(cfg.DataDir, host)
		if err != nil {
			ln.Close()
			s.closeStore()
			return nil, err
		}
		s.CACertFile = caFile
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	s.URL = scheme + "://" + s.Addr.String()
	go func() { s.done <- s.http.Serve(ln) }()
	ready.Store(true)
	return s, nil
}

// Wait blocks until the server stops or ctx ends, then shuts it down.
func (s *Server) Wait(ctx context.Context) error {
	select {
	case err := <-s.done:
		if s.stopDP != nil {
			s.stopDP()
		}
		s.closeStore()
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		return s.Close()
	}
}

// Close stops serving (waiting up to 10 s for requests in flight) and
// closes the store it opened.
func (s *Server) Close() error {
	if s.stopped.Swap(true) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if s.stopDP != nil {
		s.stopDP()
	}
	if cerr := s.closeStore(); err == nil {
		err = cerr
	}
	return err
}

func (s *Server) closeStore() error {
	if s.ownsSt && s.st != nil {
		err := s.st.Close()
		s.st = nil
		return err
	}
	return nil
}
