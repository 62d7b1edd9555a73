package armhttp

import (
	"net/http"

	"github.com/paddock-lb/paddock/internal/rp"
)

// ruleHealth answers POST .../loadBalancingRules/{rule}/health (api-version
// 2026-01-01): the rule's backends, up or down, with the reason of the
// last probe result. It answers synchronously (200).
func (h *Handler) ruleHealth(req *request, c *rp.Call) error {
	if !c.APIVersion.AtLeast("2024-03-01") {
		return noRoute(req)
	}
	if _, err := h.rp.Get(req.r.Context(), &rp.Call{ID: c.ID, APIVersion: c.APIVersion}); err != nil {
		return err
	}
	type backend struct {
		IPAddress                         string `json:"ipAddress"`
		NetworkInterfaceIPConfigurationID string `json:"networkInterfaceIPConfigurationId,omitempty"`
		State                             string `json:"state"`
		Reason                            string `json:"reason"`
	}
	out := struct {
		Up                           int       `json:"up"`
		Down                         int       `json:"down"`
		LoadBalancerBackendAddresses []backend `json:"loadBalancerBackendAddresses"`
	}{LoadBalancerBackendAddresses: []backend{}}
	if h.health != nil {
		if view, ok := h.health.RuleHealth(c.ID.String()); ok {
			for _, b := range view.Backends {
				state := "Down"
				if b.Up {
					state = "Up"
					out.Up++
				} else {
					out.Down++
				}
				out.LoadBalancerBackendAddresses = append(out.LoadBalancerBackendAddresses, backend{IPAddress: b.IPAddress, NetworkInterfaceIPConfigurationID: b.IPConfiguration, State: state, Reason: b.Reason})
			}
		}
	}
	writeJSON(req.w, http.StatusOK, out)
	return nil
}
