package ovsdb_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/database/inmemory"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/server"

	"github.com/vland/vland/internal/ovs/ovsdb"
	"github.com/vland/vland/internal/ovs/ovsdb/vswitchd"
)

// memServer serves the Open_vSwitch schema from libovsdb's in-memory
// server (no root, no OVS) with the root row present, as `ovs-vsctl init`
// leaves it. It has no ovs-vswitchd (no ofports) and no garbage collection
// of unreferenced rows, so it suits create/update logic, not deletes.
func memServer(t *testing.T) string {
	t.Helper()
	full, err := vswitchd.FullDatabaseModel()
	if err != nil {
		t.Fatal(err)
	}
	lg := logr.Discard()
	dbModel, errs := model.NewDatabaseModel(vswitchd.Schema(), full)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	srv, err := server.NewOvsdbServer(inmemory.NewDatabase(map[string]model.ClientDBModel{"Open_vSwitch": full}, &lg), &lg, dbModel)
	if err != nil {
		t.Fatal(err)
	}
	sock := t.TempDir() + "/db.sock"
	go srv.Serve("unix", sock)
	t.Cleanup(srv.Close)
	deadline := time.Now().Add(2 * time.Second)
	for !srv.Ready() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	// Insert the root row with a plain libovsdb client.
	cl, err := client.NewOVSDBClient(full, client.WithEndpoint("unix:"+sock))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ops, err := cl.Create(&vswitchd.OpenvSwitch{UUID: "root"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Transact(context.Background(), ops...); err != nil {
		t.Fatal(err)
	}
	return "unix:" + sock
}

func TestEnsureSemanticsInMemory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := ovsdb.Connect(ctx, memServer(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.EnsureBridge(ctx, "br-int", ovsdb.BridgeOptions{DatapathType: "netdev", ExternalIDs: map[string]string{"a": "1"}}); err != nil {
		t.Fatal(err)
	}
	// Merge: a second writer's key survives; FailMode is added.
	if err := c.EnsureBridge(ctx, "br-int", ovsdb.BridgeOptions{FailMode: "secure", ExternalIDs: map[string]string{"b": "2"}}); err != nil {
		t.Fatal(err)
	}
	br, err := c.GetBridge(ctx, "br-int")
	if err != nil || br.ExternalIDs["a"] != "1" || br.ExternalIDs["b"] != "2" || br.FailMode != "secure" || br.DatapathType != "netdev" {
		t.Fatalf("bridge = %+v, %v", br, err)
	}
	tag := 3
	spec := ovsdb.PortSpec{Type: "vxlan", Options: map[string]string{"remote_ip": "192.0.2.1", "key": "flow"}, Tag: &tag,
		ExternalIDs: map[string]string{"vland-owner": "t"}}
	if err := c.EnsurePort(ctx, "br-int", "vx1", spec); err != nil {
		t.Fatal(err)
	}
	// Options are exact; nil Tag leaves the tag.
	spec.Options = map[string]string{"remote_ip": "192.0.2.2"}
	spec.Tag = nil
	if err := c.EnsurePort(ctx, "br-int", "vx1", spec); err != nil {
		t.Fatal(err)
	}
	p, err := c.GetPort(ctx, "vx1")
	if err != nil || p.Type != "vxlan" || len(p.Options) != 1 || p.Options["remote_ip"] != "192.0.2.2" ||
		p.Tag == nil || *p.Tag != 3 || p.Bridge != "br-int" || p.OFPort != 0 {
		t.Fatalf("port = %+v, %v", p, err)
	}
	ports, err := c.ListPorts(ctx, "br-int")
	if err != nil || names(ports) != "br-int,vx1" {
		t.Fatalf("ports %q %v", names(ports), err)
	}
}
