package service

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/vland/vland/internal/store"
)

// recover runs at start-up, before the server answers requests: it
// finishes the network deletes a crashed server left marked, clears
// subnet marks of older servers, rolls back bulk creates a crashed server
// left unfinished, and brings the keys of ports written by older servers
// up to date (per-network MAC, the port index ranges). Every step is a conditional
// write, so several servers starting at once do no harm. Failures are
// logged; the next start-up tries again.
func (s *Service) recover(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	for _, v := range s.cache.allNetworks() {
		if !v.obj.Deleting {
			continue
		}
		id := v.obj.ID
		err := s.retry(ctx, func() error {
			v, ok := s.cache.network(id)
			if !ok {
				return nil
			}
			return s.removeNetwork(ctx, v)
		})
		s.log.Info("service: recovered a network delete left by a crash", "network", id, "err", err)
	}
	for _, v := range s.cache.allSubnets() {
		if v.obj.Deleting {
			sub := v.obj
			sub.Deleting = false
			_, err := s.txn(ctx, []store.Cond{{Key: store.SubnetKey(sub.ID), ModRevision: v.rev}},
				[]store.Op{{Key: store.SubnetKey(sub.ID), Value: mustJSON(sub)}})
			s.log.Info("service: cleared a subnet delete mark", "subnet", sub.ID, "err", err)
		}
	}
	s.recoverBulks(ctx)
	if err := s.migrateKeys(ctx); err != nil {
		s.log.Warn("service: migrating port keys failed", "err", err)
	}
	s.migratePortSecGroups(ctx)
}

// recoverBulks rolls back the bulk creates whose deadline has passed, and
// schedules the others for their deadline (their server may still be
// writing them).
func (s *Service) recoverBulks(ctx context.Context) {
	kvs, _, err := s.st.List(ctx, store.BulksPrefix)
	if err != nil {
		s.log.Warn("service: listing bulk creates failed", "err", err)
		return
	}
	for _, kv := range kvs {
		var deadline time.Time
		_ = json.Unmarshal(kv.Value, &deadline)
		bulk := strings.TrimPrefix(kv.Key, store.BulksPrefix)
		if wait := deadline.Sub(s.cfg.Now()); wait > 0 {
			s.timers = append(s.timers, time.AfterFunc(wait+time.Second, func() { s.abortBulk(bulk, kv.ModRevision) }))
			continue
		}
		s.abortBulk(bulk, kv.ModRevision)
	}
}

// abortBulk rolls back a bulk create whose server gave up or died: it
// rewrites the bulk key first (so its server, if alive, can no longer
// finish it), then deletes the bulk's ports and the key.
func (s *Service) abortBulk(bulk string, rev int64) {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	key := store.BulkKey(bulk)
	if _, err := s.txn(ctx, []store.Cond{{Key: key, ModRevision: rev}}, []store.Op{{Key: key, Value: []byte(`"aborted"`)}}); err != nil {
		return // finished or already rolled back
	}
	if err := s.cache.sync(ctx); err != nil {
		s.log.Warn("service: bulk rollback: sync", "err", err)
	}
	var ports []storedPort
	for _, v := range s.cache.bulkPorts(bulk) {
		ports = append(ports, v.obj)
	}
	s.log.Info("service: rolling back a bulk create left by a crash", "bulk", bulk, "ports", len(ports))
	s.rollbackBulk(bulk, ports)
}

// migrateKeys adds the per-network MAC key of every port that lacks it,
// removes global MAC keys (before MACs were unique per network) and
// brings the port index ranges up to date (migrateIndex).
func (s *Service) migrateKeys(ctx context.Context) error {
	macs, _, err := s.st.ListKeys(ctx, store.MACsPrefix)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, k := range macs {
		have[k] = true
	}
	var groups []group
	for _, k := range macs {
		if !strings.Contains(strings.TrimPrefix(k, store.MACsPrefix), "/") {
			groups = append(groups, group{ops: []store.Op{{Key: k, Delete: true}}})
		}
	}
	for _, v := range s.cache.bulkPorts("") { // every port outside a bulk
		p := &v.obj.Port
		if k := store.MACKey(p.NetworkID, p.MACAddress); !have[k] {
			groups = append(groups, group{conds: []store.Cond{{Key: store.PortKey(p.ID), ModRevision: v.rev}, {Key: k}},
				ops: []store.Op{{Key: k, Value: []byte(p.ID)}}})
		}
	}
	if err := s.commitMigration(ctx, "port keys", groups); err != nil {
		return err
	}
	return s.retry(ctx, func() error { return s.migrateIndex(ctx) })
}

// migrateIndex makes the port index ranges what store.PortOps would have
// written: every index key of every port holds the port's stored JSON
// (older servers kept only network-ports, valued with the device_owner,
// and secgroup-ports, valued with the project), and an index key whose
// port no longer exists or no longer has it is deleted. Each write is
// conditioned on the port's revision (or its absence), so a port written
// meanwhile fails the transaction and the retry reads again. The ports of
// a bulk create in progress are left to the bulk.
func (s *Service) migrateIndex(ctx context.Context) error {
	ports, _, err := s.st.List(ctx, store.PortsPrefix)
	if err != nil {
		return err
	}
	bulks, _, err := s.st.ListKeys(ctx, store.BulksPrefix)
	if err != nil {
		return err
	}
	index := map[string][]byte{}
	for _, prefix := range store.PortIndexPrefixes {
		kvs, _, err := s.st.List(ctx, prefix)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			index[kv.Key] = kv.Value
		}
	}
	inBulk := map[string]bool{}
	for _, k := range bulks {
		inBulk[strings.TrimPrefix(k, store.BulksPrefix)] = true
	}
	byPort := map[string]*group{} // port id -> its writes
	leave := map[string]bool{}    // port ids whose keys stay as they are
	for _, kv := range ports {
		id := strings.TrimPrefix(kv.Key, store.PortsPrefix)
		var p storedPort
		if json.Unmarshal(kv.Value, &p) != nil || inBulk[p.Bulk] {
			leave[id] = true // undecodable, or its bulk's to write
			continue
		}
		g := &group{conds: []store.Cond{{Key: kv.Key, ModRevision: kv.ModRevision}}}
		byPort[id] = g
		for _, k := range store.PortIndexKeys(&p.Port) {
			if v, ok := index[k]; !ok || !bytes.Equal(v, kv.Value) {
				g.ops = append(g.ops, store.Op{Key: k, Value: kv.Value})
			}
			delete(index, k)
		}
	}
	for k := range index { // index keys no port has
		id := k[strings.LastIndex(k, "/")+1:]
		if leave[id] {
			continue
		}
		g := byPort[id]
		if g == nil { // the port is gone: delete unless it is created meanwhile
			g = &group{conds: []store.Cond{{Key: store.PortKey(id)}}}
			byPort[id] = g
		}
		g.ops = append(g.ops, store.Op{Key: k, Delete: true})
	}
	var groups []group
	for _, g := range byPort {
		if len(g.ops) > 0 {
			groups = append(groups, *g)
		}
	}
	return s.commitMigration(ctx, "port index", groups)
}

// commitMigration writes a migration's groups in as few transactions as
// fit.
func (s *Service) commitMigration(ctx context.Context, what string, groups []group) error {
	for _, chunk := range s.pack(groups, 0) {
		if _, err := s.txnGroups(ctx, nil, chunk); err != nil {
			return err
		}
	}
	if len(groups) > 0 {
		s.log.Info("service: migrated "+what, "writes", len(groups))
	}
	return nil
}
