//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// udpEchoMain serves a UDP echo on each address, with -workers sockets per
// address bound with SO_REUSEPORT (the kernel spreads client addresses
// over them), until SIGTERM/SIGINT.
func udpEchoMain(args []string) error {
	fs := flag.NewFlagSet("udp-echo", flag.ContinueOnError)
	listen := fs.String("listen", "", "comma-separated host:port list (loopback)")
	workers := fs.Int("workers", 2, "sockets (and goroutines) per address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *listen == "" {
		return errors.New("-listen is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lc := net.ListenConfig{Control: reusePort}
	var conns []*net.UDPConn
	for _, a := range strings.Split(*listen, ",") {
		for range *workers {
			pc, err := lc.ListenPacket(ctx, "udp4", a)
			if err != nil {
				return err
			}
			conns = append(conns, pc.(*net.UDPConn))
		}
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			buf := make([]byte, 64<<10)
			for {
				n, src, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					continue
				}
				_, _ = c.WriteToUDPAddrPort(buf[:n], src)
			}
		})
	}
	<-ctx.Done()
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
	return nil
}

func reusePort(_, _ string, rc syscall.RawConn) error {
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	return serr
}

// udpLoadResult is the output of udp-load.
type udpLoadResult struct {
	Sent     uint64  `json:"sent"`
	Received uint64  `json:"received"`
	Seconds  float64 `json:"seconds"`
	PPS      float64 `json:"replyPerSecond"`
	LossPct  float64 `json:"lossPercent"`
}

// udpLoadMain sends datagrams from several connected sockets, each keeping
// at most -window datagrams unanswered, and counts the replies received
// during -duration. A socket that waits more than -stall for a reply
// writes its outstanding datagrams off as lost and starts over.
func udpLoadMain(args []string) error {
	fs := flag.NewFlagSet("udp-load", flag.ContinueOnError)
	targets := fs.String("targets", "", "comma-separated host:port list; sockets are spread over them")
	sockets := fs.Int("sockets", 8, "client sockets")
	window := fs.Int("window", 32, "unanswered datagrams allowed per socket")
	size := fs.Int("size", 64, "payload bytes")
	duration := fs.Duration("duration", 5*time.Second, "measurement time")
	warmup := fs.Duration("warmup", 500*time.Millisecond, "traffic before measuring (flow setup)")
	stall := fs.Duration("stall", 20*time.Millisecond, "reply wait before writing a window off as lost")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *targets == "" {
		return errors.New("-targets is required")
	}
	tl := strings.Split(*targets, ",")
	var conns []*net.UDPConn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range *sockets {
		raddr, err := net.ResolveUDPAddr("udp4", tl[i%len(tl)])
		if err != nil {
			return err
		}
		c, err := net.DialUDP("udp4", nil, raddr)
		if err != nil {
			return err
		}
		conns = append(conns, c)
	}

	var (
		measuring  atomic.Bool
		stop       atomic.Bool
		sent, recv atomic.Uint64
		wg         sync.WaitGroup
	)
	for _, c := range conns {
		notify := make(chan struct{}, 1)
		var out, in atomic.Int64 // per-socket sent and received
		// Receiver.
		wg.Go(func() {
			buf := make([]byte, 64<<10)
			for {
				_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				_, err := c.Read(buf)
				if err != nil {
					if stop.Load() {
						return
					}
					continue
				}
				in.Add(1)
				if measuring.Load() {
					recv.Add(1)
				}
				select {
				case notify <- struct{}{}:
				default:
				}
			}
		})
		// Sender.
		wg.Go(func() {
			payload := make([]byte, *size)
			t := time.NewTimer(time.Hour)
			var written int64 // datagrams written off as lost
			for !stop.Load() {
				if out.Load()-in.Load()-written < int64(*window) {
					if _, err := c.Write(payload); err == nil {
						out.Add(1)
						if measuring.Load() {
							sent.Add(1)
						}
					}
					continue
				}
				t.Reset(*stall)
				select {
				case <-notify:
					t.Stop()
				case <-t.C:
					written = out.Load() - in.Load()
				}
			}
		})
	}
	time.Sleep(*warmup)
	measuring.Store(true)
	start := time.Now()
	time.Sleep(*duration)
	measuring.Store(false)
	el := time.Since(start)
	stop.Store(true)
	wg.Wait()
	r := udpLoadResult{Sent: sent.Load(), Received: recv.Load(), Seconds: el.Seconds()}
	r.PPS = float64(r.Received) / el.Seconds()
	if r.Sent > 0 {
		r.LossPct = 100 * (1 - float64(r.Received)/float64(r.Sent))
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// printJSON writes v as one JSON line on stdout.
func printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Println(string(b))
	return err
}
