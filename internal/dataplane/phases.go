package dataplane

import "time"

// phases times the steps of one Apply for its debug log line, so a slow
// convergence can be pinned on OVSDB, ovs-ofctl or ovs-vswitchd.
type phases struct {
	start, last time.Time
	list        []any
}

func newPhases() *phases {
	now := time.Now()
	return &phases{start: now, last: now}
}

// mark records the time since the previous mark under name (milliseconds).
func (p *phases) mark(name string) {
	now := time.Now()
	p.list = append(p.list, name+"_ms", float64(now.Sub(p.last).Microseconds())/1000)
	p.last = now
}

func (p *phases) attrs() []any {
	return append(p.list, "total_ms", float64(time.Since(p.start).Microseconds())/1000)
}
