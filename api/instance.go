package api

// Instance is what vland knows of a compute instance (a VM) for the
// metadata service: Nova's part, which the lab (and any compute layer
// driving vland) writes through the admin-only /vland/instances API. A
// port belongs to the instance whose ID is the port's device_id.
type Instance struct {
	ID               string `json:"id"` // a UUID; ports name it in device_id
	Name             string `json:"name"`
	Hostname         string `json:"hostname"`
	ProjectID        string `json:"project_id"`
	AvailabilityZone string `json:"availability_zone"`
	// UserData is the instance's user data, as given (JSON: base64, as
	// Nova's API takes it); at most MaxUserData bytes.
	UserData []byte `json:"user_data,omitempty"`
	// Meta is Nova's server metadata ("meta" in meta_data.json).
	Meta      map[string]string `json:"meta,omitempty"`
	CreatedAt string            `json:"created_at,omitempty"`
}

// MaxUserData is Nova's limit on user data (65,535 bytes, before base64).
const MaxUserData = 65535
