package agent

import (
	"encoding/json"

	"github.com/vland/vland/api"
)

// portFields is the part of a port the agent and its services read; the
// cache decodes ports through it. A host keeps every port of its networks
// (1,000 ports on 10 networks across 3 hosts: every one on every host), so
// the free-form maps (binding:vif_details, binding:profile), timestamps,
// names, descriptions, tags and DNS assignments it never reads would cost
// memory on every host, and again in every snapshot. A field read later
// has to be added here (TestPortFieldsKeepsWhatIsRead lists them).
type portFields struct {
	ID                  string            `json:"id"`
	ProjectID           string            `json:"project_id"`
	NetworkID           string            `json:"network_id"`
	MACAddress          string            `json:"mac_address"`
	FixedIPs            []api.FixedIP     `json:"fixed_ips"`
	DeviceID            string            `json:"device_id"`
	DeviceOwner         string            `json:"device_owner"`
	AdminStateUp        bool              `json:"admin_state_up"`
	PortSecurityEnabled bool              `json:"port_security_enabled"`
	SecurityGroups      []string          `json:"security_groups"`
	AllowedAddressPairs []api.AddressPair `json:"allowed_address_pairs"`
	BindingHostID       string            `json:"binding:host_id"`
	ExtraDHCPOpts       []map[string]any  `json:"extra_dhcp_opts"`
	DNSName             string            `json:"dns_name"`
}

// decodePort decodes the fields of a port the agent reads.
func decodePort(b []byte) (api.Port, error) {
	var f portFields
	if err := json.Unmarshal(b, &f); err != nil {
		return api.Port{}, err
	}
	return api.Port{
		ID: f.ID, ProjectID: f.ProjectID, NetworkID: f.NetworkID, MACAddress: f.MACAddress, FixedIPs: f.FixedIPs,
		DeviceID: f.DeviceID, DeviceOwner: f.DeviceOwner, AdminStateUp: f.AdminStateUp,
		PortSecurityEnabled: f.PortSecurityEnabled, SecurityGroups: f.SecurityGroups,
		AllowedAddressPairs: f.AllowedAddressPairs, BindingHostID: f.BindingHostID,
		ExtraDHCPOpts: f.ExtraDHCPOpts, DNSName: f.DNSName,
	}, nil
}
