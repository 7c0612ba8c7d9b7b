package api

// Quota is a project's limits (Neutron's quotas extension); -1 is
// unlimited. ProjectID and TenantID are set only in the list of
// non-default quotas.
type Quota struct {
	ProjectID  string `json:"project_id,omitempty"`
	TenantID   string `json:"tenant_id,omitempty"`
	Network    int    `json:"network"`
	Subnet     int    `json:"subnet"`
	Port       int    `json:"port"`
	Router     int    `json:"router"`
	FloatingIP int    `json:"floatingip"`
	// Security groups and their rules (Neutron's defaults 10 and 100).
	SecurityGroup     int `json:"security_group"`
	SecurityGroupRule int `json:"security_group_rule"`
}

// QuotaUsage is one resource's line of GET /v2.0/quotas/{id}/details.
type QuotaUsage struct {
	Limit    int `json:"limit"`
	Used     int `json:"used"`
	Reserved int `json:"reserved"`
}

// QuotaDetails is GET /v2.0/quotas/{id}/details (quota_details extension).
type QuotaDetails struct {
	Network    QuotaUsage `json:"network"`
	Subnet     QuotaUsage `json:"subnet"`
	Port       QuotaUsage `json:"port"`
	Router     QuotaUsage `json:"router"`
	FloatingIP QuotaUsage `json:"floatingip"`

	SecurityGroup     QuotaUsage `json:"security_group"`
	SecurityGroupRule QuotaUsage `json:"security_group_rule"`
}
