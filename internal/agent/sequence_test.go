package agent

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/memstore"
)

// storeState is a whole store content for the keys the sequence test
// uses, with the state hostA must apply for it (as dumpState text).
type storeState struct {
	name string
	keys map[string]any
	want string
}

// Level-triggered: whatever order the store goes through these contents
// in, the agent ends up applying the state each one implies.
func TestStateSequence(t *testing.T) {
	n1, n2 := vxlanNet("n1", 101), vxlanNet("n2", 102)
	agentB, aliveB := ovsAgent("hostB", "192.168.50.2"), map[string]string{"host": "hostB"}
	states := []storeState{
		{name: "empty", keys: map[string]any{}, want: ""},
		{name: "one port", keys: map[string]any{
			store.NetworkKey("n1"): n1, store.PortKey("p1"): vmPort("p1", "n1", "fa:16:3e:00:00:01", "10.0.0.1", ""),
		}, want: "net n1 vxlan 101\nport p1 net=n1 up=true\n"},
		{name: "two networks and a peer", keys: map[string]any{
			store.NetworkKey("n1"): n1, store.NetworkKey("n2"): n2,
			store.PortKey("p1"):     vmPort("p1", "n1", "fa:16:3e:00:00:01", "10.0.0.1", ""),
			store.PortKey("p2"):     vmPort("p2", "n2", "fa:16:3e:00:00:02", "10.0.1.1", ""),
			store.PortKey("b1"):     vmPort("b1", "n2", "fa:16:3e:00:00:03", "10.0.1.2", "hostB"),
			store.AgentKey("hostB"): agentB, store.AgentAliveKey("hostB"): aliveB,
		}, want: "net n1 vxlan 101\nnet n2 vxlan 102\nport p1 net=n1 up=true\nport p2 net=n2 up=true\npeer hostB 192.168.50.2 [n2]\n"},
		{name: "port of an unknown network", keys: map[string]any{
			store.PortKey("p1"):    vmPort("p1", "n1", "fa:16:3e:00:00:01", "10.0.0.1", ""),
			store.NetworkKey("n2"): n2, store.PortKey("p2"): vmPort("p2", "n2", "fa:16:3e:00:00:02", "10.0.1.1", ""),
		}, want: "net n2 vxlan 102\nport p2 net=n2 up=true\n"},
	}
	st := memstore.New()
	t.Cleanup(func() { st.Close() })
	dp := newFakeDP("p1", "p2")
	runAgent(t, st, dp)
	order := append(states, states...)
	rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for _, s := range order {
		setStore(t, st, states, s)
		waitApplied(t, dp, s.want, 500*time.Millisecond)
	}
}

// setStore makes the store hold exactly s's keys among all keys of states.
func setStore(t *testing.T, st store.Store, states []storeState, s storeState) {
	t.Helper()
	for _, other := range states {
		for k := range other.keys {
			if _, keep := s.keys[k]; !keep && exists(st, k) {
				del(t, st, k)
			}
		}
	}
	for k, v := range s.keys {
		put(t, st, k, v)
	}
}
