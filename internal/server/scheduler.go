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
	var el scheduler.Elector = scheduler.NewLocalElection()
	if es, ok := s.st.(*etcdstore.Store); ok {
		el = &scheduler.EtcdElector{Client: es.Client(), Prefix: store.LeaderPrefix + "scheduler", ID: s.ln.Addr().String()}
	}
	sched := scheduler.New(s.st, s.svc, el, scheduler.Config{
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

// Scheduler is the server's DHCP scheduler (tests ask whether it leads).
func (s *Server) Scheduler() *scheduler.Scheduler { return s.sched }
