package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/store"
)

// Instances are the compute layer's records of VMs, kept for the metadata
// service (see docs/metadata.md): vland has no Nova, so whoever starts VMs
// (the lab) tells it each VM's name, hostname, project, availability zone
// and user data. Admin only: user data may hold secrets, and the metadata
// proxy hands it to the VM whose port's device_id is the instance id.
// Records are read and written straight in the store (no cache): they are
// few, and only the metadata proxies read them, from the agents.

var (
	ErrInstanceNotFound = errors.New("service: instance not found")
	ErrInstanceExists   = errors.New("service: instance exists")
)

// DefaultAvailabilityZone is Nova's default zone.
const DefaultAvailabilityZone = "nova"

var hostnameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

func instanceNotFound(id string) error {
	return fault.New(ErrInstanceNotFound, "Instance %s could not be found.", id)
}

// CreateInstance is POST /vland/instances: a new instance record. An
// empty id gets a UUID, an empty hostname the name (lower case, other
// characters as dashes), an empty project the caller's, an empty zone
// "nova".
func (s *Service) CreateInstance(ctx context.Context, in api.Instance) (api.Instance, error) {
	who, err := caller(ctx)
	if err != nil {
		return in, err
	}
	if !who.IsAdmin() {
		return in, forbidden("create_instance")
	}
	if in, err = instanceDefaults(in, who.ProjectID); err != nil {
		return in, err
	}
	in.CreatedAt = s.timestamp()
	b, err := json.Marshal(in)
	if err != nil {
		return in, err
	}
	_, err = s.st.Txn(ctx, []store.Cond{{Key: store.InstanceKey(in.ID)}},
		[]store.Op{{Key: store.InstanceKey(in.ID), Value: b}})
	if errors.Is(err, store.ErrConflict) {
		return in, fault.New(ErrInstanceExists, "Instance %s already exists.", in.ID)
	}
	if err != nil {
		return in, fmt.Errorf("service: create instance: %w", err)
	}
	return in, nil
}

// instanceDefaults validates a new instance and fills in its defaults.
func instanceDefaults(in api.Instance, project string) (api.Instance, error) {
	if in.ID == "" {
		in.ID = uuid.NewString()
	} else if u, err := uuid.Parse(in.ID); err != nil {
		return in, fault.BadAttr("id", "'%s' is not a valid UUID", in.ID)
	} else {
		in.ID = u.String()
	}
	if len(in.Name) > 255 {
		return in, fault.BadAttr("name", "'%s' exceeds maximum length of 255", in.Name)
	}
	if in.Hostname == "" {
		in.Hostname = sanitizeHostname(in.Name)
	}
	if !hostnameRE.MatchString(in.Hostname) || len(in.Hostname) > 255 {
		return in, fault.BadAttr("hostname", "'%s' is not a valid hostname", in.Hostname)
	}
	if in.ProjectID == "" {
		in.ProjectID = project
	}
	if in.AvailabilityZone == "" {
		in.AvailabilityZone = DefaultAvailabilityZone
	}
	if len(in.UserData) > api.MaxUserData {
		return in, fault.BadAttr("user_data", "%d bytes exceed the maximum of %d", len(in.UserData), api.MaxUserData)
	}
	return in, nil
}

// sanitizeHostname is Nova's default hostname for a name: lower case,
// anything but letters, digits and dashes as a dash, trimmed; "server"
// if nothing is left.
func sanitizeHostname(name string) string {
	h := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, name)
	h = strings.Trim(h, "-")
	if len(h) > 63 {
		h = strings.Trim(h[:63], "-")
	}
	if h == "" {
		return "server"
	}
	return h
}

// GetInstance is GET /vland/instances/{id}.
func (s *Service) GetInstance(ctx context.Context, id string) (api.Instance, error) {
	if err := s.instanceAdmin(ctx, "get_instance"); err != nil {
		return api.Instance{}, err
	}
	kv, err := s.st.Get(ctx, store.InstanceKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return api.Instance{}, instanceNotFound(id)
	}
	if err != nil {
		return api.Instance{}, fmt.Errorf("service: get instance: %w", err)
	}
	var in api.Instance
	return in, json.Unmarshal(kv.Value, &in)
}

// ListInstances is GET /vland/instances, by id.
func (s *Service) ListInstances(ctx context.Context) ([]api.Instance, error) {
	if err := s.instanceAdmin(ctx, "get_instance"); err != nil {
		return nil, err
	}
	kvs, _, err := s.st.List(ctx, store.InstancesPrefix)
	if err != nil {
		return nil, fmt.Errorf("service: list instances: %w", err)
	}
	out := make([]api.Instance, 0, len(kvs))
	for _, kv := range kvs {
		var in api.Instance
		if err := json.Unmarshal(kv.Value, &in); err != nil {
			return nil, fmt.Errorf("service: instance %s: %w", kv.Key, err)
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// DeleteInstance is DELETE /vland/instances/{id}. Its ports stay (Nova
// deletes them itself); the metadata service no longer answers for them.
func (s *Service) DeleteInstance(ctx context.Context, id string) error {
	if err := s.instanceAdmin(ctx, "delete_instance"); err != nil {
		return err
	}
	kv, err := s.st.Get(ctx, store.InstanceKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return instanceNotFound(id)
	}
	if err != nil {
		return fmt.Errorf("service: delete instance: %w", err)
	}
	_, err = s.st.Txn(ctx, []store.Cond{{Key: kv.Key, ModRevision: kv.ModRevision}},
		[]store.Op{{Key: kv.Key, Delete: true}})
	if errors.Is(err, store.ErrConflict) {
		return s.DeleteInstance(ctx, id)
	}
	return err
}

func (s *Service) instanceAdmin(ctx context.Context, rule string) error {
	who, err := caller(ctx)
	if err != nil {
		return err
	}
	if !who.IsAdmin() {
		return forbidden(rule)
	}
	return nil
}
