package neutron

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vland/vland/internal/fault"
)

// decodeAll runs a body through the whole create decoding of every
// resource, as the handlers do.
func decodeAll(body string) []error {
	var errs []error
	for _, res := range []struct{ singular, plural string }{{"network", "networks"}, {"subnet", "subnets"}, {"port", "ports"}} {
		r := httptest.NewRequest("POST", "/v2.0/"+res.plural, strings.NewReader(body))
		rec := httptest.NewRecorder()
		r.Body = http.MaxBytesReader(rec, r.Body, MaxBodyBytes)
		parsed, err := readBody(r)
		if err == nil {
			objs, _, uerr := unwrap(parsed, res.singular, res.plural, true)
			err = uerr
			for _, it := range objs {
				if err != nil {
					break
				}
				switch res.singular {
				case "network":
					_, err = decodeAttrs(it, networkAttrs, true)
				case "subnet":
					_, err = decodeAttrs(it, subnetAttrs, true)
				case "port":
					_, err = decodeAttrs(it, portAttrs, true)
				}
			}
		}
		errs = append(errs, err)
	}
	return errs
}

// FuzzDecode: no input makes decoding panic, and every rejection is a
// client error (4xx) in Neutron's format.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"network": {"name": "n", "mtu": "1400", "admin_state_up": "True"}}`,
		`{"networks": [{"name": "a"}, {"shared": 1}]}`,
		`{"subnet": {"network_id": "x", "cidr": "10.0.0.0/24", "ip_version": "4", "gateway_ip": null,
		  "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.9"}], "host_routes": [{"destination": "0.0.0.0/0", "nexthop": "10.0.0.1"}]}}`,
		`{"port": {"network_id": "x", "fixed_ips": [{"subnet_id": "s", "ip_address": "10.0.0.5"}], "binding:profile": {"a": [1]},
		  "allowed_address_pairs": [{"ip_address": "10.0.0.0/24", "mac_address": "fa:16:3e:00:00:01"}], "security_groups": ["a", "b"]}}`,
		`{"port": {"fixed_ips": [null]}}`, `{"port": {"fixed_ips": [{"bogus": 1}]}}`, `{"port": null}`, `{"ports": [null]}`,
		`{"network": {"mtu": 1e400}}`, `{"network": {"mtu": -1.5}}`, `{"network": {"name": "\u0000"}}`,
		`[]`, `null`, `"x"`, `{`, ``, `{"network": {"provider:segmentation_id": null}}`,
		`{"subnet": {"dns_nameservers": ["a", "a"]}}`, `{"network": {"tenant_id": "a", "project_id": "b"}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, err := range decodeAll(body) {
			if err == nil {
				continue
			}
			var se *fault.Error
			if !errors.As(err, &se) {
				t.Fatalf("rejection %v is not a fault.Error", err)
			}
			rec := httptest.NewRecorder()
			writeError(rec, httptest.NewRequest("POST", "/", nil), err)
			if rec.Code < 400 || rec.Code >= 500 || !strings.Contains(rec.Body.String(), `"NeutronError"`) {
				t.Fatalf("rejection answered %d %s", rec.Code, rec.Body)
			}
		}
	})
}

func TestDecodeConversions(t *testing.T) {
	body := `{"network": {"name": "n", "mtu": "1400", "admin_state_up": "false", "shared": 1}}`
	r := httptest.NewRequest("POST", "/v2.0/networks", strings.NewReader(body))
	parsed, err := readBody(r)
	if err != nil {
		t.Fatal(err)
	}
	objs, bulk, err := unwrap(parsed, "network", "networks", true)
	if err != nil || bulk || len(objs) != 1 {
		t.Fatalf("unwrap: %v %v %v", objs, bulk, err)
	}
	req, err := decodeAttrs(objs[0], networkAttrs, true)
	if err != nil {
		t.Fatal(err)
	}
	if req.MTU.V != 1400 || !req.AdminStateUp.Set || req.AdminStateUp.V || !req.Shared.V || req.Name.V != "n" || req.External.Set {
		t.Fatalf("decoded %+v", req)
	}
	if _, err := decodeAttrs(objs[0], networkAttrs, false); err != nil {
		t.Fatalf("update of the same attributes: %v", err)
	}
	for body, want := range map[string]string{
		`{"network": {"foo": 1, "bar": 2}}`:  "Unrecognized attribute(s) 'bar, foo'",
		`{"network": {"status": "x"}}`:       "Attribute 'status' not allowed in POST",
		`{"network": {"mtu": "x"}}`:          "Invalid input for mtu. Reason: '\"x\"' is not an integer.",
		`{"network": {"admin_state_up": 2}}`: "Invalid input for admin_state_up. Reason: '2' cannot be converted to boolean.",
		`{"net": {}}`:                        "Unable to find 'network' in request body",
	} {
		errs := decodeAll(body)
		if errs[0] == nil || errs[0].Error() != want {
			t.Errorf("%s: got %v, want %q", body, errs[0], want)
		}
	}
}
