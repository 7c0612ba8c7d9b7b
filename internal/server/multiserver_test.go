package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/vland/vland/internal/keystone"
	"github.com/vland/vland/internal/server"
)

// TestTwoServersShareOneStore runs a second server on the first one's etcd:
// what one writes the other reads at once, and port creates spread over
// both never share an address or MAC.
func TestTwoServersShareOneStore(t *testing.T) {
	second, err := server.New(context.Background(), server.Config{
		Listen: "127.0.0.1:0", EtcdEndpoints: srv.EtcdEndpoints(), Auth: keystone.ModeNoAuth,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	second.Start()
	t.Cleanup(func() { _ = second.Close() })
	a := member("proj-two")
	b := a
	b.url = second.URL()

	netID := mkNetwork(t, a, map[string]any{"name": "two"})["id"].(string)
	call(t, b, "GET", "/v2.0/networks/"+netID, nil).want(t, 200)
	mkSubnet(t, b, netID, "10.70.0.0/24", nil)
	const n = 100
	got, errs := parallel(n, func(i int) ([2]string, error) {
		who := a
		if i%2 == 1 {
			who = b
		}
		r := call(t, who, "POST", "/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netID}})
		if r.status != 201 {
			return [2]string{}, fmt.Errorf("status %d: %s", r.status, r.raw)
		}
		p := r.body["port"].(map[string]any)
		return [2]string{ips(p)[0], p["mac_address"].(string)}, nil
	})
	seen := map[string]bool{}
	for i, e := range errs {
		if e != nil {
			t.Fatal(e)
		}
		for _, v := range got[i] {
			if seen[v] {
				t.Fatalf("%s handed out twice", v)
			}
			seen[v] = true
		}
	}
	// A network deleted through one server is gone on the other.
	other := mkNetwork(t, b, map[string]any{"name": "gone"})["id"].(string)
	call(t, a, "DELETE", "/v2.0/networks/"+other, nil).want(t, 204)
	call(t, b, "GET", "/v2.0/networks/"+other, nil).wantError(t, 404, "NetworkNotFound")
}
