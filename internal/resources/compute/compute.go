// Package compute holds the wire type of Microsoft.Compute/virtualMachines as
// far as Paddock needs it: the network profile that attaches NICs. Every
// other property is stored and returned as sent, except secrets
// (osProfile.adminPassword), which are never stored.
package compute

import (
	"encoding/json"

	"github.com/paddock-lb/paddock/internal/resources/extra"
)

// TypeVirtualMachine is the ARM type of a VM.
const TypeVirtualMachine = "Microsoft.Compute/virtualMachines"

// VirtualMachine is Microsoft.Compute/virtualMachines.
type VirtualMachine struct {
	ID         string            `json:"id,omitempty"`
	Name       string            `json:"name,omitempty"`
	Type       string            `json:"type,omitempty"`
	Location   string            `json:"location,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	Properties VMProperties      `json:"properties"`
	Extra      extra.Fields      `json:"-"`
}

// UnmarshalJSON keeps unmodelled properties (zones, plan, identity, ...).
func (v *VirtualMachine) UnmarshalJSON(b []byte) error {
	type plain VirtualMachine
	return extra.Unmarshal(b, (*plain)(v), &v.Extra)
}

// MarshalJSON renders unmodelled properties too.
func (v VirtualMachine) MarshalJSON() ([]byte, error) {
	type plain VirtualMachine
	return extra.Marshal(plain(v), v.Extra)
}

// VMProperties are the VM's properties.
type VMProperties struct {
	NetworkProfile    *NetworkProfile `json:"networkProfile,omitempty"`
	OSProfile         json.RawMessage `json:"osProfile,omitempty"`
	VMID              string          `json:"vmId,omitempty"`
	ProvisioningState string          `json:"provisioningState,omitempty"`
	Extra             extra.Fields    `json:"-"`
}

// UnmarshalJSON keeps unmodelled properties.
func (p *VMProperties) UnmarshalJSON(b []byte) error {
	type plain VMProperties
	return extra.Unmarshal(b, (*plain)(p), &p.Extra)
}

// MarshalJSON renders unmodelled properties too.
func (p VMProperties) MarshalJSON() ([]byte, error) {
	type plain VMProperties
	return extra.Marshal(plain(p), p.Extra)
}

// NetworkProfile lists the NICs attached to the VM.
type NetworkProfile struct {
	NetworkInterfaces []NetworkInterfaceReference `json:"networkInterfaces,omitempty"`
	Extra             extra.Fields                `json:"-"`
}

// UnmarshalJSON keeps unmodelled properties.
func (p *NetworkProfile) UnmarshalJSON(b []byte) error {
	type plain NetworkProfile
	return extra.Unmarshal(b, (*plain)(p), &p.Extra)
}

// MarshalJSON renders unmodelled properties too.
func (p NetworkProfile) MarshalJSON() ([]byte, error) {
	type plain NetworkProfile
	return extra.Marshal(plain(p), p.Extra)
}

// NetworkInterfaceReference attaches one NIC.
type NetworkInterfaceReference struct {
	ID         string `json:"id"`
	Properties *struct {
		Primary      *bool  `json:"primary,omitempty"`
		DeleteOption string `json:"deleteOption,omitempty"`
	} `json:"properties,omitempty"`
}

// StripSecrets removes osProfile.adminPassword (and customData) so they are
// never stored or returned.
func (v *VirtualMachine) StripSecrets() {
	if len(v.Properties.OSProfile) == 0 {
		return
	}
	var os map[string]json.RawMessage
	if err := json.Unmarshal(v.Properties.OSProfile, &os); err != nil {
		return
	}
	delete(os, "adminPassword")
	delete(os, "customData")
	if b, err := json.Marshal(os); err == nil {
		v.Properties.OSProfile = b
	}
}
