package service

import (
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
)

// Neutron's default policy (the 2023+ "secure RBAC" defaults), reduced to
// what vland serves. Roles imply each other: admin > member > reader
// (identity.Identity). Admins see and do everything. In its own project a
// reader reads and a member also creates, changes and deletes. Beyond its
// project a caller sees networks shared or external to it (RBAC policies,
// rbac.go); the subnets of networks shared with it (not of networks that
// are only external); and, reading
// in the network owner's project, every subnet and port on the owner's
// networks. A member of the network owner's project manages the network's
// subnets and may delete, but not change, other projects' ports on it.
//
// A refused action on something the caller may see answers 403; on
// something it may not see, 404 exactly as if it did not exist, so no
// answer tells another project's resources exist.

// readsProject: Neutron's ADMIN_OR_PROJECT_READER for a resource of project.
func readsProject(who identity.Identity, project string) bool {
	return who.IsAdmin() || (who.IsReader() && who.ProjectID == project)
}

// writesProject: Neutron's ADMIN_OR_PROJECT_MEMBER for a resource of project.
func writesProject(who identity.Identity, project string) bool {
	return who.IsAdmin() || (who.IsMember() && who.ProjectID == project)
}

// canCreate is create_* for the caller's own project (admins may name
// another one, see projectFor): a reader, or a role Neutron does not know,
// creates nothing.
func canCreate(who identity.Identity, action string) error {
	if !who.IsMember() {
		return forbidden(action)
	}
	return nil
}

// canSeeNetwork is get_network: admin, project reader, or an RBAC policy
// (shared or external) for the caller's project or every project.
func canSeeNetwork(who identity.Identity, n *storedNetwork) bool {
	return readsProject(who, n.ProjectID) || n.grants(api.RBACAccessShared, who.ProjectID) ||
		n.grants(api.RBACAccessExternal, who.ProjectID)
}

// writesNetwork is update_network and delete_network, and also the
// network owner's rights on the network's subnets and ports
// (ADMIN_OR_NET_OWNER_MEMBER).
func writesNetwork(who identity.Identity, n *api.Network) bool {
	return writesProject(who, n.ProjectID)
}

// canSeeSubnet is get_subnet: admin, the subnet's project reader, the
// network owner's reader, or a network shared with the caller. An
// external network alone does not show its subnets.
func canSeeSubnet(who identity.Identity, s *api.Subnet, n *storedNetwork) bool {
	if readsProject(who, s.ProjectID) {
		return true
	}
	return n != nil && (n.grants(api.RBACAccessShared, who.ProjectID) || readsProject(who, n.ProjectID))
}

// canSeePort is get_port: admin, the port's project reader or the network
// owner's reader.
func canSeePort(who identity.Identity, p *api.Port, n *api.Network) bool {
	return readsProject(who, p.ProjectID) || (n != nil && readsProject(who, n.ProjectID))
}

// canUpdatePort is update_port: admin or the port's project member, not
// the network owner.
func canUpdatePort(who identity.Identity, p *api.Port) bool {
	return writesProject(who, p.ProjectID)
}

// canDeletePort is delete_port: admin, the port's project member or the
// network owner's member.
func canDeletePort(who identity.Identity, p *api.Port, n *api.Network) bool {
	return writesProject(who, p.ProjectID) || (n != nil && writesNetwork(who, n))
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
