package arm

import (
	"crypto/rand"
	"fmt"
)

// ProvisioningState of a network resource.
type ProvisioningState string

// Provisioning states of Microsoft.Network resources.
const (
	Succeeded ProvisioningState = "Succeeded"
	Updating  ProvisioningState = "Updating"
	Deleting  ProvisioningState = "Deleting"
	Failed    ProvisioningState = "Failed"
)

// NewGUID returns a random RFC 4122 version 4 UUID string.
func NewGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// NewETag returns a fresh weak ETag in NRP's form, W/"<guid>".
func NewETag() string { return `W/"` + NewGUID() + `"` }
