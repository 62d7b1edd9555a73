//go:build linux

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/paddock-lb/paddock/internal/proxy"
)

// proxyMain runs internal/proxy in-process with the benchmark topology on
// -fe (by default 127.30.0.100), without Paddock's control plane, and
// serves net/http/pprof on -pprof, until SIGTERM/SIGINT. It isolates the
// data plane and makes it profilable:
//
//	go tool pprof -seconds 5 http://127.0.0.1:PORT/debug/pprof/profile
func proxyMain(args []string) error {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	netN := fs.Int("net", 77, "topology network: backends in 127.N.0.0/16, frontend 127.N+2.0.100 (see dpbench run -net)")
	feF := fs.String("fe", "", "frontend address (loopback; default 127.N+2.0.100)")
	pprofAddr := fs.String("pprof", "127.0.0.1:0", "pprof listen address (loopback); the chosen one is printed")
	blockRate := fs.Int("block-profile-rate", 0, "runtime.SetBlockProfileRate (0: off)")
	mutexFrac := fs.Int("mutex-profile-fraction", 0, "runtime.SetMutexProfileFraction (0: off)")
	procs := fs.Int("gomaxprocs", 0, "runtime.GOMAXPROCS (0: the default)")
	loops := fs.Int("event-loops", 0, "proxy.Options.EventLoops (0: the default; -1: none, the goroutine path only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	setNet(*netN)
	fe := feF
	if *fe == "" {
		fe = &inprocFE
	}
	if !strings.HasPrefix(*pprofAddr, "127.") || !strings.HasPrefix(*fe, "127.") {
		return errors.New("loopback addresses only")
	}
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	runtime.SetBlockProfileRate(*blockRate)
	runtime.SetMutexProfileFraction(*mutexFrac)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	p := proxy.New(proxy.Options{EventLoops: max(*loops, 0), NoEventLoops: *loops < 0})
	defer p.Close()
	st, err := p.Apply(ctx, dataplaneConfig(*fe))
	if err != nil {
		return err
	}
	if len(st.Errors) > 0 {
		return fmt.Errorf("apply: %v", st.Errors)
	}

	ln, err := net.Listen("tcp4", *pprofAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("pprof http://%s/debug/pprof/\n", ln.Addr())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
