package statusmirror

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/vland/vland/internal/store"
)

// write is one copy to put or delete, with its conditions.
type write struct {
	op    store.Op
	conds []store.Cond
}

// flush writes the dirty copies that disagree, maxOps/2 per transaction.
// A transaction whose conditions failed (a port or record changed after
// the watch showed it) is tried again one write at a time; the writes
// that still fail stay dirty until the watch brings the change.
func (m *mirror) flush(ctx context.Context) error {
	var writes []write
	for _, key := range slices.Sorted(maps.Keys(m.dirty)) {
		if w, ok := m.diff(key); ok {
			writes = append(writes, w)
		} else {
			delete(m.dirty, key)
		}
	}
	for batch := range slices.Chunk(writes, max(1, maxOps/2)) {
		err := m.commit(ctx, batch)
		if errors.Is(err, store.ErrConflict) && len(batch) > 1 {
			for _, w := range batch {
				if err := m.commit(ctx, []write{w}); err != nil && !errors.Is(err, store.ErrConflict) {
					return err
				}
			}
		} else if err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return nil
}

// diff is the write that makes copy key what it should be (false: it is).
func (m *mirror) diff(key string) (write, bool) {
	want, ok := m.want(key)
	have, had := m.copies[key]
	switch {
	case ok && (!had || !bytes.Equal(have, want)):
		return write{op: store.Op{Key: key, Value: want}, conds: m.conds(key)}, true
	case !ok && had:
		return write{op: store.Op{Key: key, Delete: true}, conds: m.conds(key)}, true
	}
	return write{}, false
}

// commit applies writes in one transaction and records them as done.
func (m *mirror) commit(ctx context.Context, writes []write) error {
	var conds []store.Cond
	ops := make([]store.Op, len(writes))
	for i, w := range writes {
		ops[i] = w.op
		conds = append(conds, w.conds...)
	}
	if _, err := m.st.Txn(ctx, conds, ops); err != nil {
		return err
	}
	for _, w := range writes {
		if w.op.Delete {
			delete(m.copies, w.op.Key)
		} else {
			m.copies[w.op.Key] = w.op.Value
		}
		delete(m.dirty, w.op.Key)
	}
	return nil
}

// commonPrefix is the longest prefix of a and b.
func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:n]
}
