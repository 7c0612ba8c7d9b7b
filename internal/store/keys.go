package store

import (
	"strconv"
	"strings"
)

// Every key prefix vland uses lives here. Values are JSON unless noted.
const (
	root = "/vland/"

	// Resources: value is the api type (api.Network, api.Subnet, api.Port).
	NetworksPrefix = root + "networks/"
	SubnetsPrefix  = root + "subnets/"
	PortsPrefix    = root + "ports/"

	// L3 (api.Router, api.FloatingIP; a floating IP holds its port
	// forwardings).
	RoutersPrefix     = root + "routers/"
	FloatingIPsPrefix = root + "floatingips/"

	// Allocation keys: existence is the allocation, value is the owner id.
	// IPsPrefix + <subnet id> + "/" + <ip>, MACsPrefix + <network id> + "/"
	// + <mac> (MACs are unique per network, as in Neutron),
	// SegmentsPrefix + <type> + "/" + <physnet or "-"> + "/" + <id>.
	IPsPrefix      = root + "ipam/"
	MACsPrefix     = root + "macs/"
	SegmentsPrefix = root + "segments/"

	// The port index ranges (see PortOps): each holds, per port, a copy of
	// the port's stored JSON (the same bytes as its PortKey), written and
	// deleted in the port's own transactions, so that an agent can list and
	// watch only the ranges that concern its host instead of every port of
	// the cloud.
	//
	// NetworkPortsPrefix + <network id> + "/" + <port id>: every port of a
	// network. A network delete also conditions its transaction on this
	// range ("no port created since I listed it"), so the emptiness check
	// cannot be fooled by a lagging cache.
	// HostPortsPrefix + <host> + "/" + <port id>: ports bound to the host
	// (binding:host_id).
	// RouterPortsPrefix + <router id> + "/" + <port id>: a router's ports
	// (device_owner network:router_* or network:ha_router_*), which the
	// router's L3 host realises.
	NetworkPortsPrefix = root + "network-ports/"
	HostPortsPrefix    = root + "host-ports/"
	RouterPortsPrefix  = root + "router-ports/"

	// NetworkStatusPrefix + <network id> + "/" + <host> + "/" + <port id>:
	// a copy of PortStatusKey(host, port) under the port's network, kept by
	// the status mirror (a leader-elected server controller; an agent's
	// etcd grant covers only its own host's range, so it cannot write
	// there itself). Agents follow the copies of their networks only.
	NetworkStatusPrefix = root + "network-status/"

	// QuotasPrefix + <project id>: an api.Quota set through the API (absent:
	// the defaults). QuotaSlotsPrefix + <project> + "/" + <resource> + "/" +
	// <n>: quota slot n in use, value the resource id; a create takes a free
	// slot below the limit by compare-and-create, so concurrent creates
	// (on any server) cannot exceed the quota.
	QuotasPrefix     = root + "quotas/"
	QuotaSlotsPrefix = root + "quota-slots/"

	// BulksPrefix + <bulk id>: a bulk create too big for one transaction
	// is in progress; its resources (which name the bulk) stay invisible
	// until this key is deleted, so the client sees all or nothing. The
	// value is the JSON deadline after which start-up recovery rolls it back.
	BulksPrefix = root + "bulks/"

	// Agents: AgentsPrefix + <host> holds an api.Agent (kept after the agent
	// dies, so /v2.0/agents can show alive=false), rewritten only when its
	// content changes; AgentAlivePrefix + <host> is attached to the agent's
	// lease (alive while it exists). AgentHeartbeatPrefix + <host>: the
	// time of the agent's last heartbeat (a JSON string, Neutron's
	// heartbeat_timestamp layout), rewritten every heartbeat interval; no
	// agent watches it, so a heartbeat reaches only the servers.
	AgentsPrefix         = root + "agents/"
	AgentAlivePrefix     = root + "agent-alive/"
	AgentHeartbeatPrefix = root + "agent-heartbeat/"

	// AgentSettingsPrefix + <agent id>: the admin_state_up and description
	// an admin set on one row of /v2.0/agents (server-owned, so the agent's
	// own record writes never race with them).
	AgentSettingsPrefix = root + "agent-settings/"

	// DHCPBindingsPrefix + <network id> + "/" + <host>: the host's DHCP
	// agent serves the network (service.DHCPBinding), written by the
	// scheduler and the dhcp_agent_scheduler API. The DHCP port follows it.
	DHCPBindingsPrefix = root + "dhcp-bindings/"

	// L3BindingsPrefix + <router id> + "/" + <host>: the host's L3 agent
	// realises the router (service.L3Binding), written by the scheduler
	// and the l3_agent_scheduler API.
	L3BindingsPrefix = root + "l3-bindings/"

	// LeaderPrefix + <controller>: etcd election keys; the server holding
	// the oldest key runs that controller (e.g. "scheduler").
	LeaderPrefix = root + "leader/"

	// PortStatusPrefix + <host> + "/" + <port id>: api.PortStatus, written
	// by the agent of that host. The host comes first so that an agent's
	// etcd role can be allowed to write its own host's range only (see
	// grants.go); a port can have a record from each host that has its VIF
	// (during a move), and readers pick one (api.PickPortStatus).
	PortStatusPrefix = root + "port-status/"

	// Security groups: SecurityGroupsPrefix + <id> holds a group with its
	// rules. SecGroupPortsPrefix + <group id> + "/" + <port id>: one key per
	// port in the group, written in the port's own transactions (a port
	// index range: the value is the port's JSON, see PortOps), so that a
	// group delete can condition on "no port joined since I listed" and an
	// agent can follow the members of the remote groups its rules name.
	SecurityGroupsPrefix = root + "security-groups/"
	SecGroupPortsPrefix  = root + "secgroup-ports/"

	// InstancesPrefix + <instance id>: an api.Instance (the compute
	// layer's record of a VM: name, hostname, project, availability zone,
	// user data), written through the admin-only /vland/instances API and
	// read by the agents' metadata proxies.
	InstancesPrefix = root + "instances/"

	// Identity: projects created through the API, and the token secret.
	ProjectsPrefix = root + "projects/"
	TokenSecretKey = root + "keystone/secret"
)

// NetworkKey is the key of a network.
func NetworkKey(id string) string { return NetworksPrefix + id }

// SubnetKey is the key of a subnet.
func SubnetKey(id string) string { return SubnetsPrefix + id }

// PortKey is the key of a port.
func PortKey(id string) string { return PortsPrefix + id }

// RouterKey is the key of a router.
func RouterKey(id string) string { return RoutersPrefix + id }

// FloatingIPKey is the key of a floating IP.
func FloatingIPKey(id string) string { return FloatingIPsPrefix + id }

// IPKey is the allocation key of one address on one subnet.
func IPKey(subnetID, ip string) string { return IPsPrefix + subnetID + "/" + ip }

// MACKey is the allocation key of a MAC address (lower case, colons) on
// a network.
func MACKey(networkID, mac string) string { return MACsPrefix + networkID + "/" + mac }

// NetworkPortKey is the index key of a port on its network.
func NetworkPortKey(networkID, portID string) string {
	return NetworkPortsOf(networkID) + portID
}

// NetworkPortsOf is the prefix of a network's port index keys.
func NetworkPortsOf(networkID string) string { return NetworkPortsPrefix + networkID + "/" }

// HostPortsOf is the prefix of the ports bound to host.
func HostPortsOf(host string) string { return HostPortsPrefix + host + "/" }

// HostPortKey is the index key of a port bound to host.
func HostPortKey(host, portID string) string { return HostPortsOf(host) + portID }

// RouterPortsOf is the prefix of a router's port index keys.
func RouterPortsOf(routerID string) string { return RouterPortsPrefix + routerID + "/" }

// RouterPortKey is the index key of one of a router's ports.
func RouterPortKey(routerID, portID string) string { return RouterPortsOf(routerID) + portID }

// NetworkStatusOf is the prefix of the status copies of a network's ports.
func NetworkStatusOf(networkID string) string { return NetworkStatusPrefix + networkID + "/" }

// NetworkStatusKey is the copy of PortStatusKey(host, portID) under the
// port's network.
func NetworkStatusKey(networkID, host, portID string) string {
	return NetworkStatusOf(networkID) + host + "/" + portID
}

// ParseNetworkStatusKey splits a key under NetworkStatusPrefix into
// network, host and port id; ok is false for anything else.
func ParseNetworkStatusKey(key string) (networkID, host, portID string, ok bool) {
	rest, found := strings.CutPrefix(key, NetworkStatusPrefix)
	if !found {
		return "", "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// QuotaKey is the key of a project's quota limits.
func QuotaKey(projectID string) string { return QuotasPrefix + projectID }

// QuotaSlotsOf is the prefix of a project's quota slots of one resource
// type ("network", "subnet", "port").
func QuotaSlotsOf(projectID, resource string) string {
	return QuotaSlotsPrefix + projectID + "/" + resource + "/"
}

// QuotaSlotKey is quota slot n of a project's resource type.
func QuotaSlotKey(projectID, resource string, n int) string {
	return QuotaSlotsOf(projectID, resource) + strconv.Itoa(n)
}

// BulkKey is the key of a bulk create in progress.
func BulkKey(id string) string { return BulksPrefix + id }

// SegmentKey is the allocation key of a segment; physnet is "-" for tunnels.
func SegmentKey(netType, physnet string, id int) string {
	if physnet == "" {
		physnet = "-"
	}
	return SegmentsPrefix + netType + "/" + physnet + "/" + strconv.Itoa(id)
}

// AgentKey is the key of a host's agent record.
func AgentKey(host string) string { return AgentsPrefix + host }

// AgentAliveKey is the leased heartbeat key of a host's agent.
func AgentAliveKey(host string) string { return AgentAlivePrefix + host }

// AgentHeartbeatKey is the key of the time of host's agent's last
// heartbeat.
func AgentHeartbeatKey(host string) string { return AgentHeartbeatPrefix + host }

// PortStatusKey is the key of a port's status as reported by host's agent.
func PortStatusKey(host, portID string) string { return PortStatusOf(host) + portID }

// PortStatusOf is the prefix of the port status records host's agent writes.
func PortStatusOf(host string) string { return PortStatusPrefix + host + "/" }

// ParsePortStatusKey splits a key under PortStatusPrefix into host and port
// id; ok is false for anything else (such as a record of the old
// port-status/<port id> layout).
func ParsePortStatusKey(key string) (host, portID string, ok bool) {
	rest, found := strings.CutPrefix(key, PortStatusPrefix)
	if !found {
		return "", "", false
	}
	host, portID, ok = strings.Cut(rest, "/")
	return host, portID, ok && host != "" && portID != "" && !strings.Contains(portID, "/")
}

// InstanceKey is the key of an instance record.
func InstanceKey(id string) string { return InstancesPrefix + id }

// ProjectKey is the key of a project created through the identity API.
func ProjectKey(id string) string { return ProjectsPrefix + id }

// SecurityGroupKey is the key of a security group.
func SecurityGroupKey(id string) string { return SecurityGroupsPrefix + id }

// SecGroupPortsOf is the prefix of a security group's port index keys.
func SecGroupPortsOf(groupID string) string { return SecGroupPortsPrefix + groupID + "/" }

// SecGroupPortKey is the index key of a port in a security group.
func SecGroupPortKey(groupID, portID string) string { return SecGroupPortsOf(groupID) + portID }

// Subnet pools and address scopes. SubnetPoolsPrefix + <id> holds a pool,
// AddressScopesPrefix + <id> a scope. A subnet allocated from a pool
// holds PoolPrefixKey(pool, bits), bits being its prefix's leading bits
// ('0'/'1'), so that a prefix and every prefix overlapping it are one
// key range plus its ancestors' keys: a create conditions on both and no
// two subnets of a pool can overlap, whichever servers create them.
// PoolUsagePrefix + <pool>/<project>/<subnet>: the project's subnets in
// the pool, for the per-project default_quota. DefaultPoolsPrefix + <4|6>:
// the default pool of an IP version (value: its id).
const (
	SubnetPoolsPrefix   = root + "subnetpools/"
	AddressScopesPrefix = root + "address-scopes/"
	PoolPrefixesPrefix  = root + "subnetpool-prefixes/"
	PoolUsagePrefix     = root + "subnetpool-usage/"
	DefaultPoolsPrefix  = root + "subnetpool-defaults/"
)

// SubnetPoolKey is the key of a subnet pool.
func SubnetPoolKey(id string) string { return SubnetPoolsPrefix + id }

// AddressScopeKey is the key of an address scope.
func AddressScopeKey(id string) string { return AddressScopesPrefix + id }

// PoolPrefixesOf is the prefix of a pool's allocation keys.
func PoolPrefixesOf(poolID string) string { return PoolPrefixesPrefix + poolID + "/" }

// PoolPrefixKey is the allocation key of a prefix (as ipam.PrefixBits) in a pool.
func PoolPrefixKey(poolID, bits string) string { return PoolPrefixesOf(poolID) + "p" + bits }

// PoolUsageOf is the prefix of a project's subnets in a pool.
func PoolUsageOf(poolID, projectID string) string {
	return PoolUsagePrefix + poolID + "/" + projectID + "/"
}

// DefaultPoolKey is the key naming the default pool of an IP version.
func DefaultPoolKey(version int) string { return DefaultPoolsPrefix + strconv.Itoa(version) }

// AgentSettingsKey is the key of one agent row's admin settings.
func AgentSettingsKey(agentID string) string { return AgentSettingsPrefix + agentID }

// DHCPBindingKey is the key of a network's binding to a host's DHCP agent.
func DHCPBindingKey(networkID, host string) string { return DHCPBindingsOf(networkID) + host }

// L3BindingKey is the key of host's binding to a router.
func L3BindingKey(routerID, host string) string { return L3BindingsOf(routerID) + host }

// L3BindingsOf is the prefix of a router's L3 bindings.
func L3BindingsOf(routerID string) string { return L3BindingsPrefix + routerID + "/" }

// DHCPBindingsOf is the prefix of a network's DHCP bindings.
func DHCPBindingsOf(networkID string) string { return DHCPBindingsPrefix + networkID + "/" }
