package storekit

import (
	"fmt"

	"github.com/paddock-lb/paddock/internal/store"
)

// smallTxn is the op count up to which duplicate keys are found by a
// quadratic scan instead of a map.
const smallTxn = 8

// CheckTxn validates a transaction's ops: every key is non-empty and no key
// is written twice. (A condition on the empty key is allowed; that key never
// exists.)
func CheckTxn(ops []store.Op) error {
	for i, op := range ops {
		if op.Key == "" {
			return fmt.Errorf("op %d: empty key", i)
		}
	}
	if len(ops) <= smallTxn {
		for i := range ops {
			for j := range i {
				if ops[i].Key == ops[j].Key {
					return fmt.Errorf("key %q written twice", ops[i].Key)
				}
			}
		}
		return nil
	}
	seen := make(map[string]struct{}, len(ops))
	for _, op := range ops {
		if _, ok := seen[op.Key]; ok {
			return fmt.Errorf("key %q written twice", op.Key)
		}
		seen[op.Key] = struct{}{}
	}
	return nil
}

// CheckList validates List options.
func CheckList(opts store.ListOptions) error {
	if opts.Limit < 0 {
		return fmt.Errorf("negative limit %d", opts.Limit)
	}
	return nil
}
