package server_test

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInstancesAPI: /vland/instances is admin only (a member, even of the
// instance's project, gets 403: user data may hold secrets); creates fill
// defaults and refuse bad input (Neutron's error format), duplicates are
// 409, missing ones 404.
func TestInstancesAPI(t *testing.T) {
	const id = "0b4e4a4e-7d6c-4a39-9d2b-5f1d8c1e2a01"
	ud := base64.StdEncoding.EncodeToString([]byte("#cloud-config\n"))
	body := map[string]any{"instance": map[string]any{"id": id, "name": "Web Server_1", "project_id": "p-inst", "user_data": ud}}
	call(t, member("p-inst"), "POST", "/vland/instances", body).want(t, 403)
	in := call(t, admin, "POST", "/vland/instances", body).want(t, 201).obj(t, "instance")
	require.Equal(t, id, in["id"])
	require.Equal(t, "web-server-1", in["hostname"], "hostname from the name, as Nova")
	require.Equal(t, "nova", in["availability_zone"])
	require.Equal(t, ud, in["user_data"])
	t.Cleanup(func() { call(t, admin, "DELETE", "/vland/instances/"+id, nil) })

	r := call(t, admin, "POST", "/vland/instances", body).want(t, 409)
	require.Equal(t, "InstanceExists", r.obj(t, "NeutronError")["type"])
	got := call(t, admin, "GET", "/vland/instances/"+id, nil).want(t, 200).obj(t, "instance")
	require.Equal(t, "p-inst", got["project_id"])
	call(t, member("p-inst"), "GET", "/vland/instances/"+id, nil).want(t, 403)
	call(t, member("p-inst"), "GET", "/vland/instances", nil).want(t, 403)
	ids := []any{}
	for _, o := range call(t, admin, "GET", "/vland/instances", nil).want(t, 200).list(t, "instances") {
		ids = append(ids, o["id"])
	}
	require.Contains(t, ids, id)

	for _, bad := range []map[string]any{
		{"id": "not-a-uuid", "name": "x"},
		{"name": "x", "hostname": "bad_host"},
		{"name": "x", "user_data": "%%%"},   // not base64
		{"name": "x", "no_such_field": "1"}, // unknown attribute
	} {
		r := call(t, admin, "POST", "/vland/instances", map[string]any{"instance": bad}).want(t, 400)
		require.Equal(t, "HTTPBadRequest", r.obj(t, "NeutronError")["type"], "%v", bad)
	}
	big := base64.StdEncoding.EncodeToString(make([]byte, 65536))
	call(t, admin, "POST", "/vland/instances", map[string]any{"instance": map[string]any{"name": "x", "user_data": big}}).want(t, 400)

	call(t, member("p-inst"), "DELETE", "/vland/instances/"+id, nil).want(t, 403)
	call(t, admin, "DELETE", "/vland/instances/"+id, nil).want(t, 204)
	r = call(t, admin, "GET", "/vland/instances/"+id, nil).want(t, 404)
	require.Equal(t, "InstanceNotFound", r.obj(t, "NeutronError")["type"])
	call(t, admin, "DELETE", "/vland/instances/"+id, nil).want(t, 404)
}
