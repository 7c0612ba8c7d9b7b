package keystone

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func testSigner(now time.Time) signer {
	return signer{key: []byte("0123456789abcdef0123456789abcdef"), now: func() time.Time { return now }}
}

func TestTokenRoundTrip(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := testSigner(now)
	tok, c, err := s.issue(Claims{UserID: "u1", UserName: "alice", ProjectID: "p1", ProjectName: "A",
		Roles: []string{"member"}, ExpiresAt: now.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.verify(tok)
	if err != nil {
		t.Fatalf("verify fresh token: %v", err)
	}
	if got.UserName != "alice" || got.ProjectID != "p1" || got.Roles[0] != "member" || got.AuditID != c.AuditID {
		t.Fatalf("claims = %+v, want alice/p1/member/%s", got, c.AuditID)
	}
	tok2, _, _ := s.issue(Claims{UserName: "alice", ExpiresAt: now.Add(time.Hour).Unix()})
	if tok2 == tok {
		t.Fatal("two tokens with the same claims are equal: audit id missing")
	}
}

func TestTokenRejectsTamperingExpiryAndOtherKeys(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := testSigner(now)
	tok, _, err := s.issue(Claims{UserName: "alice", ProjectID: "p1", ExpiresAt: now.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	forged, _, _ := signer{key: []byte("another key, same length........"), now: s.now}.issue(
		Claims{UserName: "alice", ProjectID: "p1", Roles: []string{"admin"}, ExpiresAt: now.Add(time.Hour).Unix()})
	// Swap in the payload of a token signed with another key.
	swapped := parts[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]
	cases := map[string]string{
		"empty":         "",
		"notused":       "notused",
		"flipped sig":   tok[:len(tok)-2] + flip(tok[len(tok)-2:]),
		"other key":     forged,
		"payload swap":  swapped,
		"no version":    strings.TrimPrefix(tok, tokenVersion+"."),
		"truncated":     tok[:len(tok)-10],
		"garbage parts": "vl1.!!!.???",
	}
	for name, bad := range cases {
		if _, err := s.verify(bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: verify = %v, want ErrInvalidToken", name, err)
		}
	}
	later := testSigner(now.Add(time.Hour))
	if _, err := later.verify(tok); !errors.Is(err, ErrExpiredToken) {
		t.Errorf("verify at expiry = %v, want ErrExpiredToken", err)
	}
	if _, err := testSigner(now.Add(time.Hour - time.Second)).verify(tok); err != nil {
		t.Errorf("verify one second before expiry = %v", err)
	}
}

func flip(s string) string {
	if s == "AA" {
		return "AB"
	}
	return "AA"
}

// FuzzVerify: no input panics, and the only string accepted is the token
// that was issued (no other spelling, no forged claims).
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	s := testSigner(now)
	s.nonce = func(b []byte) (int, error) { return copy(b, "fixed nonce!"), nil } // same token in every fuzz worker
	tok, _, err := s.issue(Claims{UserName: "alice", ProjectID: "p1", ExpiresAt: now.Add(time.Hour).Unix()})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add(tok[:len(tok)-1] + "B")
	f.Add("vl1..")
	f.Fuzz(func(t *testing.T, in string) {
		if _, err := s.verify(in); err == nil && in != tok {
			t.Fatalf("accepted %q, which is not the issued token", in)
		}
	})
}
