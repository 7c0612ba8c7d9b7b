package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// netFixture is a network with a subnet and some DHCP ports, and every id
// it owns (to find leftovers in the store after a delete).
type netFixture struct {
	id  string
	ids []string
}

func mkNetFixture(t *testing.T, who caller, name, cidr string, dhcpPorts int) netFixture {
	t.Helper()
	n := mkNetwork(t, who, map[string]any{"name": name})["id"].(string)
	f := netFixture{id: n, ids: []string{n}}
	f.ids = append(f.ids, mkSubnet(t, who, n, cidr, nil)["id"].(string))
	if dhcpPorts > 0 {
		var ports []map[string]any
		for range dhcpPorts {
			ports = append(ports, map[string]any{"network_id": n, "device_owner": "network:dhcp"})
		}
		for _, p := range call(t, who, "POST", "/v2.0/ports", map[string]any{"ports": ports}).want(t, 201).list(t, "ports") {
			f.ids = append(f.ids, p["id"].(string))
		}
	}
	return f
}

// leftovers are the store keys that still name one of f's ids.
func (f netFixture) leftovers(snap map[string]string) []string {
	var out []string
	for k, v := range snap {
		for _, id := range f.ids {
			if strings.Contains(k+" "+v, id) {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

// state classifies a network after deletes: "gone" (404 and nothing of it
// left in the store), "usable" (200 and a port can be created on it), or
// "half-deleted" (anything else).
func (f netFixture) state(t *testing.T, who caller, snap map[string]string) string {
	t.Helper()
	switch call(t, who, "GET", "/v2.0/networks/"+f.id, nil).status {
	case 404:
		if left := f.leftovers(snap); len(left) > 0 {
			t.Logf("network %s: 404 but keys left: %v", f.id, left)
			return "half-deleted"
		}
		return "gone"
	case 200:
		r := call(t, who, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": f.id}})
		if r.status != 201 {
			t.Logf("network %s: 200 but port create %d: %s", f.id, r.status, r.raw)
			return "half-deleted"
		}
		call(t, who, "DELETE", "/v2.0/ports/"+r.obj(t, "port")["id"].(string), nil).want(t, 204)
		return "usable"
	}
	return "half-deleted"
}

// callCancelled sends a DELETE and gives up on it after wait, as a client
// that disconnects does.
func callCancelled(who caller, path string, wait time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "DELETE", srv.URL()+path, nil)
	req.Header.Set("X-Auth-Token", "notused")
	if !who.admin {
		req.Header.Set("X-Project-Id", who.project)
		req.Header.Set("X-Roles", "member")
	}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// settle waits until the store stops changing (deletes whose clients left
// run on in the server).
func settle(t *testing.T) map[string]string {
	t.Helper()
	prev := fmt.Sprint(snapshot(t))
	for range 100 {
		time.Sleep(300 * time.Millisecond)
		cur := snapshot(t)
		if s := fmt.Sprint(cur); s == prev {
			return cur
		} else {
			prev = s
		}
	}
	t.Fatal("the store did not settle")
	return nil
}

// TestDeleteSurvivesClientDisconnect: clients that give up during DELETE
// of networks and subnets leave nothing half-deleted. Each network is
// either gone without a trace or fully usable.
func TestDeleteSurvivesClientDisconnect(t *testing.T) {
	const n = 60
	p := member("proj-disconnect")
	nets := make([]netFixture, n)
	for i := range nets {
		nets[i] = mkNetFixture(t, p, fmt.Sprintf("disc-%d", i), fmt.Sprintf("10.%d.%d.0/24", 100+i/200, i%200), 2)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, f := range nets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			wait := time.Duration(rand.IntN(30000)) * time.Microsecond
			if i%3 == 0 {
				callCancelled(p, "/v2.0/subnets/"+f.ids[1], wait)
			}
			callCancelled(p, "/v2.0/networks/"+f.id, wait)
		}()
	}
	wg.Wait()
	snap := settle(t)
	counts := map[string]int{}
	for _, f := range nets {
		counts[f.state(t, p, snap)]++
	}
	t.Logf("after %d cancelled deletes: %v", n, counts)
	if counts["half-deleted"] > 0 {
		t.Fatalf("%d of %d networks half-deleted", counts["half-deleted"], n)
	}
	for _, f := range nets {
		if call(t, p, "GET", "/v2.0/networks/"+f.id, nil).status == 200 {
			call(t, p, "DELETE", "/v2.0/networks/"+f.id, nil).want(t, 204)
		}
	}
}

// TestCreateDuringFailedDeleteIsNot404: port creates racing a network
// delete either all win (and the delete fails with NetworkInUse) or all
// lose to a delete that succeeded; a delete that fails never makes a
// create see a spurious 404.
func TestCreateDuringFailedDeleteIsNot404(t *testing.T) {
	p := member("proj-race-delete")
	for round := range 15 {
		f := mkNetFixture(t, p, "race", "10.77.0.0/24", 0)
		var wg sync.WaitGroup
		creates := make([]int, 6)
		var del int
		for i := range creates {
			wg.Add(1)
			go func() {
				defer wg.Done()
				creates[i] = call(t, p, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": f.id}}).status
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			del = call(t, p, "DELETE", "/v2.0/networks/"+f.id, nil).status
		}()
		wg.Wait()
		for _, c := range creates {
			if (del == 409 && c != 201) || (del == 204 && c != 404) || (del != 409 && del != 204) {
				t.Fatalf("round %d: delete %d, creates %v", round, del, creates)
			}
		}
		if del == 409 {
			for _, pt := range call(t, p, "GET", "/v2.0/ports?network_id="+f.id, nil).want(t, 200).list(t, "ports") {
				call(t, p, "DELETE", "/v2.0/ports/"+pt["id"].(string), nil).want(t, 204)
			}
			call(t, p, "DELETE", "/v2.0/networks/"+f.id, nil).want(t, 204)
		}
	}
}

// TestMACUniquePerNetwork: as in Neutron, the same MAC may be used on two
// networks, but not twice on one.
func TestMACUniquePerNetwork(t *testing.T) {
	p := member("proj-mac")
	a := mkNetwork(t, p, map[string]any{"name": "mac-a"})["id"].(string)
	b := mkNetwork(t, p, map[string]any{"name": "mac-b"})["id"].(string)
	const mac = "fa:16:3e:aa:bb:cc"
	pa := mkPort(t, p, a, map[string]any{"mac_address": mac})
	mkPort(t, p, b, map[string]any{"mac_address": mac})
	call(t, p, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": a, "mac_address": mac}}).
		wantError(t, 409, "MacAddressInUse")
	// Freed on its network by the port's delete.
	call(t, p, "DELETE", "/v2.0/ports/"+pa["id"].(string), nil).want(t, 204)
	mkPort(t, p, a, map[string]any{"mac_address": mac})
}
