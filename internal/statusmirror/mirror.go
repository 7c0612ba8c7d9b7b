// Package statusmirror keeps the network-status range: under
// store.NetworkStatusKey(net, host, port), a copy of every port status
// record store.PortStatusKey(host, port), filed under the port's network,
// so that an agent can follow the statuses of its own networks only. An
// agent's etcd grant covers only its own host's range, so a server
// controller makes the copies; one server runs it at a time (leader
// election), and it is the only writer of the range.
package statusmirror

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/vland/vland/internal/store"
)

// watched covers store.PortsPrefix and store.PortStatusPrefix (and no
// other range of keys.go): one watch delivers port and status changes in
// revision order, and one revision resumes both.
var watched = commonPrefix(store.PortsPrefix, store.PortStatusPrefix)

// maxOps is etcd's default --max-txn-ops, which bounds a transaction's
// writes and its conditions alike: with two conditions each, a
// transaction writes maxOps/2 copies (a variable so that the tests can
// compare with one per transaction).
var maxOps = 128

// Pauses after a broken watch or a failed write, doubling up to maxPause.
const (
	minPause = 100 * time.Millisecond
	maxPause = 5 * time.Second
)

var errWatchClosed = errors.New("statusmirror: watch closed")

// mirror is what the store holds, as the watch last showed it.
type mirror struct {
	st  store.Store
	log *slog.Logger

	ports  map[string]port              // port id → its network and revision
	status map[string]map[string]record // port id → host → status record
	copies map[string][]byte            // copy key → value in the store
	dirty  map[string]bool              // copy keys that may disagree
}

// A copy is written only while its port and record are as the mirror saw
// them (their ModRevisions): a late write, such as a status for a port
// being deleted or a former leader's, fails instead of leaving a stale copy.
type port struct {
	net string
	rev int64
}

type record struct {
	value []byte
	rev   int64
}

// Run keeps the copies current until ctx ends, then returns nil. It lists
// the ports, the status records and the copies, puts right every copy
// that disagrees, then follows the changes from the listed revision. A
// broken watch resumes after the last revision applied; only a compacted
// revision costs a new listing.
func Run(ctx context.Context, st store.Store, log *slog.Logger) error {
	m := &mirror{st: st, log: log}
	var rev int64
	listed, pause := false, time.Duration(0)
	for ctx.Err() == nil {
		var err error
		progressed := false
		if !listed {
			rev, err = m.list(ctx)
			listed, progressed = err == nil, err == nil
		}
		if listed {
			var applied bool
			rev, applied, err = m.follow(ctx, rev)
			progressed = progressed || applied
			if errors.Is(err, store.ErrCompacted) {
				listed = false
			}
		}
		if ctx.Err() != nil {
			break
		}
		if progressed {
			pause = 0
		}
		pause = min(max(2*pause, minPause), maxPause)
		log.Warn("statusmirror: watch broke, watching again", "rev", rev, "list", !listed, "err", err, "retry_in_s", pause.Seconds())
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
	return nil
}

// list reads the whole state and marks every copy that may disagree; it
// returns the revision to watch after.
func (m *mirror) list(ctx context.Context) (int64, error) {
	kvs, rev, err := m.st.List(ctx, watched)
	if err != nil {
		return 0, err
	}
	copies, _, err := m.st.List(ctx, store.NetworkStatusPrefix)
	if err != nil {
		return 0, err
	}
	m.reset()
	for _, kv := range kvs {
		m.apply(store.Event{Type: store.EventPut, KV: kv})
	}
	for _, kv := range copies {
		m.copies[kv.Key] = kv.Value
		m.dirty[kv.Key] = true
	}
	return rev, nil // follow writes what disagrees
}

// reset forgets everything (before a listing).
func (m *mirror) reset() {
	m.ports, m.status = map[string]port{}, map[string]map[string]record{}
	m.copies, m.dirty = map[string][]byte{}, map[string]bool{}
}

// follow applies the changes after rev until the watch ends, writing the
// copies after each burst; it returns the last revision applied whole,
// whether it applied any, and why the watch ended.
func (m *mirror) follow(ctx context.Context, rev int64) (last int64, applied bool, err error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := m.st.Watch(wctx, watched, rev+1)
	retry := time.NewTimer(0) // at once: what list left to write
	for {
		select {
		case <-ctx.Done():
			return rev, applied, ctx.Err()
		case <-retry.C:
		case ev, ok := <-ch:
			// Take what else is ready too: a burst of status writes
			// becomes a few full transactions, not one each.
		drain:
			for n := 0; ; n++ {
				if !ok {
					return rev, applied, errWatchClosed
				}
				if ev.Err != nil {
					return rev, applied, ev.Err
				}
				m.apply(ev)
				applied = true
				// A transaction is applied whole only with its last event.
				rev = ev.KV.ModRevision - 1
				if ev.LastOfRev {
					rev++
				}
				if n == 4*maxOps {
					break
				}
				select {
				case ev, ok = <-ch:
				default:
					break drain
				}
			}
		}
		if err := m.flush(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("statusmirror: writing copies failed, retrying", "err", err)
			retry.Reset(time.Second)
		}
	}
}

// apply records one change of a port or a status record and marks the
// copies it concerns.
func (m *mirror) apply(ev store.Event) {
	key, del := ev.KV.Key, ev.Type == store.EventDelete
	if id, ok := strings.CutPrefix(key, store.PortsPrefix); ok {
		old, had := m.ports[id]
		if had {
			m.mark(id, old.net) // the copies under the old network go
		}
		delete(m.ports, id)
		if net := networkOf(ev.KV.Value); !del && net != "" {
			m.ports[id] = port{net: net, rev: ev.KV.ModRevision}
			m.mark(id, net)
		}
		return
	}
	host, id, ok := store.ParsePortStatusKey(key)
	if !ok {
		return // another range under the watched prefix, or the old layout
	}
	if del {
		delete(m.status[id], host)
		if len(m.status[id]) == 0 {
			delete(m.status, id)
		}
	} else {
		if m.status[id] == nil {
			m.status[id] = map[string]record{}
		}
		m.status[id][host] = record{value: ev.KV.Value, rev: ev.KV.ModRevision}
	}
	if p, ok := m.ports[id]; ok {
		m.dirty[store.NetworkStatusKey(p.net, host, id)] = true
	}
}

// mark marks the copies of port id's status records under network net.
func (m *mirror) mark(id, net string) {
	for host := range m.status[id] {
		m.dirty[store.NetworkStatusKey(net, host, id)] = true
	}
}

// networkOf is a stored port's network id ("" if unreadable or unusable
// in a key).
func networkOf(b []byte) string {
	var p struct {
		NetworkID string `json:"network_id"`
	}
	if json.Unmarshal(b, &p) != nil || strings.Contains(p.NetworkID, "/") {
		return ""
	}
	return p.NetworkID
}

// want is the value copy key should hold, if any: its record's, while the
// port exists on that network.
func (m *mirror) want(key string) ([]byte, bool) {
	net, host, id, ok := store.ParseNetworkStatusKey(key)
	if !ok || m.ports[id].net != net {
		return nil, false
	}
	r, ok := m.status[id][host]
	return r.value, ok
}

// conds are the conditions of a write to copy key: its port and record
// are still as seen (absent: revision 0). A key that names no port has none.
func (m *mirror) conds(key string) []store.Cond {
	_, host, id, ok := store.ParseNetworkStatusKey(key)
	if !ok {
		return nil
	}
	return []store.Cond{{Key: store.PortKey(id), ModRevision: m.ports[id].rev},
		{Key: store.PortStatusKey(host, id), ModRevision: m.status[id][host].rev}}
}
