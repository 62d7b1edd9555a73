package rp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/store"
)

// Operation statuses (AzureAsyncOperationResult.status).
const (
	OpInProgress = "InProgress"
	OpSucceeded  = "Succeeded"
	OpFailed     = "Failed"
)

// Operation is a long-running operation record, stored so that any server
// sharing the store can answer its status.
type Operation struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Status         string     `json:"status"`
	StartTime      time.Time  `json:"startTime"`
	EndTime        *time.Time `json:"endTime,omitempty"`
	Error          *arm.Error `json:"error,omitempty"`
	SubscriptionID string     `json:"-"`
	// Kind says how the operation ends: "put" (Azure-AsyncOperation, final
	// GET of the resource), "delete" (Location: 204 once done), "action".
	Kind string `json:"kind"`
	// Namespace of the resource provider that runs it.
	Namespace string `json:"namespace"`
	// Resource is the id the operation acts on.
	Resource string `json:"resource"`
	// Location is the resource location (appears in the operation URLs).
	Location string `json:"location"`
}

type opRecord struct {
	Operation
	Sub string `json:"subscriptionId"`
}

// newOp records a finished operation in t. Paddock's control plane
// completes writes inside the request; the record lets clients poll as
// they do against Azure.
func (s *Service) newOp(t *txn, kind string, id arm.ResourceID, location string) (*Operation, error) {
	now := s.now().UTC()
	op := &Operation{
		ID: arm.NewGUID(), Status: OpSucceeded, StartTime: now, EndTime: &now, Kind: kind,
		Namespace: id.Namespace, Resource: id.String(), Location: location, SubscriptionID: id.SubscriptionID,
	}
	if op.Namespace == "" {
		op.Namespace = arm.NamespaceResources
	}
	op.Name = op.ID
	if op.Location == "" {
		op.Location = "global"
	}
	if s.dataPlane && tracksDataPlane(id) {
		op.Status, op.EndTime = OpInProgress, nil
		t.put(pendingKey(op.ID), []byte(id.Root().String()))
	}
	rec := opRecord{Operation: *op, Sub: id.SubscriptionID}
	if err := t.putJSON(opKey(op.ID), rec); err != nil {
		return nil, err
	}
	return op, nil
}

// GetOperation returns a recorded operation.
func (s *Service) GetOperation(ctx context.Context, sub, id string) (*Operation, error) {
	kv, err := s.st.Get(ctx, opKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, arm.Errorf(http.StatusNotFound, arm.CodeNotFound, "Operation %s was not found.", id)
	}
	if err != nil {
		return nil, err
	}
	var rec opRecord
	if err := json.Unmarshal(kv.Value, &rec); err != nil {
		return nil, err
	}
	if sub != "" && !equalFold(rec.Sub, sub) {
		return nil, arm.Errorf(http.StatusNotFound, arm.CodeNotFound, "Operation %s was not found.", id)
	}
	op := rec.Operation
	op.SubscriptionID = rec.Sub
	return &op, nil
}
