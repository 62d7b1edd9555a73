package controller

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/dataplane"
	"github.com/paddock-lb/paddock/internal/rp"
	"github.com/paddock-lb/paddock/internal/store/memstore"
)

// flaky is a data plane whose second Apply fails as a whole.
type flaky struct{ calls atomic.Int32 }

func (f *flaky) Apply(context.Context, *dataplane.Config) (dataplane.Status, error) {
	if f.calls.Add(1) == 2 {
		return dataplane.Status{}, errors.New("data plane unavailable")
	}
	return dataplane.Status{}, nil
}

// TestRetriesFailedReconcile: when applying a change fails, the controller
// tries again by itself (no further store change comes), and the pending
// write then completes.
func TestRetriesFailedReconcile(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	st := memstore.New()
	svc := rp.New(rp.Options{Store: st, DataPlane: true})
	if _, err := svc.PutGroup(ctx, &rp.Call{ID: arm.ResourceID{SubscriptionID: "s", ResourceGroup: "rg"}, APIVersion: "2021-04-01", Body: []byte(`{"location":"l"}`)}); err != nil {
		t.Fatal(err)
	}
	dp := &flaky{}
	c := New(Options{RP: svc, Store: st, DataPlane: dp, Logger: slog.New(slog.DiscardHandler)})
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for dp.calls.Load() == 0 { // the first, successful apply
		time.Sleep(10 * time.Millisecond)
	}
	res, err := svc.Put(ctx, &rp.Call{ID: arm.Resource("s", "rg", arm.NamespaceNetwork, "loadBalancers", "lb"), APIVersion: arm.LatestNetworkAPIVersion, Body: []byte(`{"location":"l","sku":{"name":"Standard"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		op, err := svc.GetOperation(ctx, "s", res.Operation.ID)
		if err != nil {
			t.Fatal(err)
		}
		if op.Status == rp.OpSucceeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("operation still %s after %d applies", op.Status, dp.calls.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := dp.calls.Load(); n < 2 {
		t.Errorf("%d applies, want a retry after the failure", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
