package agent

import (
	"fmt"
	"testing"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/hoststate"
)

// scaleSnap is a cloud of hosts x portsPerHost VMs: each network has 4
// ports on 4 consecutive hosts, so a host shares each of its networks with
// 3 others (issue 11's "1,000 hosts / 20,000 ports").
func scaleSnap(hosts, portsPerHost int) (Snapshot, []hoststate.Interface) {
	var nets []api.Network
	var ports []api.Port
	var statuses []api.PortStatus
	var agents []api.Agent
	var ifaces []hoststate.Interface
	for h := range hosts {
		host := fmt.Sprintf("h%04d", h)
		agents = append(agents, ovsAgent(host, fmt.Sprintf("10.%d.%d.1", h/250, h%250)))
		for i := range portsPerHost {
			netIdx := (h/4)*portsPerHost + i
			if h%4 == 0 {
				nets = append(nets, vxlanNet(fmt.Sprintf("n%05d", netIdx), 1000+netIdx))
			}
			id := fmt.Sprintf("p%04d-%02d", h, i)
			ports = append(ports, vmPort(id, fmt.Sprintf("n%05d", netIdx), fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", h/256, h%256, i), fmt.Sprintf("10.0.%d.%d", h%4, i+2), host))
			statuses = append(statuses, active(id, host))
			if h == 0 {
				ifaces = append(ifaces, iface(id))
			}
		}
	}
	return snapOf(nets, ports, statuses, agents), ifaces
}

// BenchmarkCompute is what one agent spends per wake-up today: Compute
// walks every port of the cloud, whatever the change (issue 11's "agents
// that scale" is not done; this measures the starting point).
//
//	go test ./internal/agent -run - -bench Compute -benchmem
func BenchmarkCompute(b *testing.B) {
	for _, sz := range []struct{ hosts, ports int }{{200, 20}, {1000, 20}} {
		snap, ifaces := scaleSnap(sz.hosts, sz.ports)
		h := HostConfig{Host: "h0000", TunnelTypes: []string{"vxlan"}}
		b.Run(fmt.Sprintf("%dhosts_%dports", sz.hosts, sz.hosts*sz.ports), func(b *testing.B) {
			for b.Loop() {
				st := Compute(h, ifaces, snap)
				if len(st.Ports) != sz.ports || len(st.Peers) != 3 {
					b.Fatalf("%d ports, %d peers", len(st.Ports), len(st.Peers))
				}
			}
		})
	}
}
