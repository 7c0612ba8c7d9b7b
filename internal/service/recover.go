package service

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/vland/vland/internal/store"
)

// recover runs at start-up, before the server answers requests: it
// finishes the network deletes a crashed server left marked, clears
// subnet marks of older servers, rolls back bulk creates a crashed server
// left unfinished, and adds the keys that ports written by older servers
// lack (network index, per-network MAC). Every step is a conditional
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
		s.log.Warn("service: adding port index keys failed", "err", err)
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

// migrateKeys adds the network index key and the per-network MAC key of
// every port that lacks them, and removes global MAC keys (before MACs
// were unique per network).
func (s *Service) migrateKeys(ctx context.Context) error {
	indexed, _, err := s.st.ListKeys(ctx, store.NetworkPortsPrefix)
	if err != nil {
		return err
	}
	macs, _, err := s.st.ListKeys(ctx, store.MACsPrefix)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, k := range append(indexed, macs...) {
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
		if k := store.NetworkPortKey(p.NetworkID, p.ID); !have[k] {
			groups = append(groups, group{conds: []store.Cond{{Key: store.PortKey(p.ID), ModRevision: v.rev}},
				ops: []store.Op{portIndexOp(p)}})
		}
		if k := store.MACKey(p.NetworkID, p.MACAddress); !have[k] {
			groups = append(groups, group{conds: []store.Cond{{Key: store.PortKey(p.ID), ModRevision: v.rev}, {Key: k}},
				ops: []store.Op{{Key: k, Value: []byte(p.ID)}}})
		}
	}
	for _, chunk := range s.pack(groups, 0) {
		if _, err := s.txnGroups(ctx, nil, chunk); err != nil {
			return err
		}
	}
	if len(groups) > 0 {
		s.log.Info("service: migrated port keys", "writes", len(groups))
	}
	return nil
}
