package keystone

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Token errors. Every way a token can be bad maps to ErrInvalidToken so
// that callers answer 401/404 without telling an attacker which check failed.
var (
	ErrInvalidToken = errors.New("keystone: invalid token")
	ErrExpiredToken = fmt.Errorf("%w: expired", ErrInvalidToken)
)

// tokenVersion prefixes every token so a future format can coexist.
const tokenVersion = "vl1"

// Claims is what a token says: who, scoped to which project, with which
// roles, until when. Tokens are stateless: the claims travel inside the
// token, signed with HMAC-SHA256 under the secret every server shares.
type Claims struct {
	UserID      string   `json:"uid"`
	UserName    string   `json:"un"`
	ProjectID   string   `json:"pid"`
	ProjectName string   `json:"pn"`
	Roles       []string `json:"r"`
	Methods     []string `json:"m"`
	IssuedAt    int64    `json:"iat"`
	ExpiresAt   int64    `json:"exp"`
	// AuditID is random, so two tokens are never equal (Keystone's audit_ids).
	AuditID string `json:"aid"`
}

// Issued returns the issue time.
func (c Claims) Issued() time.Time { return time.Unix(c.IssuedAt, 0).UTC() }

// Expires returns the expiry time.
func (c Claims) Expires() time.Time { return time.Unix(c.ExpiresAt, 0).UTC() }

// signer issues and verifies tokens with one HMAC key.
type signer struct {
	key []byte
	now func() time.Time
	// nonce fills audit ids; nil means crypto/rand (tests fix it).
	nonce func([]byte) (int, error)
}

// b64 is strict so that one token has exactly one accepted spelling.
var b64 = base64.RawURLEncoding.Strict()

// issue fills IssuedAt, AuditID and signs c; ExpiresAt must be set.
func (s signer) issue(c Claims) (string, Claims, error) {
	var nonce [12]byte
	read := s.nonce
	if read == nil {
		read = rand.Read
	}
	if _, err := read(nonce[:]); err != nil {
		return "", Claims{}, fmt.Errorf("keystone: token nonce: %w", err)
	}
	c.AuditID = b64.EncodeToString(nonce[:])
	if c.IssuedAt == 0 {
		c.IssuedAt = s.now().Unix()
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", Claims{}, fmt.Errorf("keystone: encode token: %w", err)
	}
	body := tokenVersion + "." + b64.EncodeToString(payload)
	return body + "." + b64.EncodeToString(s.mac(body)), c, nil
}

// verify checks the signature and expiry of tok and returns its claims.
func (s signer) verify(tok string) (Claims, error) {
	body, sig, ok := cutLast(tok, ".")
	if !ok || !strings.HasPrefix(body, tokenVersion+".") {
		return Claims{}, ErrInvalidToken
	}
	want, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(want, s.mac(body)) {
		return Claims{}, ErrInvalidToken
	}
	payload, err := b64.DecodeString(strings.TrimPrefix(body, tokenVersion+"."))
	if err != nil {
		return Claims{}, ErrInvalidToken
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, ErrInvalidToken
	}
	if !s.now().Before(c.Expires()) {
		return Claims{}, ErrExpiredToken
	}
	return c, nil
}

func (s signer) mac(body string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(body))
	return m.Sum(nil)
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
