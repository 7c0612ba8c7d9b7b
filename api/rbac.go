package api

// RBACPolicy is a Neutron RBAC policy (extension rbac-policies): it grants
// the project TargetTenant ("*": every project) an Action on the object.
// vland knows one object type, "network".
type RBACPolicy struct {
	ID           string `json:"id"`
	ProjectID    string `json:"project_id"`
	TenantID     string `json:"tenant_id"`
	ObjectType   string `json:"object_type"`
	ObjectID     string `json:"object_id"`
	Action       string `json:"action"`
	TargetTenant string `json:"target_tenant"`
}

// RBAC object types, actions and the wildcard target.
const (
	RBACObjectNetwork  = "network"
	RBACAccessShared   = "access_as_shared"
	RBACAccessExternal = "access_as_external"
	RBACWildcard       = "*"
)
