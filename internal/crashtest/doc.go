// Package crashtest holds Paddock's crash-consistency test: it builds the
// paddock binary, drives a burst of concurrent writes against it over HTTP,
// kills the process with SIGKILL in the middle of the burst, restarts it on
// the same data directory and checks that every acknowledged write
// survived, that nothing refused was written, and that every back-reference
// (pool members, subnet users, public IP holders, private addresses) agrees
// with the resources that own the references.
//
// It has no non-test code; the package exists so that the test runs as a
// separate process-level check, apart from the in-process server tests.
package crashtest
