package service

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/store"
)

// Tags (Neutron's standard-attr-tag). A resource keeps its tags in its own
// stored object, so a tag change is one conditional write of that object,
// which also bumps revision_number and updated_at as Neutron does for tag
// changes. Reading tags needs the resource's get policy, changing them its
// update policy. A kind of resource opts in with an entry in taggables.

// MaxTagLen is Neutron's MAX_TAG_LEN.
const MaxTagLen = 255

// ErrTagNotFound: the resource does not have the tag (404 TagNotFound).
var ErrTagNotFound = errors.New("service: tag not found")

// taggable is how tag operations reach one kind of resource (T is its
// stored type).
type taggable[T any] struct {
	key func(id string) string
	// find returns the resource if the caller may see it (else the kind's
	// NotFound) and, when write is set, also update it (else forbidden).
	find func(s *Service, who identity.Identity, id string, write bool) (versioned[T], error)
	// std points at the standard attributes a tag change touches.
	std func(*T) (tags *[]string, revision *int64, updatedAt *string)
	// write, if set, is the write of a changed object (old: as stored);
	// otherwise the object is put at its key.
	write func(old, obj *T) []store.Op
}

// tagger is a taggable of any stored type.
type tagger interface {
	read(s *Service, who identity.Identity, id string) ([]string, error)
	change(ctx context.Context, s *Service, who identity.Identity, id string, edit func([]string) ([]string, error)) ([]string, error)
}

// taggables are the taggable collections, by plural name (as in URLs).
var taggables = map[string]tagger{
	"networks": taggable[storedNetwork]{
		key: store.NetworkKey,
		find: func(s *Service, who identity.Identity, id string, write bool) (versioned[storedNetwork], error) {
			if write {
				return s.writableNetwork(who, id, "update_network")
			}
			v, ok := s.cache.network(id)
			if !ok || !canSeeNetwork(who, &v.obj) {
				return v, networkNotFound(id)
			}
			return v, nil
		},
		std: func(n *storedNetwork) (*[]string, *int64, *string) { return &n.Tags, &n.RevisionNumber, &n.UpdatedAt },
	},
	"subnets": taggable[storedSubnet]{
		key: store.SubnetKey,
		find: func(s *Service, who identity.Identity, id string, write bool) (versioned[storedSubnet], error) {
			if write {
				return s.writableSubnet(who, id, "update_subnet")
			}
			v, ok := s.cache.subnet(id)
			if !ok || !s.subnetVisible(who, &v.obj.Subnet) {
				return v, subnetNotFound(id)
			}
			return v, nil
		},
		std: func(n *storedSubnet) (*[]string, *int64, *string) { return &n.Tags, &n.RevisionNumber, &n.UpdatedAt },
	},
	"ports": taggable[storedPort]{
		key: store.PortKey,
		find: func(s *Service, who identity.Identity, id string, write bool) (versioned[storedPort], error) {
			v, ok := s.cache.port(id)
			if !ok || !s.portVisible(who, &v.obj.Port) {
				return v, portNotFound(id)
			}
			if write && !canUpdatePort(who, &v.obj.Port) {
				return v, forbidden("update_port")
			}
			return v, nil
		},
		std:   func(p *storedPort) (*[]string, *int64, *string) { return &p.Tags, &p.RevisionNumber, &p.UpdatedAt },
		write: func(old, p *storedPort) []store.Op { return storedPortOps(&old.Port, p) },
	},
}

func (k taggable[T]) read(s *Service, who identity.Identity, id string) ([]string, error) {
	v, err := k.find(s, who, id, false)
	if err != nil {
		return nil, err
	}
	tags, _, _ := k.std(&v.obj)
	return slices.Clone(nonNil(*tags)), nil
}

func (k taggable[T]) change(ctx context.Context, s *Service, who identity.Identity, id string,
	edit func([]string) ([]string, error)) ([]string, error) {
	var out []string
	err := s.retry(ctx, func() error {
		v, err := k.find(s, who, id, true)
		if err != nil {
			return err
		}
		obj := v.obj
		tags, rev, updated := k.std(&obj)
		next, err := edit(slices.Clone(nonNil(*tags)))
		if err != nil {
			return err
		}
		out = next
		if sameTags(*tags, next) {
			return nil // nothing changes, nothing is written (no revision bump)
		}
		*tags, *rev, *updated = next, *rev+1, s.timestamp()
		key := k.key(id)
		ops := []store.Op{{Key: key, Value: mustJSON(obj)}}
		if k.write != nil {
			ops = k.write(&v.obj, &obj)
		}
		_, err = s.txn(ctx, []store.Cond{{Key: key, ModRevision: v.rev}}, ops)
		return err
	})
	return out, err
}

// taggableKind returns the tagger of a collection (the transport routes
// only taggable ones).
func taggableKind(resource string) (tagger, error) {
	k, ok := taggables[resource]
	if !ok {
		return nil, fmt.Errorf("service: %s are not taggable", resource)
	}
	return k, nil
}

// Tags returns the tags of one resource of a taggable collection.
func (s *Service) Tags(ctx context.Context, resource, id string) ([]string, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	k, err := taggableKind(resource)
	if err != nil {
		return nil, err
	}
	return k.read(s, who, id)
}

// HasTag is nil if the resource has the tag, else TagNotFound.
func (s *Service) HasTag(ctx context.Context, resource, id, tag string) error {
	if err := checkTag(tag); err != nil {
		return err
	}
	tags, err := s.Tags(ctx, resource, id)
	if err != nil {
		return err
	}
	if !slices.Contains(tags, tag) {
		return tagNotFound(tag)
	}
	return nil
}

// ReplaceTags sets the tags of a resource to exactly tags (none: remove
// every tag) and returns them.
func (s *Service) ReplaceTags(ctx context.Context, resource, id string, tags []string) ([]string, error) {
	if err := CheckTags(tags); err != nil {
		return nil, err
	}
	return s.changeTags(ctx, resource, id, func([]string) ([]string, error) { return nonNil(slices.Clone(tags)), nil })
}

// AddTag adds one tag (having it already is no change).
func (s *Service) AddTag(ctx context.Context, resource, id, tag string) error {
	if err := checkTag(tag); err != nil {
		return err
	}
	_, err := s.changeTags(ctx, resource, id, func(have []string) ([]string, error) {
		if slices.Contains(have, tag) {
			return have, nil
		}
		return append(have, tag), nil
	})
	return err
}

// RemoveTag removes one tag; TagNotFound if the resource lacks it.
func (s *Service) RemoveTag(ctx context.Context, resource, id, tag string) error {
	if err := checkTag(tag); err != nil {
		return err
	}
	_, err := s.changeTags(ctx, resource, id, func(have []string) ([]string, error) {
		i := slices.Index(have, tag)
		if i < 0 {
			return nil, tagNotFound(tag)
		}
		return slices.Delete(have, i, i+1), nil
	})
	return err
}

func (s *Service) changeTags(ctx context.Context, resource, id string, edit func([]string) ([]string, error)) ([]string, error) {
	who, err := s.syncedCaller(ctx)
	if err != nil {
		return nil, err
	}
	k, err := taggableKind(resource)
	if err != nil {
		return nil, err
	}
	return k.change(ctx, s, who, id, edit)
}

// CheckTags is Neutron's validate_list_of_unique_strings(MAX_TAG_LEN).
func CheckTags(tags []string) error {
	seen := map[string]bool{}
	for _, t := range tags {
		if err := checkTag(t); err != nil {
			return err
		}
		if seen[t] {
			return fault.InvalidInput("Duplicate items in the list: '%s'", t)
		}
		seen[t] = true
	}
	return nil
}

func checkTag(tag string) error {
	if len(tag) > MaxTagLen {
		return fault.InvalidInput("'%s' exceeds maximum length of %d", tag, MaxTagLen)
	}
	return nil
}

// createTags are the tags a create request sets (tag-creation).
func createTags(r Opt[[]string]) ([]string, error) {
	tags := nonNil(slices.Clone(r.or(nil)))
	return tags, CheckTags(tags)
}

// sameTags compares tag lists as sets (tags have no order in Neutron).
func sameTags(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, t := range a {
		if !slices.Contains(b, t) {
			return false
		}
	}
	return true
}

func tagNotFound(tag string) error {
	return fault.New(ErrTagNotFound, "Tag %s could not be found.", tag)
}
