package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/keystone"
	"github.com/vland/vland/internal/segment"
	"github.com/vland/vland/internal/server"
	"github.com/vland/vland/internal/store"
)

// One real server (embedded etcd, noauth) serves every test of the
// package; tests isolate themselves by project id (X-Project-Id).
var srv *server.Server

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "vland-server-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	srv, err = server.New(context.Background(), server.Config{
		Listen: "127.0.0.1:0", DataDir: dir, Auth: keystone.ModeNoAuth, Segments: segments(),
		DefaultQuota: unlimited, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start server:", err)
		return 1
	}
	srv.Start()
	defer srv.Close()
	defer closeSecond()
	return m.Run()
}

// The second server shares srv's etcd, as a second API server of one
// deployment does; tests that need one start it on first use.
var (
	secondOnce sync.Once
	second     *server.Server
	secondErr  error
)

// onSecond returns who, acting through the second server.
func onSecond(t testing.TB, who caller) caller {
	t.Helper()
	secondOnce.Do(func() {
		second, secondErr = server.New(context.Background(), server.Config{
			Listen: "127.0.0.1:0", EtcdEndpoints: srv.EtcdEndpoints(), Auth: keystone.ModeNoAuth,
			EtcdUsername: srv.EtcdClient().Username, EtcdPassword: srv.EtcdClient().Password,
			Segments: segments(), DefaultQuota: unlimited, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if secondErr == nil {
			second.Start()
		}
	})
	if secondErr != nil {
		t.Fatalf("second server: %v", secondErr)
	}
	who.url = second.URL()
	return who
}

func closeSecond() {
	if second != nil {
		_ = second.Close()
	}
}

// unlimited is the test servers' default quota: tests create many
// resources in few projects; quota tests set their projects' limits.
var unlimited = api.Quota{Network: -1, Subnet: -1, Port: -1}

// segments is the type-driver configuration of the test servers.
func segments() segment.Config {
	segs := segment.DefaultConfig()
	segs.VNIRanges = []segment.Range{{Min: 1000, Max: 1600}}
	segs.NetworkVLANRanges = map[string][]segment.Range{"physnet1": {{Min: 100, Max: 200}}}
	segs.FlatNetworks = []string{"physnet1", "extnet"}
	return segs
}

// caller is who a test request acts as: a project (member) or admin.
type caller struct {
	project string
	admin   bool
	url     string // another server's URL; "" is srv
	roles   string // X-Roles; "" is member
}

var admin = caller{admin: true}

func member(project string) caller { return caller{project: project} }

// reply is one HTTP answer.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// call sends one request; body may be a string (sent verbatim) or a value
// (JSON-encoded).
func call(t testing.TB, who caller, method, path string, body any, hdr ...string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	base := srv.URL()
	if who.url != "" {
		base = who.url
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", "notused")
	if !who.admin {
		roles := who.roles
		if roles == "" {
			roles = "member"
		}
		req.Header.Set("X-Project-Id", who.project)
		req.Header.Set("X-Roles", roles)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %q", method, path, raw)
		}
	}
	return r
}

// want fails unless the reply has the status.
func (r reply) want(t testing.TB, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// obj returns the wrapped object under key.
func (r reply) obj(t testing.TB, key string) map[string]any {
	t.Helper()
	o, ok := r.body[key].(map[string]any)
	if !ok {
		t.Fatalf("no %q object in %s", key, r.raw)
	}
	return o
}

// list returns the wrapped list under key.
func (r reply) list(t testing.TB, key string) []map[string]any {
	t.Helper()
	l, ok := r.body[key].([]any)
	if !ok {
		t.Fatalf("no %q list in %s", key, r.raw)
	}
	out := make([]map[string]any, len(l))
	for i, e := range l {
		out[i], _ = e.(map[string]any)
	}
	return out
}

// neutronError checks the Neutron error body and returns its type.
func (r reply) neutronError(t testing.TB) string {
	t.Helper()
	e, ok := r.body["NeutronError"].(map[string]any)
	if !ok {
		t.Fatalf("status %d without NeutronError body: %s", r.status, r.raw)
	}
	for _, k := range []string{"type", "message", "detail"} {
		if _, ok := e[k].(string); !ok {
			t.Fatalf("NeutronError without string %q: %s", k, r.raw)
		}
	}
	return e["type"].(string)
}

// wantError checks status and Neutron error type.
func (r reply) wantError(t testing.TB, status int, typ string) {
	t.Helper()
	r.want(t, status)
	if got := r.neutronError(t); typ != "" && got != typ {
		t.Fatalf("error type %q, want %q: %s", got, typ, r.raw)
	}
}

// Helpers that create resources and return their ids.

func mkNetwork(t testing.TB, who caller, attrs map[string]any) map[string]any {
	t.Helper()
	return call(t, who, "POST", "/v2.0/networks", map[string]any{"network": attrs}).want(t, 201).obj(t, "network")
}

func mkSubnet(t testing.TB, who caller, netID, cidr string, extra map[string]any) map[string]any {
	t.Helper()
	attrs := map[string]any{"network_id": netID, "cidr": cidr, "ip_version": 4}
	for k, v := range extra {
		attrs[k] = v
	}
	return call(t, who, "POST", "/v2.0/subnets", map[string]any{"subnet": attrs}).want(t, 201).obj(t, "subnet")
}

func mkPort(t testing.TB, who caller, netID string, extra map[string]any) map[string]any {
	t.Helper()
	attrs := map[string]any{"network_id": netID}
	for k, v := range extra {
		attrs[k] = v
	}
	return call(t, who, "POST", "/v2.0/ports", map[string]any{"port": attrs}).want(t, 201).obj(t, "port")
}

// snapshot is every key and value under the vland prefix.
func snapshot(t testing.TB) map[string]string {
	t.Helper()
	kvs, _, err := srv.Store().List(context.Background(), strings.TrimSuffix(store.NetworksPrefix, "networks/"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, kv := range kvs {
		out[kv.Key] = fmt.Sprintf("%d %s", kv.ModRevision, kv.Value)
	}
	return out
}

func ips(p map[string]any) []string {
	var out []string
	for _, f := range p["fixed_ips"].([]any) {
		out = append(out, f.(map[string]any)["ip_address"].(string))
	}
	return out
}
