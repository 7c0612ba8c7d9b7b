package service

import (
	"context"

	"github.com/vland/vland/internal/fault"
	"github.com/vland/vland/internal/store"
)

// Store transaction limits. etcd refuses a transaction with more than
// --max-txn-ops operations (the embedded node allows 1,024; etcd's own
// default is 128) or a request over --max-request-bytes (1.5 MiB).
const (
	defaultMaxTxnOps   = 1024
	defaultMaxTxnBytes = 1 << 20
)

// group is the conditions and writes of one object that must commit
// together (a port with its addresses, MAC and index key).
type group struct {
	conds []store.Cond
	ops   []store.Op
}

// size is what a group adds to a transaction: operations and bytes.
func (g group) size() (n, bytes int) {
	for _, op := range g.ops {
		bytes += len(op.Key) + len(op.Value) + 16
	}
	for _, c := range g.conds {
		bytes += len(c.Key) + 16
	}
	return max(len(g.ops), len(g.conds)), bytes
}

// fits reports whether groups fit in one transaction.
func (s *Service) fits(groups []group) bool {
	return len(s.pack(groups, 0)) <= 1
}

// pack splits groups, in order, into as few transactions as the limits
// allow, leaving room for reserve extra conditions and operations in each.
// A group never straddles two transactions.
func (s *Service) pack(groups []group, reserve int) [][]group {
	var out [][]group
	var cur []group
	n, bytes := reserve, reserve*64
	for _, g := range groups {
		gn, gb := g.size()
		if len(cur) > 0 && (n+gn > s.cfg.MaxTxnOps || bytes+gb > s.cfg.MaxTxnBytes) {
			out = append(out, cur)
			cur, n, bytes = nil, reserve, reserve*64
		}
		cur = append(cur, g)
		n, bytes = n+gn, bytes+gb
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// txnGroups commits groups (plus extra conditions) as one transaction.
func (s *Service) txnGroups(ctx context.Context, extra []store.Cond, groups []group) (int64, error) {
	conds := append([]store.Cond(nil), extra...)
	var ops []store.Op
	for _, g := range groups {
		conds = append(conds, g.conds...)
		ops = append(ops, g.ops...)
	}
	return s.txn(ctx, conds, ops)
}

// checkTxnSize turns a transaction the store would refuse for its size
// into a client error (400) instead of a store failure (500). Writes that
// can grow with the request split themselves first (see pack); this
// catches the rest, e.g. a bulk network create of thousands.
func (s *Service) checkTxnSize(conds []store.Cond, ops []store.Op) error {
	n, bytes := group{conds, ops}.size()
	if n > s.cfg.MaxTxnOps || bytes > s.cfg.MaxTxnBytes {
		return fault.InvalidInput("Request too large: it needs %d store operations (%d bytes) in one transaction, at most %d (%d bytes) are possible; split it.",
			n, bytes, s.cfg.MaxTxnOps, s.cfg.MaxTxnBytes)
	}
	return nil
}

// fault runs the test hook at a named point of a multi-step write; an
// error stops the write there, as a crash would (nothing is rolled back).
func (s *Service) fault(point string) error {
	if s.cfg.Fault == nil {
		return nil
	}
	return s.cfg.Fault(point)
}
