package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
)

func TestProjectsOverlapAndIsolation(t *testing.T) {
	a, b := member("proj-iso-a"), member("proj-iso-b")
	var addrs [2][]string
	var nets [2]string
	for i, who := range []caller{a, b} {
		nets[i] = mkNetwork(t, who, map[string]any{"name": "tenant-net"})["id"].(string)
		mkSubnet(t, who, nets[i], "10.1.0.0/24", nil)
		for range 3 {
			addrs[i] = append(addrs[i], ips(mkPort(t, who, nets[i], nil))...)
		}
	}
	if !slices.Equal(addrs[0], addrs[1]) || addrs[0][0] != "10.1.0.2" {
		t.Fatalf("same CIDR should give the same addresses: %v", addrs)
	}
	for i, who := range []caller{a, b} {
		for _, coll := range []string{"networks", "subnets", "ports"} {
			for _, o := range call(t, who, "GET", "/v2.0/"+coll, nil).want(t, 200).list(t, coll) {
				// External networks (other tests' routers) are everyone's.
				if o["project_id"] != who.project && o["router:external"] != true {
					t.Fatalf("%s sees %s of %v", who.project, coll, o["project_id"])
				}
			}
		}
		other := nets[1-i]
		call(t, who, "GET", "/v2.0/networks/"+other, nil).wantError(t, 404, "NetworkNotFound")
		call(t, who, "PUT", "/v2.0/networks/"+other, map[string]any{"network": map[string]any{"name": "x"}}).wantError(t, 404, "NetworkNotFound")
		call(t, who, "DELETE", "/v2.0/networks/"+other, nil).wantError(t, 404, "NetworkNotFound")
		call(t, who, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": other}}).wantError(t, 404, "NetworkNotFound")
	}
}

func TestSharedNetworkAndAdminPowers(t *testing.T) {
	owner, user := member("proj-shared-owner"), member("proj-shared-user")
	n := mkNetwork(t, admin, map[string]any{"name": "shared", "shared": true, "project_id": owner.project,
		"provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 150})
	if n["project_id"] != owner.project || n["provider:segmentation_id"] != 150.0 || n["mtu"] != 1500.0 {
		t.Fatalf("admin-made network: %v", n)
	}
	id := n["id"].(string)
	call(t, admin, "POST", "/v2.0/networks", map[string]any{"network": map[string]any{"provider:network_type": "vlan",
		"provider:physical_network": "physnet1", "provider:segmentation_id": 150}}).wantError(t, 409, "VlanIdInUse")
	mkSubnet(t, owner, id, "10.50.0.0/24", nil)
	// Others see the shared network and its subnet, may plug ports in,
	// but may not change it or choose addresses on it.
	if got := call(t, user, "GET", "/v2.0/subnets?network_id="+id, nil).want(t, 200).list(t, "subnets"); len(got) != 1 {
		t.Fatalf("user sees %d subnets of the shared network", len(got))
	}
	port := mkPort(t, user, id, nil)
	if port["project_id"] != user.project {
		t.Fatalf("port owner: %v", port["project_id"])
	}
	call(t, user, "PUT", "/v2.0/networks/"+id, map[string]any{"network": map[string]any{"name": "mine"}}).wantError(t, 403, "PolicyNotAuthorized")
	call(t, user, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": id,
		"fixed_ips": []map[string]string{{"ip_address": "10.50.0.9"}}}}).wantError(t, 403, "PolicyNotAuthorized")
	call(t, user, "POST", "/v2.0/subnets", map[string]any{"subnet": map[string]any{"network_id": id, "cidr": "10.51.0.0/24", "ip_version": 4}}).
		wantError(t, 403, "PolicyNotAuthorized")
	call(t, admin, "PUT", "/v2.0/networks/"+id, map[string]any{"network": map[string]any{"shared": false}}).
		wantError(t, 409, "InvalidSharedSetting")
	// The owner of the network sees the user's port on it.
	call(t, owner, "GET", "/v2.0/ports/"+port["id"].(string), nil).want(t, 200)
	call(t, member("proj-nobody"), "GET", "/v2.0/ports/"+port["id"].(string), nil).wantError(t, 404, "PortNotFound")
	// Members never see provider attributes.
	if v := call(t, user, "GET", "/v2.0/networks/"+id, nil).want(t, 200).obj(t, "network"); v["provider:network_type"] != nil {
		t.Fatalf("member sees provider attributes: %v", v)
	}
}

func TestPortStatusAndAgents(t *testing.T) {
	p := member("proj-status")
	netID := mkNetwork(t, p, map[string]any{"name": "st"})["id"].(string)
	port := mkPort(t, p, netID, nil)
	id := port["id"].(string)
	ctx := context.Background()
	st := srv.Store()
	status, _ := json.Marshal(api.PortStatus{PortID: id, Host: "compute1", Status: api.StatusActive})
	// Another host that once had the VIF reports it DOWN: the ACTIVE
	// record of the unbound port wins.
	old, _ := json.Marshal(api.PortStatus{PortID: id, Host: "compute0", Status: api.StatusDown})
	agent, _ := json.Marshal(api.Agent{ID: "agent-compute1", Host: "compute1", AgentType: api.AgentTypeOVS, Binary: "vland-agent"})
	lease, err := st.Grant(ctx, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Revoke(ctx, lease) })
	_, err = st.Txn(ctx, nil, []store.Op{
		{Key: store.PortStatusKey("compute1", id), Value: status},
		{Key: store.PortStatusKey("compute0", id), Value: old},
		{Key: store.AgentKey("compute1"), Value: agent},
		{Key: store.AgentAliveKey("compute1"), Value: []byte("1"), Lease: lease},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := call(t, admin, "GET", "/v2.0/ports/"+id, nil).want(t, 200).obj(t, "port")
	if got["status"] != "ACTIVE" || got["binding:host_id"] != "compute1" || got["binding:vif_type"] != "ovs" {
		t.Fatalf("merged status: %v", got)
	}
	agents := call(t, admin, "GET", "/v2.0/agents?host=compute1", nil).want(t, 200).list(t, "agents")
	if len(agents) != 1 || agents[0]["alive"] != true || agents[0]["id"] != "agent-compute1" {
		t.Fatalf("agents: %v", agents)
	}
	if err := st.Revoke(ctx, lease); err != nil {
		t.Fatal(err)
	}
	a := call(t, admin, "GET", "/v2.0/agents/agent-compute1", nil).want(t, 200).obj(t, "agent")
	if a["alive"] != false {
		t.Fatalf("agent alive after its lease ended: %v", a)
	}
	call(t, admin, "GET", "/v2.0/agents/nope", nil).wantError(t, 404, "AgentNotFound")
	call(t, p, "DELETE", "/v2.0/ports/"+id, nil).want(t, 204)
	for _, host := range []string{"compute0", "compute1"} {
		if _, err := st.Get(ctx, store.PortStatusKey(host, id)); err == nil {
			t.Fatal(fmt.Sprint("port status key of ", host, " survived the port"))
		}
	}
	// The status mirror's copies go too (before the next test snapshots
	// the store).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		kvs, _, err := st.List(ctx, store.NetworkStatusOf(netID))
		if err == nil && len(kvs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status copies survived the port: %v %v", kvs, err)
		}
	}
}
