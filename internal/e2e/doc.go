// Package e2e holds end-to-end tests of Paddock's data plane: a real server
// with the userspace data plane, configured through the ARM API over HTTP,
// carrying traffic between real clients and real backends on loopback
// addresses.
package e2e
