package client

import (
	"context"
	"net/url"

	"github.com/vland/vland/api"
)

var (
	secGroups = resource[api.SecurityGroup]{single: "security_group", plural: "security_groups", coll: "security-groups",
		name: func(g api.SecurityGroup) string { return g.Name }}
	secGroupRules = resource[api.SecurityGroupRule]{single: "security_group_rule", plural: "security_group_rules",
		coll: "security-group-rules", name: func(api.SecurityGroupRule) string { return "" }}
)

// SecurityGroupCreate is the body of a security group create.
type SecurityGroupCreate struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	ProjectID   string   `json:"project_id,omitempty"`
	Stateful    *bool    `json:"stateful,omitempty"`
	Tags        []string `json:"tags,omitempty"`
}

// SecurityGroupUpdate changes the fields set.
type SecurityGroupUpdate struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
	Stateful    *bool   `json:"stateful,omitempty"`
}

// SecurityGroupRuleCreate is the body of a rule create. Protocol is a
// name or a number ("" any); the port range holds the ICMP type and code
// for ICMP.
type SecurityGroupRuleCreate struct {
	SecurityGroupID string `json:"security_group_id"`
	Direction       string `json:"direction"`
	Ethertype       string `json:"ethertype,omitempty"`
	Protocol        string `json:"protocol,omitempty"`
	PortRangeMin    *int   `json:"port_range_min,omitempty"`
	PortRangeMax    *int   `json:"port_range_max,omitempty"`
	RemoteIPPrefix  string `json:"remote_ip_prefix,omitempty"`
	RemoteGroupID   string `json:"remote_group_id,omitempty"`
	Description     string `json:"description,omitempty"`
	ProjectID       string `json:"project_id,omitempty"`
}

// CreateSecurityGroup creates a group (POST /v2.0/security-groups).
func (c *Client) CreateSecurityGroup(ctx context.Context, req SecurityGroupCreate) (api.SecurityGroup, error) {
	return secGroups.create(ctx, c, req)
}

// ListSecurityGroups lists the groups matching filters.
func (c *Client) ListSecurityGroups(ctx context.Context, filters url.Values) ([]api.SecurityGroup, error) {
	return secGroups.list(ctx, c, filters)
}

// FindSecurityGroup resolves a group by ID or unique name.
func (c *Client) FindSecurityGroup(ctx context.Context, nameOrID string) (api.SecurityGroup, error) {
	return secGroups.find(ctx, c, nameOrID)
}

// UpdateSecurityGroup changes the fields set in req.
func (c *Client) UpdateSecurityGroup(ctx context.Context, id string, req SecurityGroupUpdate) (api.SecurityGroup, error) {
	return secGroups.update(ctx, c, id, req)
}

// DeleteSecurityGroup deletes a group by ID.
func (c *Client) DeleteSecurityGroup(ctx context.Context, id string) error {
	return secGroups.delete(ctx, c, id)
}

// CreateSecurityGroupRule creates a rule.
func (c *Client) CreateSecurityGroupRule(ctx context.Context, req SecurityGroupRuleCreate) (api.SecurityGroupRule, error) {
	return secGroupRules.create(ctx, c, req)
}

// ListSecurityGroupRules lists the rules matching filters.
func (c *Client) ListSecurityGroupRules(ctx context.Context, filters url.Values) ([]api.SecurityGroupRule, error) {
	return secGroupRules.list(ctx, c, filters)
}

// GetSecurityGroupRule reads a rule by ID (rules have no names).
func (c *Client) GetSecurityGroupRule(ctx context.Context, id string) (api.SecurityGroupRule, error) {
	return secGroupRules.get(ctx, c, id)
}

// DeleteSecurityGroupRule deletes a rule by ID.
func (c *Client) DeleteSecurityGroupRule(ctx context.Context, id string) error {
	return secGroupRules.delete(ctx, c, id)
}
