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

	"github.com/paddock-lb/paddock/internal/armhttp"
	"github.com/paddock-lb/paddock/internal/certs"
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
}

// Server is a running Paddock.
type Server struct {
	// URL is the base URL clients use, e.g. https://127.0.0.1:8443.
	URL string
	// CACertFile is the PEM file clients must trust ("" with InsecureHTTP).
	CACertFile string
	// Addr is the bound address.
	Addr net.Addr

	http    *http.Server
	st      store.Store
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
	svc := rp.New(rp.Options{Store: s.st, PublicIPRange: cfg.PublicIPRange, Logger: log})
	var ready atomic.Bool
	h := armhttp.New(armhttp.Options{RP: svc, Logger: log, PageSize: cfg.PageSize, Ready: ready.Load})
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
