package dhcp

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/vland/vland/internal/netns"
	"github.com/vland/vland/internal/serviceport"
)

// The DHCP port's NIC is a service port (internal/serviceport):
// tapXXXXXXXXXXX on br-int and ns-XXXXXXXXXXX in qdhcp-<network>.

func nicName(portID string) string { return serviceport.Name("ns-", portID) }

// ownerKey marks a network's DHCP tap in its external_ids.
const ownerKey = "vland-dhcp-network"

// plug makes the namespace and the DHCP port's NIC match n: MAC, MTU,
// addresses (the metadata address too, if n serves it), up, plugged into
// br-int.
func (s *Server) plug(ctx context.Context, n Network) error {
	ns, err := netns.CreateAt(s.cfg.NetnsDir, NSPrefix+n.ID)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.netDir(n.ID), ifaceFile), []byte(n.Port.ID+"\n"), 0o644); err != nil {
		return fmt.Errorf("dhcp: %w", err)
	}
	addrs := n.Port.Addrs
	if n.Metadata {
		addrs = append(slices.Clone(addrs), metadataPrefix)
	}
	return s.bridge.Plug(ctx, serviceport.NIC{PortID: n.Port.ID, MAC: n.Port.MAC, MTU: n.MTU, Addrs: addrs,
		NS: ns, Name: nicName(n.Port.ID), Owner: serviceport.Owner{Key: ownerKey, ID: n.ID}})
}
