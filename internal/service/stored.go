package service

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
)

// storedNetwork is a network as it lives in the store: the api type (which
// every reader decodes) plus server-private fields that readers ignore.
// Deleting marks a network whose delete is too big for one transaction
// and is in progress: port and subnet creates see it and answer 404, and
// start-up recovery finishes the delete if the server died midway.
// QuotaSlot is the quota slot key the resource holds. RBAC are the
// network's RBAC policies (see rbac.go; nil only in networks written
// before vland had them).
type storedNetwork struct {
	api.Network
	Deleting  bool        `json:"vland:deleting,omitempty"`
	QuotaSlot string      `json:"vland:quota_slot,omitempty"`
	RBAC      []rbacEntry `json:"vland:rbac"`
}

// storedSubnet: see storedNetwork. Subnets are deleted in one transaction
// and never marked any more; a mark written by an older server is cleared
// at start-up.
type storedSubnet struct {
	api.Subnet
	Deleting  bool   `json:"vland:deleting,omitempty"`
	QuotaSlot string `json:"vland:quota_slot,omitempty"`
}

// storedPort: see storedNetwork. Bulk names the bulk create the port
// belongs to; while that bulk's key exists the port is invisible. SGSet
// says its security groups were checked (ports of servers before security
// groups are migrated at start-up, see secgroup_ports.go).
type storedPort struct {
	api.Port
	QuotaSlot string `json:"vland:quota_slot,omitempty"`
	Bulk      string `json:"vland:bulk,omitempty"`
	SGSet     bool   `json:"vland:sg_set,omitempty"`
}

// rootPrefix is the common prefix of every vland key (what the cache
// watches).
var rootPrefix = strings.TrimSuffix(store.NetworksPrefix, "networks/")

// writeTimeout bounds a delete or bulk create that runs on after its
// client went away.
const writeTimeout = 2 * time.Minute

// detach returns a context that keeps the request's values (identity) but
// not its cancellation: a delete or bulk create, once started, runs to
// completion or rolls back even if the client disconnects.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own api types are marshalled here; they always encode.
		panic("service: marshal: " + err.Error())
	}
	return b
}
