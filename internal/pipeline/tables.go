package pipeline

import "fmt"

// Role says which bridge a table lives on. Provider tables are instantiated
// once per provider bridge (br-ex, ...).
type Role string

// Bridge roles.
const (
	RoleInt      Role = "int"      // integration bridge, br-int
	RoleTun      Role = "tun"      // tunnel bridge, br-tun
	RoleProvider Role = "provider" // provider bridges from bridge_mappings
)

// Miss is what a table does with a packet no other flow matched. It is
// installed as the table's priority-0 flow.
type Miss int

// Miss actions.
const (
	MissNone   Miss = iota // no priority-0 flow (the table's flows cover everything)
	MissDrop               // priority=0 actions=drop
	MissNormal             // priority=0 actions=NORMAL
	MissNext               // priority=0 actions=resubmit(,Table.Next)
)

// Table is one OpenFlow table of vland's pipeline. Numbers follow Neutron's
// openvswitch agent so operators read familiar flows (seeds 000/001).
type Table struct {
	ID   uint8
	Name string
	Role Role
	Miss Miss
	Next uint8 // for MissNext
	Doc  string
}

// br-int tables.
var (
	IntClassifier = Table{ID: 0, Name: "LocalSwitching", Role: RoleInt, Miss: MissDrop,
		Doc: "classify by in_port: tagged frames from ports drop; bound ports to anti-spoofing or switching, patch ports to switching; unknown and dead ports drop"}
	IntCanary = Table{ID: 23, Name: "Canary", Role: RoleInt, Miss: MissDrop,
		Doc: "one flow whose absence tells the agent ovs-vswitchd restarted and lost its flows"}
	IntARPSpoof = Table{ID: 24, Name: "ARPSpoof", Role: RoleInt, Miss: MissDrop,
		Doc: "ARP (and IPv6 NA) from a port must carry one of its own IPs"}
	IntMACSpoof = Table{ID: 25, Name: "MACSpoof", Role: RoleInt, Miss: MissDrop,
		Doc: "frames from a port must carry its MAC or an allowed-address-pair MAC and, for IPv4/IPv6, a source address of that MAC; other ethertypes drop"}
	IntTransient = Table{ID: 60, Name: "Transient", Role: RoleInt, Miss: MissNone,
		Doc: "unicast to a filtered port of this host to its ingress firewall (81); the rest normal L2 switching within the local VLAN"}
	IntBaseEgress = Table{ID: 71, Name: "BaseEgress", Role: RoleInt, Miss: MissDrop,
		Doc: "security groups, from a filtered port: ARP, DHCP client and ND pass, DHCP/RA servers drop, IP through conntrack (zone = reg6) to 72"}
	IntRulesEgress = Table{ID: 72, Name: "RulesEgress", Role: RoleInt, Miss: MissDrop,
		Doc: "invalid drops, established/related pass, new connections matching an egress rule are committed and pass to 60"}
	IntBaseIngress = Table{ID: 81, Name: "BaseIngress", Role: RoleInt, Miss: MissDrop,
		Doc: "to the filtered port in reg5: ARP, DHCP replies and ND pass, IP through conntrack to 82"}
	IntRulesIngress = Table{ID: 82, Name: "RulesIngress", Role: RoleInt, Miss: MissDrop,
		Doc: "invalid drops, established/related pass, new connections matching an ingress rule are committed; output to reg5"}
)

// br-tun tables.
var (
	TunClassifier = Table{ID: 0, Name: "Classifier", Role: RoleTun, Miss: MissDrop,
		Doc: "patch-int to 2; GRE tunnels to 3, VXLAN to 4, Geneve to 6"}
	TunPatchLVToTun = Table{ID: 2, Name: "PatchLVToTun", Role: RoleTun, Miss: MissNone,
		Doc: "from br-int: broadcast ARP and multicast neighbour solicitations to 21, other unicast to 20, multicast/broadcast to 22"}
	TunGREToLV = Table{ID: 3, Name: "GRETunToLV", Role: RoleTun, Miss: MissDrop,
		Doc: "GRE key to local VLAN"}
	TunVXLANToLV = Table{ID: 4, Name: "VXLANTunToLV", Role: RoleTun, Miss: MissDrop,
		Doc: "VNI to local VLAN"}
	TunGeneveToLV = Table{ID: 6, Name: "GeneveTunToLV", Role: RoleTun, Miss: MissDrop,
		Doc: "Geneve VNI to local VLAN"}
	TunLearn = Table{ID: 10, Name: "LearnFromTun", Role: RoleTun, Miss: MissNone,
		Doc: "learn (local VLAN, source MAC) -> tunnel port into table 20, then output to patch-int"}
	TunUcast = Table{ID: 20, Name: "UcastToTun", Role: RoleTun, Miss: MissNext, Next: 22,
		Doc: "unicast to remote ports (l2population, priority 2) and learned destinations (1); unknown ones flood via 22"}
	TunARPResponder = Table{ID: 21, Name: "ARPResponder", Role: RoleTun, Miss: MissNext, Next: 22,
		Doc: "answers ARP requests for remote ports' IPv4 addresses and neighbour solicitations for their IPv6 ones (l2population); the rest passes to 22"}
	TunFlood = Table{ID: 22, Name: "FloodToTun", Role: RoleTun, Miss: MissDrop,
		Doc: "per local VLAN: strip, set tunnel id, output to the tunnels of peers on that network"}
)

// Provider bridge tables (br-ex and other physnets).
var (
	ProvLocalSwitching = Table{ID: 0, Name: "LocalSwitching", Role: RoleProvider, Miss: MissNormal,
		Doc: "from br-int (phy- patch): local VLAN to segment (vlan) or untagged (flat); the rest NORMAL"}
)

// Tables lists every table, in the order docs and dumps present them.
var Tables = []Table{
	IntClassifier, IntCanary, IntARPSpoof, IntMACSpoof, IntTransient,
	IntBaseEgress, IntRulesEgress, IntBaseIngress, IntRulesIngress,
	TunClassifier, TunPatchLVToTun, TunGREToLV, TunVXLANToLV, TunGeneveToLV,
	TunLearn, TunUcast, TunARPResponder, TunFlood,
	ProvLocalSwitching,
}

// TablesFor returns the tables of one bridge role.
func TablesFor(r Role) []Table {
	var out []Table
	for _, t := range Tables {
		if t.Role == r {
			out = append(out, t)
		}
	}
	return out
}

func (t Table) String() string { return fmt.Sprintf("%s:%d(%s)", t.Role, t.ID, t.Name) }

// tunnelTable maps a tunnel network type to its tunnel-to-local-VLAN table.
func tunnelTable(netType string) (Table, bool) {
	switch netType {
	case "gre":
		return TunGREToLV, true
	case "vxlan":
		return TunVXLANToLV, true
	case "geneve":
		return TunGeneveToLV, true
	}
	return Table{}, false
}
