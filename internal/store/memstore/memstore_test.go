package memstore_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/paddock-lb/paddock/internal/store"
	"github.com/paddock-lb/paddock/internal/store/memstore"
	"github.com/paddock-lb/paddock/internal/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memstore.New() })
}
