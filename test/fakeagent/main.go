// Command fakeagent registers a DHCP and L3 agent host in a vland store and marks
// its DHCP ports ACTIVE, standing in for a real agent in API conformance
// runs (tempest's dhcp_agent_scheduler and l3_agent_scheduler tests need live agents):
//
//	go run ./test/fakeagent http://127.0.0.1:2379 HOST [PASSWORD_FILE]
//
// With etcd auth on, PASSWORD_FILE holds the password of the agent's etcd
// user vland-agent-HOST (`vland agent credentials HOST -o FILE`).
package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
)

func main() {
	host := os.Args[2]
	cc := etcdstore.ClientConfig{Endpoints: strings.Split(os.Args[1], ",")}
	if len(os.Args) > 3 {
		pw, err := os.ReadFile(os.Args[3])
		if err != nil {
			panic(err)
		}
		cc.Username, cc.Password = store.AgentUser(host), strings.TrimSpace(string(pw))
	}
	st, err := etcdstore.Connect(cc)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	rec, _ := json.Marshal(api.Agent{ID: "00000000-0000-4000-8000-" + "000000000001", Host: host, AdminStateUp: true,
		Configurations: api.AgentConfig{IntegrationBr: "br-int", TunnelTypes: []string{}, BridgeMappings: map[string]string{}, Roles: []string{"compute", "dhcp", "l3"}}})
	lease, err := st.Grant(ctx, 10*time.Second)
	if err != nil {
		panic(err)
	}
	if _, err := st.Txn(ctx, nil, []store.Op{{Key: store.AgentKey(host), Value: rec},
		{Key: store.AgentAliveKey(host), Value: []byte("{}"), Lease: lease}}); err != nil {
		panic(err)
	}
	go func() { _ = st.KeepAlive(ctx, lease) }()
	for {
		kvs, _, err := st.List(ctx, store.PortsPrefix)
		if err == nil {
			for _, kv := range kvs {
				var p api.Port
				if json.Unmarshal(kv.Value, &p) == nil && p.BindingHostID == host {
					if _, err := st.Get(ctx, store.PortStatusKey(host, p.ID)); err != nil {
						b, _ := json.Marshal(api.PortStatus{PortID: p.ID, Host: host, Status: api.StatusActive})
						_, _ = st.Txn(ctx, nil, []store.Op{{Key: store.PortStatusKey(host, p.ID), Value: b}})
					}
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
}
