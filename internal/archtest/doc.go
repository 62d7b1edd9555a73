// Package archtest holds no code: its test enforces Paddock's import rules
// (see docs/ARCHITECTURE.md), so that the layering stays what the
// architecture document says it is.
package archtest
