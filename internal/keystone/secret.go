package keystone

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vland/vland/internal/store"
)

// secretSize is the HMAC-SHA256 key length in bytes.
const secretSize = 32

// sharedSecret returns the token signing key kept at store.TokenSecretKey,
// creating it first if absent. The create is a compare-and-create, so when
// several servers start at once they all end up with the one key that won,
// and a token issued by any server is accepted by every other.
func sharedSecret(ctx context.Context, st store.Store) ([]byte, error) {
	var fresh [secretSize]byte
	if _, err := rand.Read(fresh[:]); err != nil {
		return nil, fmt.Errorf("keystone: generate secret: %w", err)
	}
	val, err := json.Marshal(fresh[:]) // []byte marshals as base64
	if err != nil {
		return nil, fmt.Errorf("keystone: encode secret: %w", err)
	}
	key := store.TokenSecretKey
	_, err = st.Txn(ctx, []store.Cond{{Key: key}}, []store.Op{{Key: key, Value: val}})
	if err == nil {
		return fresh[:], nil
	}
	if !errors.Is(err, store.ErrConflict) {
		return nil, fmt.Errorf("keystone: store secret: %w", err)
	}
	kv, err := st.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("keystone: read secret: %w", err)
	}
	var secret []byte
	if err := json.Unmarshal(kv.Value, &secret); err != nil || len(secret) < secretSize {
		return nil, fmt.Errorf("keystone: secret at %s is malformed", key)
	}
	return secret, nil
}
