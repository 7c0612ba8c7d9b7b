package server_test

import (
	"fmt"
	"sync"
	"testing"
)

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

func TestConcurrentNetworkCreatesGetDistinctSegments(t *testing.T) {
	const n = 200
	type seg struct{ id, vni string }
	got, errs := parallel(n, func(i int) (seg, error) {
		r := call(t, admin, "POST", "/v2.0/networks", map[string]any{"network": map[string]any{"name": fmt.Sprintf("cc-%d", i)}})
		if r.status != 201 {
			return seg{}, fmt.Errorf("status %d: %s", r.status, r.raw)
		}
		n := r.body["network"].(map[string]any)
		return seg{n["id"].(string), fmt.Sprint(n["provider:segmentation_id"])}, nil
	})
	seen := map[string]bool{}
	for i, e := range errs {
		if e != nil {
			t.Fatal(e)
		}
		if seen[got[i].vni] {
			t.Fatalf("segment %s handed out twice", got[i].vni)
		}
		seen[got[i].vni] = true
	}
	_, errs = parallel(n, func(i int) (int, error) {
		r := call(t, admin, "DELETE", "/v2.0/networks/"+got[i].id, nil)
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
	netID := mkNetwork(t, p, map[string]any{"name": "conc"})["id"].(string)
	mkSubnet(t, p, netID, "10.20.0.0/22", nil)
	type alloc struct{ ip, mac string }
	got, errs := parallel(n, func(i int) (alloc, error) {
		r := call(t, p, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}})
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
	// The store agrees: exactly one port per address.
	listed := call(t, p, "GET", "/v2.0/ports?network_id="+netID, nil).want(t, 200).list(t, "ports")
	if len(listed) != n {
		t.Fatalf("%d ports listed, want %d", len(listed), n)
	}
}
