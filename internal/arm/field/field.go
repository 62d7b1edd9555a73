// Package field builds validation errors that point into a request body with
// a JSON path, and collects them so that one answer reports every problem.
package field

import (
	"strconv"
	"strings"

	"github.com/paddock-lb/paddock/internal/arm"
)

// Path is a JSON path into a request body, e.g.
// properties.loadBalancingRules[0].properties.frontendPort. The zero value is
// the root.
type Path struct {
	s string
}

// NewPath returns the path of a top-level property.
func NewPath(name string, more ...string) Path {
	p := Path{s: name}
	for _, m := range more {
		p = p.Child(m)
	}
	return p
}

// Child appends a property name.
func (p Path) Child(name string, more ...string) Path {
	if p.s == "" {
		p.s = name
	} else {
		p.s = p.s + "." + name
	}
	for _, m := range more {
		p.s += "." + m
	}
	return p
}

// Index appends an array index.
func (p Path) Index(i int) Path {
	p.s = p.s + "[" + strconv.Itoa(i) + "]"
	return p
}

// String renders the path.
func (p Path) String() string { return p.s }

// ErrorList collects validation errors.
type ErrorList []*arm.Error

// Add appends a 400 error with the given code, target and message.
func (l *ErrorList) Add(code string, p Path, format string, args ...any) {
	e := arm.BadRequest(code, format, args...)
	e.Target = p.String()
	*l = append(*l, e)
}

// Append appends an existing error.
func (l *ErrorList) Append(e *arm.Error) { *l = append(*l, e) }

// ToError folds the list into one ARM error: nil when empty, the error
// itself when there is one, otherwise an InvalidRequestFormat-style envelope
// whose details hold every error (the first error's code is kept at the top
// so that clients branching on the code see the most relevant one).
func (l ErrorList) ToError() *arm.Error {
	switch len(l) {
	case 0:
		return nil
	case 1:
		return l[0]
	}
	msgs := make([]string, 0, len(l))
	for _, e := range l {
		msgs = append(msgs, e.Message)
	}
	return &arm.Error{
		Status:  l[0].Status,
		Code:    l[0].Code,
		Message: strings.Join(msgs, " "),
		Target:  l[0].Target,
		Details: l,
	}
}
