// Package controller drives the data plane from the stored state: it
// watches the store, compiles the load balancers plus probe health into a
// dataplane.Config (lbplan.Compile), hands it to the data plane whole, feeds
// the probe targets to the health scheduler, and reports back to the
// resource providers which writes the data plane has applied, so that their
// operations end Succeeded — or Failed with the reason, when a frontend
// cannot be served.
package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/paddock-lb/paddock/internal/dataplane"
	"github.com/paddock-lb/paddock/internal/health"
	"github.com/paddock-lb/paddock/internal/lbplan"
	"github.com/paddock-lb/paddock/internal/rp"
	"github.com/paddock-lb/paddock/internal/store"
)

// Options configure a Controller.
type Options struct {
	RP        *rp.Service
	Store     store.Store
	DataPlane dataplane.Programmer
	Health    *health.Scheduler
	Addresses lbplan.AddressMap
	Logger    *slog.Logger
	// Debounce coalesces bursts of changes (default 20 ms).
	Debounce time.Duration
}

// Controller is the reconcile loop. Run it once.
type Controller struct {
	opts Options
	log  *slog.Logger

	mu     sync.RWMutex
	plan   *lbplan.Plan
	status dataplane.Status
	rev    int64
	// failed says the last reconcile failed; the loop retries it.
	failed bool
}

// New returns a controller.
func New(opts Options) *Controller {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 20 * time.Millisecond
	}
	return &Controller{opts: opts, log: opts.Logger}
}

// Run reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	var healthChanges <-chan struct{}
	if c.opts.Health != nil {
		healthChanges = c.opts.Health.Changes()
	}
	for {
		events, err := c.opts.Store.Watch(ctx, "", 0)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watch store: %w", err)
		}
		if err := c.reconcileLogged(ctx); err != nil {
			return err
		}
		if err := c.loop(ctx, events, healthChanges); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		// The watch ended (the store dropped a slow watcher): start over.
	}
}

func (c *Controller) loop(ctx context.Context, events <-chan store.Event, healthChanges <-chan struct{}) error {
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	if c.pendingRetry() {
		retry.Reset(time.Second)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-events:
			if !ok {
				return nil
			}
		case <-healthChanges:
		case <-retry.C:
		}
		// Coalesce a burst.
		deadline := time.NewTimer(c.opts.Debounce)
	drain:
		for {
			select {
			case _, ok := <-events:
				if !ok {
					deadline.Stop()
					return nil
				}
			case <-healthChanges:
			case <-deadline.C:
				break drain
			case <-ctx.Done():
				deadline.Stop()
				return nil
			}
		}
		if err := c.reconcileLogged(ctx); err != nil {
			return err
		}
		if c.pendingRetry() {
			retry.Reset(time.Second)
		}
	}
}

func (c *Controller) pendingRetry() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.plan == nil || c.failed
}

func (c *Controller) reconcileLogged(ctx context.Context) error {
	err := c.Reconcile(ctx)
	c.mu.Lock()
	c.failed = err != nil
	c.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		if errors.Is(err, store.ErrClosed) {
			return err
		}
		c.log.Error("reconcile", "err", err)
	}
	return nil
}

// Reconcile compiles the current state and applies it once.
func (c *Controller) Reconcile(ctx context.Context) error {
	snap, err := c.opts.RP.DataPlaneSnapshot(ctx)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	var hv lbplan.HealthView
	if c.opts.Health != nil {
		results := c.opts.Health.Snapshot()
		hv = func(key string) (health.Result, bool) {
			r, ok := results[key]
			return r, ok
		}
	}
	plan := lbplan.Compile(lbplan.Input{LoadBalancers: snap.LoadBalancers, IPConfigs: snap.IPConfigs, PublicIPs: snap.PublicIPs, NATPoolMembers: snap.NATPoolMembers}, c.opts.Addresses, hv)
	if c.opts.Health != nil {
		c.opts.Health.Set(plan.Probes)
	}
	var st dataplane.Status
	if c.opts.DataPlane != nil {
		st, err = c.opts.DataPlane.Apply(ctx, plan.Config)
		if err != nil {
			return fmt.Errorf("apply: %w", err)
		}
	}
	failures := map[string]string{}
	for key, e := range st.Errors {
		lb := strings.ToLower(plan.Owners[key])
		if lb == "" {
			continue
		}
		msg := fmt.Sprintf("The data plane cannot serve listener %s: %v.", key, e)
		if prev, ok := failures[lb]; ok {
			msg = prev + " " + msg
		}
		failures[lb] = msg
	}
	if err := c.opts.RP.CompletePending(ctx, snap.Rev, failures); err != nil {
		return fmt.Errorf("complete operations: %w", err)
	}
	c.mu.Lock()
	c.plan, c.status, c.rev = plan, st, snap.Rev
	c.mu.Unlock()
	return nil
}

// RuleHealth reports the backends of a load-balancing rule (by id) as the
// last compiled plan saw them.
func (c *Controller) RuleHealth(ruleID string) (*lbplan.RuleView, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.plan == nil {
		return nil, false
	}
	v, ok := c.plan.Rules[strings.ToLower(ruleID)]
	return v, ok
}

// Notes returns what the data plane does not do faithfully for a load
// balancer, and why its listeners failed.
func (c *Controller) Notes(lbID string) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.plan == nil {
		return nil
	}
	out := append([]string(nil), c.plan.Notes[lbID]...)
	for key, e := range c.status.Errors {
		if strings.EqualFold(c.plan.Owners[key], lbID) {
			out = append(out, fmt.Sprintf("listener %s: %v", key, e))
		}
	}
	return out
}

// LBStatus is what the data plane does for one load balancer.
type LBStatus struct {
	ID        string           `json:"id"`
	Listeners []ListenerStatus `json:"listeners"`
	Notes     []string         `json:"notes,omitempty"`
}

// ListenerStatus is one frontend socket.
type ListenerStatus struct {
	Key      string          `json:"key"`
	Address  string          `json:"address"`
	Protocol string          `json:"protocol"`
	Error    string          `json:"error,omitempty"`
	Backends []BackendStatus `json:"backends"`
}

// BackendStatus is one backend of a listener.
type BackendStatus struct {
	Address string `json:"address"`
	Healthy bool   `json:"healthy"`
}

// Status reports, per load balancer, its listeners, backends and notes
// as last applied.
func (c *Controller) Status() []LBStatus {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.plan == nil {
		return []LBStatus{}
	}
	byLB := map[string]*LBStatus{}
	var order []string
	get := func(id string) *LBStatus {
		k := strings.ToLower(id)
		if s, ok := byLB[k]; ok {
			return s
		}
		s := &LBStatus{ID: id, Listeners: []ListenerStatus{}}
		byLB[k] = s
		order = append(order, k)
		return s
	}
	for _, l := range c.plan.Config.Listeners {
		s := get(c.plan.Owners[l.Key])
		ls := ListenerStatus{Key: l.Key, Address: l.Addr.String(), Protocol: l.Protocol.String(), Backends: []BackendStatus{}}
		if err := c.status.Errors[l.Key]; err != nil {
			ls.Error = err.Error()
		}
		for _, b := range l.Rule.Backends {
			ls.Backends = append(ls.Backends, BackendStatus{Address: b.Addr.String(), Healthy: b.Healthy})
		}
		s.Listeners = append(s.Listeners, ls)
	}
	for id, notes := range c.plan.Notes {
		get(id).Notes = append([]string(nil), notes...)
	}
	out := make([]LBStatus, 0, len(order))
	for _, k := range order {
		out = append(out, *byLB[k])
	}
	return out
}
