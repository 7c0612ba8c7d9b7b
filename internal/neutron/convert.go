package neutron

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/vland/vland/internal/service"
)

// converter turns one attribute's raw JSON into a typed optional value,
// the way Neutron's convert_to_* and type validators do.
type converter[T any] func(name string, raw json.RawMessage) (service.Opt[T], error)

// bind makes a setter that converts into the field get returns.
func bind[R, T any](conv converter[T], get func(*R) *service.Opt[T]) setter[R] {
	return func(r *R, name string, raw json.RawMessage) error {
		v, err := conv(name, raw)
		if err != nil {
			return err
		}
		*get(r) = v
		return nil
	}
}

func invalid(name, format string, args ...any) error {
	return badRequest(fmt.Sprintf("Invalid input for %s. Reason: %s.", name, fmt.Sprintf(format, args...)))
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// shown renders a raw value for an error message, shortened.
func shown(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return s
}

// str accepts a JSON string of at most max bytes (0: unlimited); null only
// when nullable.
func str(max int, nullable bool) converter[string] {
	return func(name string, raw json.RawMessage) (service.Opt[string], error) {
		if isNull(raw) {
			if nullable {
				return service.Opt[string]{Set: true, Null: true}, nil
			}
			return service.Opt[string]{}, invalid(name, "'None' is not a valid string")
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return service.Opt[string]{}, invalid(name, "'%s' is not a valid string", shown(raw))
		}
		if max > 0 && len(s) > max {
			return service.Opt[string]{}, invalid(name, "'%s' exceeds maximum length of %d", shown(raw), max)
		}
		return service.Some(s), nil
	}
}

// boolean is convert_to_boolean: true/false, "true"/"false" in any case,
// "1"/"0" and 1/0.
func boolean(name string, raw json.RawMessage) (service.Opt[bool], error) {
	var v any
	if err := json.Unmarshal(raw, &v); err == nil {
		switch x := v.(type) {
		case bool:
			return service.Some(x), nil
		case string:
			if b, ok := parseBool(x); ok {
				return service.Some(b), nil
			}
		case float64:
			if x == 0 || x == 1 {
				return service.Some(x == 1), nil
			}
		}
	}
	return service.Opt[bool]{}, invalid(name, "'%s' cannot be converted to boolean", shown(raw))
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// integer is convert_to_int: a JSON integer or a string holding one (the
// openstack CLI sends --mtu as a string). null only when nullable.
func integer(nullable bool) converter[int] {
	return func(name string, raw json.RawMessage) (service.Opt[int], error) {
		if isNull(raw) && nullable {
			return service.Opt[int]{Set: true, Null: true}, nil
		}
		var v any
		if err := json.Unmarshal(raw, &v); err == nil {
			switch x := v.(type) {
			case float64:
				if x == math.Trunc(x) && math.Abs(x) <= 1<<53 {
					return service.Some(int(x)), nil
				}
			case string:
				if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
					return service.Some(int(n)), nil
				}
			}
		}
		return service.Opt[int]{}, invalid(name, "'%s' is not an integer", shown(raw))
	}
}

// strictJSON decodes raw into a T, rejecting unknown object keys and null.
func strictJSON[T any](what string) converter[T] {
	return func(name string, raw json.RawMessage) (service.Opt[T], error) {
		var v T
		if isNull(raw) {
			return service.Opt[T]{}, invalid(name, "'None' is not %s", what)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			return service.Opt[T]{}, invalid(name, "'%s' is not %s", shown(raw), what)
		}
		return service.Some(v), nil
	}
}

// strList is a list of strings without duplicates.
func strList(name string, raw json.RawMessage) (service.Opt[[]string], error) {
	v, err := strictJSON[[]string]("a list of strings")(name, raw)
	if err != nil {
		return v, err
	}
	seen := map[string]bool{}
	for _, s := range v.V {
		if seen[s] {
			return v, invalid(name, "Duplicate items in the list: '%s'", s)
		}
		seen[s] = true
	}
	if v.V == nil {
		v.V = []string{}
	}
	return v, nil
}

// dict is a JSON object (binding:profile).
func dict(name string, raw json.RawMessage) (service.Opt[map[string]any], error) {
	var m map[string]any
	if isNull(raw) {
		return service.Some(map[string]any{}), nil
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return service.Opt[map[string]any]{}, invalid(name, "'%s' is not a dictionary", shown(raw))
	}
	return service.Some(m), nil
}
