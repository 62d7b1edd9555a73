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

	"github.com/paddock-lb/paddock/internal/cli"
	"github.com/paddock-lb/paddock/internal/lbplan"
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
	cli.AddCommands(root, server.DefaultDataDir())
	return root
}

func newServe() *cobra.Command {
	var (
		listen, dataDir, pipRange, logLevel, dataPlane string
		addressMaps                                    []string
		insecure                                       bool
		pageSize                                       int
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
			var amap lbplan.AddressMap
			for _, a := range addressMaps {
				m, err := lbplan.ParseMapping(a)
				if err != nil {
					return fmt.Errorf("--address-map: %w", err)
				}
				amap = append(amap, m)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := server.Start(ctx, server.Config{Listen: listen, DataDir: dataDir, InsecureHTTP: insecure, PublicIPRange: pr, PageSize: pageSize, Logger: log, DataPlane: dataPlane, AddressMap: amap})
			if err != nil {
				return err
			}
			log.Info("paddock serving", "url", srv.URL, "data_dir", dataDir, "data_plane", dataPlane)
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
	f.StringVar(&dataPlane, "data-plane", "userspace", "data plane: userspace (portable proxy) or none (control plane only)")
	f.StringArrayVar(&addressMaps, "address-map", nil, "VNET_CIDR=HOST_CIDR: serve VNET addresses on host addresses (repeatable), e.g. 10.0.0.0/16=127.10.0.0/16")
	return cmd
}
