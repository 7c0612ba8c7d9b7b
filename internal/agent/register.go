package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
)

// Agent record constants, as Neutron's OVS agent reports them.
const (
	agentBinary = "vland-agent"
	agentTopic  = "N/A"
	// agentTimeLayout is how Neutron writes agent timestamps.
	agentTimeLayout = time.DateTime
)

// registrar keeps the host registered: a persistent agent record (so a dead
// agent is still listed, alive=false), a key on a lease, which etcd
// deletes LeaseTTL after the agent stops renewing it, and the time of its
// last heartbeat. Every agent watches the records, so a record is
// rewritten only when its content changes; the heartbeat time, rewritten
// every HeartbeatInterval, has a key of its own that only servers follow.
type registrar struct {
	st        store.Store
	cfg       Config
	log       *slog.Logger
	startedAt string

	devices    atomic.Int64
	devChanged chan struct{}
}

func newRegistrar(st store.Store, cfg Config) *registrar {
	return &registrar{
		st:         st,
		cfg:        cfg,
		log:        cfg.Log,
		startedAt:  now(),
		devChanged: make(chan struct{}, 1),
	}
}

// setDevices records how many ports the host has; the heartbeat key is
// rewritten soon after it changes.
func (r *registrar) setDevices(n int) {
	if r.devices.Swap(int64(n)) != int64(n) {
		select {
		case r.devChanged <- struct{}{}:
		default:
		}
	}
}

// run registers the host and keeps its heartbeat until ctx ends, then
// revokes the lease so the host shows dead at once. A lost lease (store
// restarted, network partition longer than the TTL) is granted again.
func (r *registrar) run(ctx context.Context) {
	bo := backoff{min: 200 * time.Millisecond, max: 5 * time.Second}
	for ctx.Err() == nil {
		lease, err := r.register(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Error("agent registration failed", "err", err)
				sleep(ctx, bo.next())
			}
			continue
		}
		bo.reset()
		r.log.Info("agent registered", "host", r.cfg.Host, "lease", lease)
		err = r.heartbeat(ctx, lease)
		if ctx.Err() != nil {
			r.revoke(ctx, lease)
			return
		}
		r.log.Warn("agent heartbeat lost, registering again", "err", err)
	}
}

// register grants a lease and writes the agent record, the heartbeat time
// and the leased key.
func (r *registrar) register(ctx context.Context) (int64, error) {
	lease, err := r.st.Grant(ctx, r.cfg.LeaseTTL)
	if err != nil {
		return 0, fmt.Errorf("grant lease: %w", err)
	}
	if err := r.writeRecord(ctx, true); err != nil {
		return 0, err
	}
	if err := r.writeHeartbeat(ctx); err != nil {
		return 0, err
	}
	alive, _ := json.Marshal(map[string]string{"host": r.cfg.Host, "started_at": r.startedAt})
	op := store.Op{Key: store.AgentAliveKey(r.cfg.Host), Value: alive, Lease: lease}
	if _, err := r.st.Txn(ctx, nil, []store.Op{op}); err != nil {
		return 0, fmt.Errorf("write heartbeat key: %w", err)
	}
	return lease, nil
}

// heartbeat keeps lease alive, writes the heartbeat time every interval and
// the agent record when its content changes (checked every interval and
// on a device count change), until ctx ends or the lease is lost.
func (r *registrar) heartbeat(ctx context.Context, lease int64) error {
	kctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lost := make(chan error, 1)
	go func() { lost <- r.st.KeepAlive(kctx, lease) }()
	tick := time.NewTicker(r.cfg.HeartbeatInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-lost:
			if err == nil {
				err = errors.New("keepalive ended")
			}
			return err
		case <-tick.C:
			// Written only if its content changed: a failed update is
			// retried at the next tick.
			if err := r.writeRecord(ctx, false); err != nil && ctx.Err() == nil {
				r.log.Warn("agent record update failed", "err", err)
			}
		case <-r.devChanged:
		}
		if err := r.writeHeartbeat(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("agent heartbeat write failed", "err", err)
		}
	}
}

// writeHeartbeat records the time of this heartbeat and the host's device
// count (what /v2.0/agents shows as heartbeat_timestamp and
// configurations.devices). Both change all the time, so they live in a key
// no agent watches rather than in the record every agent follows.
func (r *registrar) writeHeartbeat(ctx context.Context) error {
	b, _ := json.Marshal(api.AgentHeartbeat{Timestamp: now(), Devices: int(r.devices.Load())})
	if _, err := r.st.Txn(ctx, nil, []store.Op{{Key: store.AgentHeartbeatKey(r.cfg.Host), Value: b}}); err != nil {
		return fmt.Errorf("write heartbeat time: %w", err)
	}
	return nil
}

// revoke ends the lease so the host shows dead now rather than after the
// TTL. The caller's context is already done, so it gets a short one of its own.
func (r *registrar) revoke(ctx context.Context, lease int64) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := r.st.Revoke(rctx, lease); err != nil {
		r.log.Warn("agent lease revoke failed; it expires by itself", "err", err)
	}
}

// writeRecord creates or updates the agent record. It keeps the fields the
// server owns (id, created_at, admin_state_up, description, availability
// zone) and writes with compare-and-set, retrying on a concurrent update.
// Unless always is set, a record whose content would change only in its
// heartbeat_timestamp is left as it is.
func (r *registrar) writeRecord(ctx context.Context, always bool) error {
	key := store.AgentKey(r.cfg.Host)
	for range 5 {
		var rec api.Agent
		var rev int64
		kv, err := r.st.Get(ctx, key)
		switch {
		case err == nil:
			if jerr := json.Unmarshal(kv.Value, &rec); jerr != nil {
				r.log.Warn("replacing undecodable agent record", "key", key, "err", jerr)
				rec = api.Agent{}
			}
			rev = kv.ModRevision
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("read agent record: %w", err)
		}
		next := r.record(rec)
		if !always && rev != 0 && sameRecord(rec, next) {
			return nil
		}
		b, err := json.Marshal(next)
		if err != nil {
			return fmt.Errorf("encode agent record: %w", err)
		}
		_, err = r.st.Txn(ctx, []store.Cond{{Key: key, ModRevision: rev}}, []store.Op{{Key: key, Value: b}})
		if !errors.Is(err, store.ErrConflict) {
			if err != nil {
				return fmt.Errorf("write agent record: %w", err)
			}
			return nil
		}
	}
	return fmt.Errorf("write agent record: %w", store.ErrConflict)
}

// record returns old updated with what this agent reports now.
func (r *registrar) record(old api.Agent) api.Agent {
	a := old
	ts := now()
	if a.ID == "" {
		a.ID = newUUID()
		a.CreatedAt = ts
		a.AdminStateUp = true
	}
	a.AgentType = api.AgentTypeOVS
	a.Binary = agentBinary
	a.Topic = agentTopic
	a.Host = r.cfg.Host
	a.Alive = true
	a.StartedAt = r.startedAt
	a.HeartbeatTimestamp = ts
	a.Configurations = api.AgentConfig{
		TunnelTypes:    slices.Clone(r.cfg.TunnelTypes),
		LocalIP:        localIPString(r.cfg.LocalIP),
		BridgeMappings: maps.Clone(r.cfg.BridgeMappings),
		DatapathType:   r.cfg.DatapathType,
		IntegrationBr:  r.cfg.IntegrationBridge,
		TunnelBr:       r.cfg.TunnelBridge,
		Devices:        int(r.devices.Load()),
		L2Population:   true,
		NetworkNode:    r.cfg.NetworkNode,
		Roles:          slices.Clone(r.cfg.Roles),
	}
	if a.Configurations.TunnelTypes == nil {
		a.Configurations.TunnelTypes = []string{}
	}
	if a.Configurations.BridgeMappings == nil {
		a.Configurations.BridgeMappings = map[string]string{}
	}
	return a
}

// sameRecord reports whether two agent records differ at most in their
// heartbeat_timestamp.
func sameRecord(a, b api.Agent) bool {
	a.HeartbeatTimestamp = b.HeartbeatTimestamp
	a.Configurations.Devices = b.Configurations.Devices
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

func now() string { return time.Now().UTC().Format(agentTimeLayout) }

// newUUID returns a random (version 4) UUID, the form of Neutron's ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
