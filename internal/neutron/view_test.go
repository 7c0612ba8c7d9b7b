package neutron

import (
	"encoding/json"
	"testing"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/identity"
	"github.com/vland/vland/internal/service"
)

func TestViewsMatchPolicy(t *testing.T) {
	member := identity.Identity{ProjectID: "p", Roles: []string{"member"}}
	id := 5
	for resource, v := range map[string]any{
		"network": api.Network{ID: "n", SegmentationID: &id, NetworkType: "vxlan"},
		"port":    api.Port{ID: "p", BindingHostID: "h", BindingProfile: map[string]any{}},
	} {
		hidden := service.Hidden(member, resource)
		fast, err := hide(v, hidden)
		if err != nil {
			t.Fatal(err)
		}
		slow, err := withoutKeys(v, hidden)
		if err != nil {
			t.Fatal(err)
		}
		var a, b map[string]any
		ja, _ := json.Marshal(fast)
		jb, _ := json.Marshal(slow)
		_ = json.Unmarshal(ja, &a)
		_ = json.Unmarshal(jb, &b)
		if !jsonEq(a, b) {
			t.Errorf("%s: view %s\n differs from %s", resource, ja, jb)
		}
		if len(hidden) == 0 {
			t.Errorf("%s: policy hides nothing from members", resource)
		}
	}
}

func jsonEq(x, y any) bool {
	a, _ := json.Marshal(x)
	b, _ := json.Marshal(y)
	return string(a) == string(b)
}
