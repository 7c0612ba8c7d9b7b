package server

import (
	"context"
	"time"

	"github.com/vland/vland/internal/statusmirror"
)

// startStatusMirror runs the status mirror in the background. Every
// server campaigns; its own etcd election (not the scheduler's) lets
// exactly one of them copy at a time, and a new leader starts with a
// full listing, so a copy missed during the handover is put right.
func (s *Server) startStatusMirror() {
	el := s.elector("statusmirror")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			lead, resign, err := el.Campaign(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("statusmirror: election failed", "err", err)
					sleepCtx(ctx, time.Second)
				}
				continue
			}
			s.mirrorLeading.Store(true)
			s.log.Info("statusmirror: leading")
			_ = statusmirror.Run(lead, s.st, s.log) // returns when leadership ends
			s.mirrorLeading.Store(false)
			resign()
		}
	}()
	s.stopStatusMirror = func() { cancel(); <-done }
}

// StatusMirrorLeading says whether this server runs the status mirror.
func (s *Server) StatusMirrorLeading() bool { return s.mirrorLeading.Load() }

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
