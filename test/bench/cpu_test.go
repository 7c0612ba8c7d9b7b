package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat; 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// labCPU samples, over d, the CPU used by each kind of lab process (those
// whose command line mentions dir: server, agents, ovs-vswitchd,
// ovsdb-server), in percent of one core. It shows what a lab at rest costs.
func labCPU(dir string, d time.Duration) map[string]float64 {
	before := labTicks(dir)
	time.Sleep(d)
	after := labTicks(dir)
	out := map[string]float64{}
	for pid, a := range after {
		if b, ok := before[pid]; ok {
			out[a.kind] += float64(a.ticks-b.ticks) / clockTicks / d.Seconds() * 100
		}
	}
	return out
}

type procTicks struct {
	kind  string
	ticks int64
}

func labTicks(dir string) map[int]procTicks {
	out := map[int]procTicks{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmd, []byte(dir+"/")) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the ")" closing comm: state is field 3, utime 14, stime 15.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = procTicks{kind: procKind(cmd), ticks: ut + st}
	}
	return out
}

// pidCPU is the CPU time a process used so far (0 if it is gone).
func pidCPU(pid int) time.Duration {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

func procKind(cmdline []byte) string {
	args := strings.Split(string(cmdline), "\x00")
	name := filepath.Base(args[0])
	if name == "vland" && len(args) > 1 {
		return "vland " + args[1]
	}
	return name
}

func sortedKinds(m map[string]float64) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
