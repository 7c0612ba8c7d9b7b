package server_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPortCreate measures port creates over HTTP against embedded
// etcd with 16 concurrent clients: ports/s and latency percentiles.
func BenchmarkPortCreate(b *testing.B) {
	const clients = 16
	p := member("proj-bench")
	netID := mkNetwork(b, p, map[string]any{"name": "bench"})["id"].(string)
	mkSubnet(b, p, netID, "10.128.0.0/9", nil)
	body := map[string]any{"port": map[string]any{"network_id": netID}}
	lat := make([][]time.Duration, clients)
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				r := call(b, p, "POST", "/v2.0/ports", body)
				if r.status != 201 {
					b.Errorf("status %d: %s", r.status, r.raw)
					return
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "ports/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
}
