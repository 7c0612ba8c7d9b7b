// Package bench holds vland's data-plane benchmarks, run on a real lab
// (internal/lab): port bring-up latency on 3 hosts (port create -> ACTIVE
// and -> first ping across a VXLAN tunnel, with OpenFlow flow counts) and
// VM-to-VM TCP throughput next to a plain veth pair, and security groups
// at scale (flows, rule create -> enforcement, agent CPU, throughput with
// the firewall on and off). They print every
// result on a "FIGURE:" line. Run them with
//
//	go test -run '^$' -bench . -benchtime 1x -timeout 30m ./test/bench
//
// VLAND_BINARY=PATH runs a prebuilt vland instead of building
// ./cmd/vland. VLAND_BENCH_VMS and VLAND_BENCH_CONCURRENCY change the
// bring-up's 100 VMs, 4 at a time.
//
// With VLAND_BENCH_LOGS=DIR the agents log at debug level (Apply
// durations) and the lab's logs are copied to DIR before it goes down.
//
// Plain `go test ./test/bench` runs only a small test that exercises the
// same measurement code on 6 VMs.
package bench
