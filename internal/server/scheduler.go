package server

import (
	"context"

	"github.com/vland/vland/internal/scheduler"
	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
)

// startScheduler runs the DHCP scheduler in the background. Every server
// runs one; the etcd election lets exactly one of them schedule at a time.
func (s *Server) startScheduler() {
	sched := scheduler.New(s.st, s.svc, s.elector("scheduler"), scheduler.Config{
		AgentsPerNetwork: s.cfg.DHCPAgentsPerNetwork, AgentDownTime: s.cfg.AgentDownTime, Log: s.log,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sched.Run(ctx)
	}()
	s.sched = sched
	s.stopScheduler = func() { cancel(); <-done }
}

// elector is the election of one leader-run controller among the servers:
// through etcd (key LeaderPrefix + name), or local on an in-memory store.
func (s *Server) elector(name string) scheduler.Elector {
	if es, ok := s.st.(*etcdstore.Store); ok {
		return &scheduler.EtcdElector{Client: es.Client(), Prefix: store.LeaderPrefix + name, ID: s.ln.Addr().String()}
	}
	return scheduler.NewLocalElection()
}

// Scheduler is the server's DHCP scheduler (tests ask whether it leads).
func (s *Server) Scheduler() *scheduler.Scheduler { return s.sched }
