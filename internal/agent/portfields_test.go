package agent

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vland/vland/api"
)

// TestPortFieldsKeepsWhatIsRead: the cache keeps exactly the listed port
// fields, decoded as api.Port would decode them; every other field is
// dropped on purpose. A new api.Port field fails this test until it is
// put in one list (and in portFields if the agent or a service reads it).
func TestPortFieldsKeepsWhatIsRead(t *testing.T) {
	dropped := []string{"Name", "Description", "TenantID", "Status", "BindingVIFType", "BindingVIFDetails",
		"BindingVNICType", "BindingProfile", "Tags", "RevisionNumber", "CreatedAt", "UpdatedAt", "DNSAssignment"}
	full := api.Port{
		ID: "p1", Name: "n", Description: "d", ProjectID: "pr", TenantID: "pr", NetworkID: "net", MACAddress: "fa:16:3e:00:00:01",
		FixedIPs: []api.FixedIP{{SubnetID: "s", IPAddress: "10.0.0.5"}}, DeviceID: "dev", DeviceOwner: "compute:nova",
		AdminStateUp: true, Status: api.StatusActive, PortSecurityEnabled: true, SecurityGroups: []string{"g"},
		AllowedAddressPairs: []api.AddressPair{{IPAddress: "10.0.0.9", MACAddress: "fa:16:3e:00:00:02"}},
		BindingHostID:       "h1", BindingVIFType: api.VIFTypeOVS, BindingVIFDetails: map[string]any{"port_filter": true},
		BindingVNICType: "normal", BindingProfile: map[string]any{"k": "v"}, Tags: []string{"t"}, RevisionNumber: 3,
		CreatedAt: "c", UpdatedAt: "u", ExtraDHCPOpts: []map[string]any{{"opt_name": "mtu", "opt_value": "1400", "ip_version": float64(4)}},
		DNSName: "vm1", DNSAssignment: []api.DNSAssignment{{Hostname: "vm1", IPAddress: "10.0.0.5", FQDN: "vm1.example."}},
	}
	b, err := json.Marshal(full)
	require.NoError(t, err)
	got, err := decodePort(b)
	require.NoError(t, err)
	fv, gv := reflect.ValueOf(full), reflect.ValueOf(got)
	for i := range fv.NumField() {
		name := fv.Type().Field(i).Name
		require.False(t, fv.Field(i).IsZero(), "the fixture leaves %s empty", name)
		if slices.Contains(dropped, name) {
			require.True(t, gv.Field(i).IsZero(), "%s is dropped but was kept", name)
		} else {
			require.Equal(t, fv.Field(i).Interface(), gv.Field(i).Interface(), "%s is kept but was lost", name)
		}
	}
}
