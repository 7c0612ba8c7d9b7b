package lab

import (
	"errors"
	"testing"

	"github.com/vland/vland/internal/keystone"
)

// TestMemberUsers: the users file has a member user per Config.Members
// project (none without), which the server's Keystone accepts, and
// MemberClient serves only those projects.
func TestMemberUsers(t *testing.T) {
	for _, members := range [][]string{nil, {"p1", "p2"}} {
		st := State{Name: "t", Dir: t.TempDir(), AdminPassword: "pw", Members: members}
		if err := writeAuthConfig(&st); err != nil {
			t.Fatal(err)
		}
		c, err := keystone.LoadConfig(authConfig(st.Dir))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Users) != len(members) {
			t.Fatalf("members %v: users %+v", members, c.Users)
		}
		for i, u := range c.Users {
			if u.Name != members[i] || u.Project != members[i] || u.Password != "pw" || len(u.Roles) != 1 || u.Roles[0] != "member" {
				t.Errorf("user %+v for member project %s", u, members[i])
			}
		}
		l := &Lab{st: st}
		if _, err := l.MemberClient("nobody"); !errors.Is(err, ErrBadConfig) {
			t.Errorf("MemberClient of a project without a user: %v", err)
		}
	}
}
