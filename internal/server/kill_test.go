package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// vlandBinary is $VLAND_BINARY, else ./cmd/vland built into a temp dir.
func vlandBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("VLAND_BINARY"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	bin := filepath.Join(t.TempDir(), "vland")
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/vland")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/vland: %v\n%s", err, out)
	}
	return bin
}

// serverProc is a `vland server` subprocess on its own data dir.
type serverProc struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
}

func startProc(t *testing.T, bin, dataDir, listen string) *serverProc {
	t.Helper()
	p := &serverProc{url: "http://" + listen, stderr: &bytes.Buffer{}}
	// --etcd-max-txn-ops 24 makes every network with its DHCP ports too
	// big for one transaction, so deletes take the marked, multi-step path.
	p.cmd = exec.Command(bin, "server", "--listen", listen, "--data-dir", dataDir, "--auth", "noauth",
		"--etcd-client-url", "", "--etcd-max-txn-ops", "24", "--quota-network", "-1", "--quota-subnet", "-1", "--quota-port", "-1")
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		// The answer must be vland's version document: a free port picked
		// by freeAddr may have been taken meanwhile by another process's
		// server (another test's etcd), and then ours never listens.
		if resp, err := http.Get(p.url + "/"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`"versions"`)) {
				return p
			}
		}
	}
	t.Fatalf("vland server did not come up: %s", p.stderr)
	return nil
}

func (p *serverProc) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestKillDuringDeletesRecovers runs a real `vland server`, kills it with
// SIGKILL while it deletes networks (each a multi-step delete), starts it
// again on the same data, and checks that every network is either gone
// without a trace or fully usable.
func TestKillDuringDeletesRecovers(t *testing.T) {
	const n = 30
	bin := vlandBinary(t)
	dir, listen := t.TempDir(), freeAddr(t)
	proc := startProc(t, bin, dir, listen)
	who := caller{url: proc.url, project: "proj-kill"}
	ids := make([]string, n)
	for i := range ids {
		f := mkNetFixture(t, who, fmt.Sprintf("kill-%d", i), fmt.Sprintf("10.90.%d.0/24", i), 10)
		ids[i] = f.id
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	sem := make(chan struct{}, 10)
	killed := make(chan struct{})
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-killed:
				return
			}
			defer func() { <-sem }()
			req, _ := http.NewRequest("DELETE", proc.url+"/v2.0/networks/"+id, nil)
			req.Header.Set("X-Project-Id", "proj-kill")
			req.Header.Set("X-Roles", "member")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				mu.Lock()
				done++
				if done == 3 {
					proc.kill()
					close(killed)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	proc.kill()
	proc = startProc(t, bin, dir, listen)
	recovered := strings.Count(proc.stderr.String(), "recovered a network delete left by a crash")
	counts := map[string]int{}
	for _, id := range ids {
		counts[procState(t, who, id)]++
	}
	t.Logf("%d deletes answered before SIGKILL; after restart: %v; %d marked deletes finished by start-up recovery", done, counts, recovered)
	if counts["half-deleted"] > 0 {
		t.Fatalf("%d of %d networks half-deleted after kill -9", counts["half-deleted"], n)
	}
}

// procState is netFixture.state over HTTP only: a 404 network must have
// no subnets or ports left.
func procState(t *testing.T, who caller, id string) string {
	t.Helper()
	switch call(t, who, "GET", "/v2.0/networks/"+id, nil).status {
	case 404:
		subs := call(t, who, "GET", "/v2.0/subnets?network_id="+id, nil).want(t, 200).list(t, "subnets")
		ports := call(t, who, "GET", "/v2.0/ports?network_id="+id, nil).want(t, 200).list(t, "ports")
		if len(subs)+len(ports) > 0 {
			return "half-deleted"
		}
		return "gone"
	case 200:
		r := call(t, who, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": id}})
		if r.status != 201 {
			return "half-deleted"
		}
		return "usable"
	}
	return "half-deleted"
}
