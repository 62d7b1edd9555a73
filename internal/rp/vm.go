package rp

import (
	"strings"

	"github.com/paddock-lb/paddock/internal/arm"
	"github.com/paddock-lb/paddock/internal/arm/field"
	"github.com/paddock-lb/paddock/internal/resources/compute"
	"github.com/paddock-lb/paddock/internal/resources/network"
)

func (s *Service) loadVM(t *txn, id arm.ResourceID) (*compute.VirtualMachine, bool, error) {
	var v compute.VirtualMachine
	ok, err := t.getJSON(resKey(id), &v)
	if err != nil || !ok {
		return nil, ok, err
	}
	return &v, true, nil
}

func (s *Service) putVM(t *txn, c *Call, vm *compute.VirtualMachine) (*Result, error) {
	existing, exists, err := s.loadVM(t, c.ID)
	if err != nil {
		return nil, err
	}
	if err := checkPreconditions(c, exists, ""); err != nil {
		return nil, err
	}
	vm.ID, vm.Name, vm.Type = c.ID.String(), c.ID.Name(), compute.TypeVirtualMachine
	if existing != nil {
		vm.ID, vm.Name = existing.ID, existing.Name
		vm.Properties.VMID = existing.Properties.VMID
	}
	if vm.Properties.VMID == "" {
		vm.Properties.VMID = arm.NewGUID()
	}
	vm.Properties.ProvisioningState = string(arm.Succeeded)
	vm.StripSecrets()
	var errs field.ErrorList
	if vm.Location == "" {
		errs.Add(arm.CodeLocationRequired, field.NewPath("location"), "The location property is required for this definition.")
	}
	var nics []string
	primaries := 0
	if np := vm.Properties.NetworkProfile; np != nil {
		for i, ref := range np.NetworkInterfaces {
			p := field.NewPath("properties", "networkProfile", "networkInterfaces").Index(i).Child("id")
			rid, ok := parseRef(ref.ID, network.TypeNetworkInterface, p, &errs)
			if !ok {
				continue
			}
			nic, found, err := s.loadNIC(t, rid)
			if err != nil {
				return nil, err
			}
			if !found {
				errs.Add("NotFound", p, "Resource %s referenced by resource %s was not found.", ref.ID, vm.ID)
				continue
			}
			if cur := nic.Properties.VirtualMachine; cur != nil && !arm.SameID(cur.ID, vm.ID) {
				errs.Add("NicInUse", p, "Network Interface %s is used by existing resource %s and cannot be attached to %s.", nic.ID, cur.ID, vm.ID)
				continue
			}
			if containsID(nics, nic.ID) {
				errs.Add("DuplicateNetworkInterface", p, "Network interface %s is listed more than once.", nic.ID)
				continue
			}
			if ref.Properties != nil && deref(ref.Properties.Primary, false) {
				primaries++
			}
			np.NetworkInterfaces[i].ID = nic.ID
			nics = append(nics, nic.ID)
		}
		if len(np.NetworkInterfaces) > 1 && primaries != 1 {
			errs.Add("VirtualMachineMustHaveOnePrimaryNetworkInterface", field.NewPath("properties", "networkProfile", "networkInterfaces"), "Virtual machine %s has %d network interfaces; exactly one must be marked primary.", vm.ID, len(np.NetworkInterfaces))
		}
	}
	if e := errs.ToError(); e != nil {
		return nil, e
	}
	if existing != nil && existing.Properties.NetworkProfile != nil {
		for _, ref := range existing.Properties.NetworkProfile.NetworkInterfaces {
			if !containsID(nics, ref.ID) {
				if err := s.setNICVM(t, ref.ID, ""); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, id := range nics {
		if err := s.setNICVM(t, id, vm.ID); err != nil {
			return nil, err
		}
	}
	return s.finishPut(t, c, resKey(c.ID), vm, exists, vm.Location)
}

// setNICVM sets (or clears, with vmID "") a NIC's virtualMachine reference.
func (s *Service) setNICVM(t *txn, nicID, vmID string) error {
	id, err := arm.ParseResourceID(nicID)
	if err != nil {
		return nil
	}
	nic, ok, err := s.loadNIC(t, id)
	if err != nil || !ok {
		return err
	}
	cur := ""
	if nic.Properties.VirtualMachine != nil {
		cur = nic.Properties.VirtualMachine.ID
	}
	if strings.EqualFold(cur, vmID) {
		return nil
	}
	nic.Properties.VirtualMachine = network.Ref(vmID)
	return t.putJSON(resKey(id), nic)
}

func (s *Service) deleteVM(t *txn, id arm.ResourceID, vm *compute.VirtualMachine) error {
	if np := vm.Properties.NetworkProfile; np != nil {
		for _, ref := range np.NetworkInterfaces {
			if err := s.setNICVM(t, ref.ID, ""); err != nil {
				return err
			}
		}
	}
	t.del(resKey(id))
	return nil
}
