package store

import (
	"fmt"
	"strings"
)

// Who may touch which keys, in etcd's role-based access control. This is
// the one place the grants are defined; etcdstore.Provision and
// etcdstore.ProvisionAgent apply them to a cluster, idempotently.
//
//   - RootUser has etcd's built-in root role (user and role admin, auth
//     enable); only provisioning uses it.
//   - ServerRole (user ServerUser) reads and writes everything under /vland/,
//     including the token signing secret.
//   - AgentRole(host) (user AgentUser(host)) reads the desired state an
//     agent needs and writes only its own host's keys. It cannot read the
//     token secret, projects, quotas or allocations, and cannot write any
//     resource.
const (
	RootUser   = "root"
	ServerRole = "vland-server"
	ServerUser = "vland-server"
	agentName  = "vland-agent-"
)

// Perm is one permission of a role: Key alone, or every key starting with
// Key when Prefix is set.
type Perm struct {
	Key    string
	Prefix bool
	Write  bool // read and write; otherwise read only
}

// AgentRole is the etcd role of host's agent.
func AgentRole(host string) string { return agentName + host }

// AgentUser is the etcd user of host's agent.
func AgentUser(host string) string { return agentName + host }

// ServerPerms are the server role's permissions.
func ServerPerms() []Perm {
	return []Perm{{Key: root, Prefix: true, Write: true}}
}

// AgentReadPrefixes are the prefixes every agent may read (and watch): the
// desired state of networks, subnets (a DHCP agent serves them), ports and
// their index ranges (an agent follows only the ranges of its host, its
// networks, routers and security groups), security groups (the firewall),
// routers and floating IPs (an L3 agent realises them), instances (the
// metadata proxy answers from them), and what the agents report (also as
// the per-network status copies).
var AgentReadPrefixes = []string{
	NetworksPrefix, SubnetsPrefix, PortsPrefix, RoutersPrefix, FloatingIPsPrefix, L3BindingsPrefix,
	NetworkPortsPrefix, HostPortsPrefix, RouterPortsPrefix, SecGroupPortsPrefix,
	AgentsPrefix, AgentAlivePrefix, PortStatusPrefix, NetworkStatusPrefix,
	SecurityGroupsPrefix, InstancesPrefix,
}

// AgentPerms are the permissions of host's agent role: read
// AgentReadPrefixes, write its agent record, its lease key, its heartbeat
// time and its own port status records.
func AgentPerms(host string) []Perm {
	perms := make([]Perm, 0, len(AgentReadPrefixes)+4)
	for _, p := range AgentReadPrefixes {
		perms = append(perms, Perm{Key: p, Prefix: true})
	}
	return append(perms,
		Perm{Key: AgentKey(host), Write: true},
		Perm{Key: AgentAliveKey(host), Write: true},
		Perm{Key: AgentHeartbeatKey(host), Write: true},
		Perm{Key: PortStatusOf(host), Prefix: true, Write: true},
	)
}

// ValidHost checks that host can name keys and an etcd user: not empty, no
// "/" (it would reach into another host's key range), no spaces or
// control characters.
func ValidHost(host string) error {
	if host == "" {
		return fmt.Errorf("host name is empty")
	}
	if strings.ContainsFunc(host, func(r rune) bool { return r == '/' || r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("host name %q contains '/', a space or a control character", host)
	}
	return nil
}
