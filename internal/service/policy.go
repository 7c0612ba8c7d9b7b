package service

import (
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
)

// Neutron's default policy, reduced to what vland serves: admins see and do
// everything; others see their own project's resources, shared and
// external networks and those networks' subnets, and every subnet and port
// on networks they own.

func canSeeNetwork(who identity.Identity, n *api.Network) bool {
	return who.IsAdmin() || n.ProjectID == who.ProjectID || n.Shared || n.External
}

func ownsNetwork(who identity.Identity, n *api.Network) bool {
	return who.IsAdmin() || n.ProjectID == who.ProjectID
}

func canSeeSubnet(who identity.Identity, s *api.Subnet, n *api.Network) bool {
	if who.IsAdmin() || s.ProjectID == who.ProjectID {
		return true
	}
	return n != nil && (n.Shared || n.External || n.ProjectID == who.ProjectID)
}

func canSeePort(who identity.Identity, p *api.Port, n *api.Network) bool {
	if who.IsAdmin() || p.ProjectID == who.ProjectID {
		return true
	}
	return n != nil && n.ProjectID == who.ProjectID
}

// isNetworkDevice is Neutron's "network:" device owner (DHCP, router
// interfaces): such ports belong to the network, not to a tenant.
func isNetworkDevice(owner string) bool { return strings.HasPrefix(owner, "network:") }

// projectFor resolves the owning project of a create: the caller's unless
// an admin names another one (Neutron's populate_project_info).
func projectFor(who identity.Identity, requested Opt[string]) (string, error) {
	if !requested.has() || requested.V == who.ProjectID {
		return who.ProjectID, nil
	}
	if !who.IsAdmin() {
		return "", fault.New(fault.ErrBadRequest, "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges")
	}
	if requested.V == "" {
		return "", fault.BadAttr("project_id", "'' is not a valid project id")
	}
	return requested.V, nil
}

// Hidden lists the attributes of a resource ("network", "port") that
// Neutron's policy hides from the caller: the transport drops them from
// every answer.
func Hidden(who identity.Identity, resource string) []string {
	if who.IsAdmin() {
		return nil
	}
	switch resource {
	case "network":
		return []string{"provider:network_type", "provider:physical_network", "provider:segmentation_id"}
	case "port":
		return []string{"binding:host_id", "binding:vif_type", "binding:vif_details", "binding:profile"}
	}
	return nil
}
