// Package ovsdb manages Open vSwitch bridges and ports through OVSDB with
// libovsdb: a monitored cache of the columns it uses of the Open_vSwitch,
// Bridge, Port and Interface tables, idempotent declarative operations (EnsureBridge,
// EnsurePort, ...) that each run as one transaction, and a coalesced change
// signal for reconcilers.
//
// Ownership: vland never guesses what it created. Callers put an owner
// marker in ExternalIDs (e.g. "vland-owner": "agent") and filter ListPorts
// results on it after a restart.
package ovsdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/go-logr/logr"
	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/vland/vland/internal/ovs/ovsdb/vswitchd"
)

// Sentinel errors.
var (
	ErrNotFound = errors.New("ovsdb: not found")
	ErrBadSpec  = errors.New("ovsdb: bad spec")
	ErrTxn      = errors.New("ovsdb: transaction failed")
	ErrIface    = errors.New("ovsdb: interface error")
)

// Client is a connected OVSDB client with a monitored cache. Safe for
// concurrent use.
type Client struct {
	ovs client.Client
	log *slog.Logger

	mu   sync.Mutex
	subs []chan struct{}
}

// DatabaseModel returns the client model: the four tables vland manages.
func DatabaseModel() (model.ClientDBModel, error) {
	return model.NewClientDBModel("Open_vSwitch", map[string]model.Model{
		"Open_vSwitch": &vswitchd.OpenvSwitch{},
		"Bridge":       &vswitchd.Bridge{},
		"Port":         &vswitchd.Port{},
		"Interface":    &vswitchd.Interface{},
	})
}

// Connect connects to endpoint ("unix:/path/db.sock" or "tcp:IP:PORT"),
// starts monitoring and returns once the cache holds the database. The
// client reconnects by itself (forever, with backoff) if ovsdb-server goes
// away; transactions block until it is back or ctx ends. log may be nil.
func Connect(ctx context.Context, endpoint string, log *slog.Logger) (*Client, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dbModel, err := DatabaseModel()
	if err != nil {
		return nil, fmt.Errorf("ovsdb: model: %w", err)
	}
	bo := backoff.NewExponentialBackOff()
	bo.MaxInterval = 2 * time.Second
	bo.MaxElapsedTime = 0 // never give up: libovsdb panics if the backoff stops
	lg := logr.FromSlogHandler(log.Handler())
	ovs, err := client.NewOVSDBClient(dbModel,
		client.WithEndpoint(endpoint),
		client.WithReconnect(5*time.Second, bo),
		client.WithLogger(&lg))
	if err != nil {
		return nil, fmt.Errorf("ovsdb: new client: %w", err)
	}
	if err := ovs.Connect(ctx); err != nil {
		return nil, fmt.Errorf("ovsdb: connect %s: %w", endpoint, err)
	}
	c := &Client{ovs: ovs, log: log}
	ovs.Cache().AddEventHandler(&cache.EventHandlerFuncs{
		AddFunc:    func(string, model.Model) { c.notify() },
		UpdateFunc: func(string, model.Model, model.Model) { c.notify() },
		DeleteFunc: func(string, model.Model) { c.notify() },
	})
	_, err = ovs.Monitor(ctx, ovs.NewMonitor(monitoredColumns()...))
	if err != nil {
		ovs.Close()
		return nil, fmt.Errorf("ovsdb: monitor: %w", err)
	}
	return c, nil
}

// monitoredColumns are the columns the client reads or writes; the cache
// holds only these. The rest (interface and port statistics and status,
// which ovs-vswitchd rewrites every few seconds for every interface, LACP,
// BFD, CFM, QoS...) would cost memory in the cache and a decode and a
// change signal per update. An Update must name only these columns; a
// column read or written later has to be added here.
func monitoredColumns() []client.MonitorOption {
	var (
		root  vswitchd.OpenvSwitch
		br    vswitchd.Bridge
		port  vswitchd.Port
		iface vswitchd.Interface
	)
	return []client.MonitorOption{
		client.WithTable(&root, &root.UUID, &root.Bridges, &root.NextCfg, &root.CurCfg),
		client.WithTable(&br, &br.UUID, &br.Name, &br.Ports, &br.DatapathType, &br.FailMode, &br.Protocols,
			&br.ExternalIDs, &br.OtherConfig),
		client.WithTable(&port, &port.UUID, &port.Name, &port.Interfaces, &port.Tag, &port.ExternalIDs, &port.OtherConfig),
		client.WithTable(&iface, &iface.UUID, &iface.Name, &iface.Type, &iface.Options, &iface.ExternalIDs,
			&iface.Ofport, &iface.OfportRequest, &iface.MAC, &iface.MACInUse, &iface.MTURequest, &iface.Error),
	}
}

// Close disconnects; the client cannot be used afterwards.
func (c *Client) Close() { c.ovs.Close() }

// Connected reports whether the client is currently connected.
func (c *Client) Connected() bool { return c.ovs.Connected() }

// Changes returns a new subscription: a channel that receives one
// (coalesced) value after any Open_vSwitch, Bridge, Port or Interface row
// changes, including ofports reassigned after an ovs-vswitchd restart and
// the cache refill after a reconnect. Call once per consumer.
func (c *Client) Changes() <-chan struct{} {
	ch := make(chan struct{}, 1)
	c.mu.Lock()
	c.subs = append(c.subs, ch)
	c.mu.Unlock()
	return ch
}

func (c *Client) notify() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
