package conformance

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// A difference between a recorded response and Paddock's.
type difference struct {
	// Path locates the difference: a JSON path into the body
	// ("properties.frontendIPConfigurations[fe-lb].properties.subnet.id";
	// array elements that have a name or id are addressed by it), or one of
	// the pseudo paths "(status)", "(setup) <type>/<name>", "header <name>",
	// "(after delete) GET".
	Path string
	// Detail says what differs (not part of the known-difference match).
	Detail string
}

// comparison collects the differences between a recorded body and ours:
// every property of the recorded body must be in ours with an equal value
// (a JSON subset comparison). Properties only we return are extras,
// reported for information.
type comparison struct {
	diffs  []difference
	extras []string
}

func (c *comparison) add(path, format string, args ...any) {
	c.diffs = append(c.diffs, difference{Path: path, Detail: fmt.Sprintf(format, args...)})
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// values compares a recorded value with ours.
func (c *comparison) values(path string, want, got any) {
	switch w := want.(type) {
	case nil:
		// A recorded null asks for nothing.
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			c.add(path, "recorded an object, got %s", brief(got))
			return
		}
		c.objects(path, w, g)
	case []any:
		g, ok := got.([]any)
		if !ok {
			c.add(path, "recorded an array, got %s", brief(got))
			return
		}
		c.arrays(path, w, g)
	default:
		if !scalarEqual(want, got) {
			c.add(path, "recorded %s, got %s", brief(want), brief(got))
		}
	}
}

func (c *comparison) objects(path string, want, got map[string]any) {
	for _, k := range sortedKeys(want) {
		p := joinPath(path, k)
		wv := want[k]
		gv, ok := got[k]
		if !ok {
			if wv == nil {
				continue
			}
			if other := keyFold(got, k); other != "" {
				c.add(p, "missing; Paddock returns it as %q (different casing)", other)
			} else {
				c.add(p, "missing (recorded %s)", brief(wv))
			}
			continue
		}
		if presenceOnly(k, want, got) {
			continue
		}
		if k == "provisioningState" && isSettled(wv) && isSettled(gv) {
			continue
		}
		c.values(p, wv, gv)
	}
	for _, k := range sortedKeys(got) {
		if _, ok := want[k]; !ok && keyFold(want, k) == "" {
			c.extras = append(c.extras, joinPath(path, k))
		}
	}
}

// presenceOnly reports whether the value of want[k] is server generated:
// only its presence is compared.
func presenceOnly(k string, want, got map[string]any) bool {
	switch k {
	case "etag", "resourceGuid", "macAddress":
		return true
	case "privateIPAddress":
		// Allocated unless the recorded configuration asks for Static.
		m, _ := want["privateIPAllocationMethod"].(string)
		return !strings.EqualFold(m, "Static")
	}
	if s, ok := want[k].(string); ok && guid.MatchString(s) {
		return true // a generated identifier
	}
	switch k {
	case "ipAddress":
		// A public IP address's allocated address.
		_, pip := want["publicIPAllocationMethod"]
		_, pip2 := got["publicIPAllocationMethod"]
		return pip || pip2
	}
	return false
}

// guid matches GUIDs, including the shortened all-zero ones of examples.
var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{8,12}$`)

func isSettled(v any) bool {
	s, _ := v.(string)
	return s == "Succeeded" || s == "Updating"
}

// arrays compares arrays. Elements that carry a name or an id are matched
// by it; arrays of scalars are compared as sets; other arrays by index.
// Elements only we return are extras.
func (c *comparison) arrays(path string, want, got []any) {
	if len(want) == 0 {
		for i := range got {
			c.extras = append(c.extras, fmt.Sprintf("%s[#%d]", path, i))
		}
		return
	}
	switch {
	case allKeyed(want):
		used := make([]bool, len(got))
		for _, we := range want {
			wo := we.(map[string]any)
			label, idx := elementLabel(wo), -1
			for i, ge := range got {
				if !used[i] && sameElement(wo, ge) {
					idx = i
					break
				}
			}
			p := path + "[" + label + "]"
			if idx < 0 {
				c.add(p, "missing element %s", brief(wo))
				continue
			}
			used[idx] = true
			c.values(p, wo, got[idx])
		}
		for i, u := range used {
			if !u {
				label := fmt.Sprintf("#%d", i)
				if o, ok := got[i].(map[string]any); ok {
					label = elementLabel(o)
				}
				c.extras = append(c.extras, path+"["+label+"]")
			}
		}
	case allScalars(want):
		used := make([]bool, len(got))
		for i, we := range want {
			found := false
			for j, ge := range got {
				if !used[j] && scalarEqual(we, ge) {
					used[j], found = true, true
					break
				}
			}
			if !found {
				c.add(fmt.Sprintf("%s[#%d]", path, i), "missing element %s", brief(we))
			}
		}
		for j, u := range used {
			if !u {
				c.extras = append(c.extras, fmt.Sprintf("%s[#%d]", path, j))
			}
		}
	default:
		for i, we := range want {
			p := fmt.Sprintf("%s[#%d]", path, i)
			if i >= len(got) {
				c.add(p, "missing element %s", brief(we))
				continue
			}
			c.values(p, we, got[i])
		}
		for i := len(want); i < len(got); i++ {
			c.extras = append(c.extras, fmt.Sprintf("%s[#%d]", path, i))
		}
	}
}

func allKeyed(a []any) bool {
	for _, e := range a {
		o, ok := e.(map[string]any)
		if !ok {
			return false
		}
		if _, n := o["name"].(string); n {
			continue
		}
		if _, id := o["id"].(string); !id {
			return false
		}
	}
	return true
}

func allScalars(a []any) bool {
	for _, e := range a {
		switch e.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

// elementLabel names an array element in a path: its name, else the last
// segment of its id.
func elementLabel(o map[string]any) string {
	if n, ok := o["name"].(string); ok {
		return n
	}
	id, _ := o["id"].(string)
	return id[strings.LastIndex(id, "/")+1:]
}

// sameElement matches a recorded element with one of ours: by id when the
// recorded element has one (ids are case-insensitive), else by name.
func sameElement(want map[string]any, got any) bool {
	g, ok := got.(map[string]any)
	if !ok {
		return false
	}
	if id, ok := want["id"].(string); ok {
		gid, _ := g["id"].(string)
		if strings.EqualFold(id, gid) {
			return true
		}
		// Recorded ids are sometimes inconsistent with the name; fall
		// back to the name when both have one.
		if _, named := want["name"].(string); !named {
			return false
		}
	}
	n, _ := want["name"].(string)
	gn, _ := g["name"].(string)
	return n != "" && strings.EqualFold(n, gn)
}

// scalarEqual compares JSON scalars. Resource ids compare
// case-insensitively, as ARM does; numbers by value.
func scalarEqual(want, got any) bool {
	switch w := want.(type) {
	case string:
		g, ok := got.(string)
		if !ok {
			return false
		}
		if isResourceID(w) {
			return strings.EqualFold(w, g)
		}
		return w == g
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			return false
		}
		a, ok1 := new(big.Float).SetString(w.String())
		b, ok2 := new(big.Float).SetString(g.String())
		return ok1 && ok2 && a.Cmp(b) == 0
	case bool:
		g, ok := got.(bool)
		return ok && g == w
	}
	return false
}

func isResourceID(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "/subscriptions/") || strings.HasPrefix(l, "/providers/")
}

// keyFold returns a key of m equal to k under case folding but spelled
// differently, or "".
func keyFold(m map[string]any, k string) string {
	for mk := range m {
		if mk != k && strings.EqualFold(mk, k) {
			return mk
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// brief renders a value for a message, shortened.
func brief(v any) string {
	if v == nil {
		return "nothing"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

// compareHeaders checks that every header of the recorded response is
// present in ours (values are server specific).
func (c *comparison) headers(want map[string]any, got http.Header) {
	for _, k := range sortedKeys(want) {
		if got.Get(k) == "" {
			c.add("header "+strings.ToLower(k), "missing (recorded %s)", brief(want[k]))
		}
	}
}
