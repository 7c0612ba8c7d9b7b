package main

import (
	"testing"

	"github.com/vland/vland/internal/keystone"
	"github.com/vland/vland/internal/segment"
)

func TestServerFlagsToConfig(t *testing.T) {
	f := serverFlags{listen: "127.0.0.1:0", dataDir: "/tmp/x", auth: "noauth", tenantTypes: "vxlan,gre",
		vniRanges: "1000:2000", tunnelIDRanges: "1:10", geneveVNIs: "", vlanRanges: "physnet1:100:200,physnet2",
		flatNetworks: "*", physnetMTU: 9000, etcdEndpoints: []string{"http://a:2379", "http://b:2379"}}
	cfg, err := f.config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth != keystone.ModeNoAuth || len(cfg.EtcdEndpoints) != 2 || cfg.Segments.GlobalPhysnetMTU != 9000 ||
		len(cfg.Segments.TenantNetworkTypes) != 2 || cfg.Segments.TunnelIDRanges[0] != (segment.Range{Min: 1, Max: 10}) ||
		len(cfg.Segments.NetworkVLANRanges) != 2 || cfg.Segments.FlatNetworks[0] != "*" {
		t.Fatalf("config %+v", cfg)
	}
	for name, bad := range map[string]serverFlags{
		"auth":  {auth: "bogus", physnetMTU: 1500},
		"vni":   {auth: "noauth", vniRanges: "2000:1000", physnetMTU: 1500},
		"vlan":  {auth: "noauth", vlanRanges: "physnet1:1:5000", physnetMTU: 1500},
		"types": {auth: "noauth", tenantTypes: "flat", physnetMTU: 1500},
	} {
		if _, err := bad.config(); err == nil {
			t.Errorf("%s: bad flags accepted", name)
		}
	}
}
