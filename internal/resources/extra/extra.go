// Package extra keeps the JSON properties Paddock does not model, so that a
// resource stored from a request comes back with everything the client sent
// (ARM clients read-modify-write whole resources).
//
// A type opts in with a field `Extra Fields `json:"-"“ and two one-line
// methods that call Unmarshal and Marshal with a method-less alias of itself.
package extra

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// Fields holds unmodelled JSON properties by name.
type Fields map[string]json.RawMessage

var knownCache sync.Map // reflect.Type -> map[string]bool (lower-cased JSON names)

func known(t reflect.Type) map[string]bool {
	if v, ok := knownCache.Load(t); ok {
		return v.(map[string]bool)
	}
	m := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		m[strings.ToLower(name)] = true
	}
	knownCache.Store(t, m)
	return m
}

// Unmarshal decodes data into v (a pointer to a struct alias without
// methods) and stores every property v does not declare in *x. Names match
// case-insensitively, as encoding/json does.
func Unmarshal(data []byte, v any, x *Fields) error {
	if err := json.Unmarshal(data, v); err != nil {
		return err
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	k := known(reflect.TypeOf(v).Elem())
	var out Fields
	for name, raw := range all {
		if k[strings.ToLower(name)] {
			continue
		}
		if out == nil {
			out = Fields{}
		}
		out[name] = raw
	}
	*x = out
	return nil
}

// Marshal encodes v (a struct alias without methods) and merges the extra
// properties into the object; declared properties win over extras.
func Marshal(v any, x Fields) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(x) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for name, raw := range x {
		if _, ok := m[name]; !ok {
			m[name] = raw
		}
	}
	return json.Marshal(m)
}
