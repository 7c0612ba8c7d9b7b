package service

import (
	"encoding/json"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
)

// storedNetwork is a network as it lives in the store: the api type (which
// every reader decodes) plus server-private fields that readers ignore.
// Deleting marks a network whose delete is in progress, so port and subnet
// creates racing with the delete fail their revision condition and then
// see the mark.
type storedNetwork struct {
	api.Network
	Deleting bool `json:"vland:deleting,omitempty"`
}

// storedSubnet: see storedNetwork.
type storedSubnet struct {
	api.Subnet
	Deleting bool `json:"vland:deleting,omitempty"`
}

// rootPrefix is the common prefix of every vland key (what the cache
// watches).
var rootPrefix = strings.TrimSuffix(store.NetworksPrefix, "networks/")

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own api types are marshalled here; they always encode.
		panic("service: marshal: " + err.Error())
	}
	return b
}
