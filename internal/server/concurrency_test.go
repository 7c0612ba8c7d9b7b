package server_test

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// These tests are the concurrency proof of allocation (ipam.Used and
// segment.Config.Choose, the service's cache and reservations, the
// store's compare-and-create): 200 creates at once, spread over two API
// servers on one real etcd, get distinct values, densely from the bottom.

// parallel runs fn n times on n goroutines and collects the results.
func parallel[T any](n int, fn func(i int) (T, error)) ([]T, []error) {
	out := make([]T, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return out, errs
}

// alternate is who on even i, who through the second server on odd i.
func alternate(t *testing.T, who caller) func(i int) caller {
	other := onSecond(t, who)
	return func(i int) caller {
		if i%2 == 1 {
			return other
		}
		return who
	}
}

func TestConcurrentNetworkCreatesGetDistinctSegments(t *testing.T) {
	const n = 200
	by := alternate(t, admin)
	// The VNIs to expect: the n lowest of the tenant range still free.
	taken := map[int]bool{}
	for _, nw := range call(t, admin, "GET", "/v2.0/networks?provider:network_type=vxlan", nil).want(t, 200).list(t, "networks") {
		taken[int(nw["provider:segmentation_id"].(float64))] = true
	}
	var want []int
	for vni := 1000; len(want) < n; vni++ {
		if !taken[vni] {
			want = append(want, vni)
		}
	}
	type seg struct {
		id  string
		vni int
	}
	got, errs := parallel(n, func(i int) (seg, error) {
		r := call(t, by(i), "POST", "/v2.0/networks", map[string]any{"network": map[string]any{"name": fmt.Sprintf("cc-%d", i)}})
		if r.status != 201 {
			return seg{}, fmt.Errorf("status %d: %s", r.status, r.raw)
		}
		nw := r.body["network"].(map[string]any)
		vni, err := strconv.Atoi(fmt.Sprint(nw["provider:segmentation_id"]))
		return seg{nw["id"].(string), vni}, err
	})
	vnis := make([]int, 0, n)
	for i, e := range errs {
		if e != nil {
			t.Fatal(e)
		}
		vnis = append(vnis, got[i].vni)
	}
	slices.Sort(vnis)
	if !slices.Equal(vnis, want) {
		t.Fatalf("VNIs %v,\nwant the lowest free, each once: %v", vnis, want)
	}
	_, errs = parallel(n, func(i int) (int, error) {
		r := call(t, by(i+1), "DELETE", "/v2.0/networks/"+got[i].id, nil)
		if r.status != 204 {
			return 0, fmt.Errorf("delete status %d: %s", r.status, r.raw)
		}
		return 0, nil
	})
	for _, e := range errs {
		if e != nil {
			t.Fatal(e)
		}
	}
}

func TestConcurrentPortCreatesGetDistinctAddresses(t *testing.T) {
	const n = 200
	p := member("proj-conc-ports")
	by := alternate(t, p)
	netID := mkNetwork(t, p, map[string]any{"name": "conc"})["id"].(string)
	mkSubnet(t, p, netID, "10.20.0.0/22", nil)
	type alloc struct{ ip, mac string }
	got, errs := parallel(n, func(i int) (alloc, error) {
		r := call(t, by(i), "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}})
		if r.status != 201 {
			return alloc{}, fmt.Errorf("status %d: %s", r.status, r.raw)
		}
		port := r.body["port"].(map[string]any)
		return alloc{ips(port)[0], port["mac_address"].(string)}, nil
	})
	ipSeen, macSeen := map[string]bool{}, map[string]bool{}
	for i, e := range errs {
		if e != nil {
			t.Fatal(e)
		}
		if ipSeen[got[i].ip] || macSeen[got[i].mac] {
			t.Fatalf("duplicate allocation %v", got[i])
		}
		ipSeen[got[i].ip], macSeen[got[i].mac] = true, true
	}
	// Dense: exactly .2 to .201 of the fresh subnet (10.20.0.2-10.20.0.201).
	for i := range n {
		ip := fmt.Sprintf("10.20.0.%d", i+2)
		if !ipSeen[ip] {
			t.Fatalf("%s not handed out: allocation is not lowest-first", ip)
		}
	}
	// The store agrees: exactly one port per address.
	listed := call(t, p, "GET", "/v2.0/ports?network_id="+netID, nil).want(t, 200).list(t, "ports")
	if len(listed) != n {
		t.Fatalf("%d ports listed, want %d", len(listed), n)
	}
}
