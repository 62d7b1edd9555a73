// Command paddock runs Paddock, a self-hosted Azure Load Balancer: `paddock
// serve` starts the ARM API server with its embedded store. This file is
// wiring only.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/paddock-lb/paddock/internal/rp"
	"github.com/paddock-lb/paddock/internal/server"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "paddock",
		Short:         "Paddock: an Azure Load Balancer you run yourself",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.AddCommand(newServe())
	return root
}

func newServe() *cobra.Command {
	var (
		listen, dataDir, pipRange, logLevel string
		insecure                            bool
		pageSize                            int
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the ARM API server with the embedded store",
		RunE: func(cmd *cobra.Command, _ []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
			pr, err := netip.ParsePrefix(pipRange)
			if err != nil {
				return fmt.Errorf("--public-ip-range: %w", err)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := server.Start(ctx, server.Config{Listen: listen, DataDir: dataDir, InsecureHTTP: insecure, PublicIPRange: pr, PageSize: pageSize, Logger: log})
			if err != nil {
				return err
			}
			log.Info("paddock serving", "url", srv.URL, "data_dir", dataDir)
			if srv.CACertFile != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "CA certificate: %s (trust it: export SSL_CERT_FILE=%s REQUESTS_CA_BUNDLE=%s)\n", srv.CACertFile, srv.CACertFile, srv.CACertFile)
			}
			return srv.Wait(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8443", "HOST:PORT to serve the ARM API on")
	f.StringVar(&dataDir, "data-dir", server.DefaultDataDir(), "directory for the database and the TLS certificate")
	f.BoolVar(&insecure, "insecure-http", false, "serve plain HTTP instead of HTTPS")
	f.StringVar(&pipRange, "public-ip-range", rp.DefaultPublicIPRange.String(), "CIDR that public IP addresses are allocated from")
	f.IntVar(&pageSize, "page-size", 100, "items per page in list responses")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	return cmd
}
