package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// State is what DIR/lab.json records about a lab: enough to reach its API
// and to find every host again from another process.
type State struct {
	Name          string   `json:"name"`
	Dir           string   `json:"dir"`
	Binary        string   `json:"binary"`
	APIURL        string   `json:"api_url"`
	AuthURL       string   `json:"auth_url"`
	AdminPassword string   `json:"admin_password"`
	EtcdURL       string   `json:"etcd_url"`
	EtcdPeerURL   string   `json:"etcd_peer_url"`
	TunnelTypes   []string `json:"tunnel_types"`
	AgentArgs     []string `json:"agent_args,omitempty"`
	Members       []string `json:"members,omitempty"`
	FabricNetNS   string   `json:"fabric_netns"`
	// External is the simulated external network, nil unless Config.External.
	External  *ExternalState `json:"external,omitempty"`
	Hosts     []HostState    `json:"hosts"`
	CreatedAt time.Time      `json:"created_at"`
}

// HostState is one host of a lab.
type HostState struct {
	// Name is the host as the API knows it (binding:host_id), "hostN".
	Name string `json:"name"`
	// NetNS is the namespace of the host's data plane, "LAB-hN".
	NetNS string `json:"netns"`
	// Dir is the host's OVS run/db/log directory (OVS_RUNDIR); the agent's
	// log and pidfile live there too.
	Dir         string       `json:"dir"`
	UnderlayIP  netip.Prefix `json:"underlay_ip"`
	NetworkNode bool         `json:"network_node"`
	// Roles are the agent's --roles: compute, plus dhcp, l3, metadata on
	// the network node (and dhcp on the first Config.DHCPHosts hosts).
	Roles []string `json:"roles,omitempty"`
}

// VM is a lab VM: a namespace plugged into a host's br-int.
type VM struct {
	Name      string       `json:"name"`
	Host      string       `json:"host"`
	NetNS     string       `json:"netns"`
	UUID      string       `json:"uuid"`
	PortID    string       `json:"port_id"`
	NetworkID string       `json:"network_id"`
	ProjectID string       `json:"project_id,omitempty"`
	Tap       string       `json:"tap"`
	MAC       string       `json:"mac"`
	MTU       int          `json:"mtu"`
	IP        netip.Prefix `json:"ip"`
	Gateway   netip.Addr   `json:"gateway,omitzero"`
	DHCP      bool         `json:"dhcp,omitempty"` // addressed by its DHCP client
}

const stateFile = "lab.json"

func statePath(dir string) string  { return filepath.Join(dir, stateFile) }
func vmDir(dir string) string      { return filepath.Join(dir, "vms") }
func vmPath(dir, vm string) string { return filepath.Join(vmDir(dir), vm+".json") }

// writeJSON writes v to path atomically (temp file + rename), mode 0600:
// the state holds the admin password.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("lab: encode %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("lab: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("lab: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("lab: write %s: %w", path, err)
	}
	return nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("lab: decode %s: %w", path, err)
	}
	return nil
}

func readState(dir string) (State, error) {
	var st State
	err := readJSON(statePath(dir), &st)
	if errors.Is(err, fs.ErrNotExist) {
		return st, fmt.Errorf("%w: no lab in %s", ErrNotFound, dir)
	}
	return st, err
}

// readVMs lists the VMs recorded in dir, sorted by name.
func readVMs(dir string) ([]VM, error) {
	ents, err := os.ReadDir(vmDir(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	var vms []VM
	for _, e := range ents {
		if filepath.Ext(e.Name()) != ".json" {
			continue
		}
		var vm VM
		if err := readJSON(filepath.Join(vmDir(dir), e.Name()), &vm); err != nil {
			return nil, err
		}
		vms = append(vms, vm)
	}
	sort.Slice(vms, func(i, j int) bool { return vms[i].Name < vms[j].Name })
	return vms, nil
}

// lock takes an exclusive advisory lock on DIR/lock, serialising the
// processes that change one lab (two `vland lab vm create` at once). The
// returned function releases it.
func lock(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lab: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lab: lock: %w", err)
	}
	return func() { f.Close() }, nil
}
