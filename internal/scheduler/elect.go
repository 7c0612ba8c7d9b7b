package scheduler

import (
	"context"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Elector decides which of several servers runs the scheduler.
type Elector interface {
	// Campaign blocks until this process leads (or ctx ends). The returned
	// context ends when leadership is lost; resign gives it up.
	Campaign(ctx context.Context) (lead context.Context, resign func(), err error)
}

// EtcdElector is leader election through etcd (concurrency.Election): the
// leader's key rides on a session lease, so a leader that dies is
// replaced within TTL.
type EtcdElector struct {
	Client *clientv3.Client
	Prefix string // e.g. store.LeaderPrefix + "scheduler"
	ID     string // this server, as the leader key's value
	TTL    int    // seconds (0: 5)
}

// Campaign implements Elector.
func (e *EtcdElector) Campaign(ctx context.Context) (context.Context, func(), error) {
	ttl := e.TTL
	if ttl == 0 {
		ttl = 5
	}
	sess, err := concurrency.NewSession(e.Client, concurrency.WithTTL(ttl), concurrency.WithContext(ctx))
	if err != nil {
		return nil, nil, err
	}
	el := concurrency.NewElection(sess, e.Prefix)
	if err := el.Campaign(ctx, e.ID); err != nil {
		_ = sess.Close()
		return nil, nil, err
	}
	lead, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-sess.Done(): // lease lost: someone else may lead now
		case <-lead.Done():
		}
		cancel()
	}()
	var once sync.Once
	resign := func() {
		once.Do(func() {
			cancel()
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer rcancel()
			_ = el.Resign(rctx)
			_ = sess.Close()
		})
	}
	return lead, resign, nil
}

// LocalElection is an in-process election for tests (and single-process
// setups on an in-memory store): of the schedulers sharing one, one leads
// at a time.
type LocalElection struct{ token chan struct{} }

// NewLocalElection returns an election nobody leads yet.
func NewLocalElection() *LocalElection {
	e := &LocalElection{token: make(chan struct{}, 1)}
	e.token <- struct{}{}
	return e
}

// Campaign implements Elector.
func (e *LocalElection) Campaign(ctx context.Context) (context.Context, func(), error) {
	select {
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	case <-e.token:
	}
	lead, cancel := context.WithCancel(ctx)
	var once sync.Once
	return lead, func() { once.Do(func() { cancel(); e.token <- struct{}{} }) }, nil
}
