// Package conformance replays the Azure REST API examples (the
// x-ms-examples files of the Microsoft.Network specs, kept in
// shared/azure-examples/<api-version>/ beside the repository) against a
// real Paddock server and compares Paddock's responses with the recorded
// ones.
//
// The package has no code of its own; everything is in its tests. For each
// example file the test picks the operation from the file name, starts a
// fresh server on loopback with an in-memory store, creates what the
// example implies must already exist (referenced subnets, public IPs and
// load balancers, the resource a read or delete acts on, the resources
// behind recorded back-references), replays the request and checks that
// every property of the recorded body is present in Paddock's with an
// equal value. Server-generated values are only checked for presence.
//
// Differences are compared with a checked-in list of known differences,
// each with a reason; the test fails on a new difference and on a known
// one that no longer occurs. docs/compatibility-examples.md is generated
// from that list (go test ./internal/conformance -run TestExamples -update).
package conformance
