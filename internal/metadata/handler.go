package metadata

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/vland/vland/api"
	"github.com/vland/vland/internal/store"
)

// Backend answers metadata requests from the store: the agent's own etcd
// connection, whose role may read ports, subnets, floating IPs and
// instances (internal/store/grants.go). It is Nova's metadata API and
// Neutron's metadata agent in one, in-process in the agent, so the
// identity a proxy was started with never crosses a wire a VM could reach.
type Backend struct {
	st  store.Store
	log *slog.Logger
}

// NewBackend returns a backend reading st.
func NewBackend(st store.Store, log *slog.Logger) *Backend {
	if log == nil {
		log = slog.Default()
	}
	return &Backend{st: st, log: log.With("service", "metadata")}
}

// The versions listed at / (EC2) and /openstack, as Nova lists them.
var (
	ec2Versions       = []string{"1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15", "2008-02-01", "2008-09-01", "2009-04-04", "latest"}
	openstackVersions = []string{"2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30", "2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14", "latest"}
)

// Handler serves the metadata of whoever connects, as seen through who.
// The instance is found from the TCP peer address of the connection
// (r.RemoteAddr, which net/http takes from the socket); no header is read.
func (b *Backend) Handler(who Identity) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil {
			http.Error(w, "bad peer", http.StatusBadRequest)
			return
		}
		path := r.URL.Path
		if path == "/" || path == "" {
			text(w, strings.Join(ec2Versions, "\n"))
			return
		}
		t, err := Resolve(r.Context(), b.st, who, ap.Addr())
		if err != nil {
			b.log.Warn("metadata request refused", "identity", who.String(), "peer", ap.Addr().String(), "path", path, "err", err)
			if errors.Is(err, ErrNoPort) || errors.Is(err, ErrNoInstance) {
				http.NotFound(w, r)
			} else {
				http.Error(w, "metadata lookup failed", http.StatusInternalServerError)
			}
			return
		}
		b.log.Debug("metadata request", "identity", who.String(), "peer", ap.Addr().String(), "instance", t.Instance.ID, "path", path)
		serve(w, r, t, path)
	})
}

// serve answers path for t.
func serve(w http.ResponseWriter, r *http.Request, t Target, path string) {
	if rest, ok := strings.CutPrefix(path, "/openstack"); ok {
		serveOpenStack(w, r, t, rest)
		return
	}
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 2)
	if !contains(ec2Versions, parts[0]) {
		http.NotFound(w, r)
		return
	}
	if len(parts) == 1 || parts[1] == "" {
		text(w, "meta-data/\nuser-data")
		return
	}
	switch rest := parts[1]; {
	case rest == "user-data":
		userData(w, r, t)
	case rest == "meta-data" || strings.HasPrefix(rest, "meta-data/"):
		serveEC2(w, r, t, strings.Trim(strings.TrimPrefix(rest, "meta-data"), "/"))
	default:
		http.NotFound(w, r)
	}
}

func serveOpenStack(w http.ResponseWriter, r *http.Request, t Target, rest string) {
	rest = strings.Trim(rest, "/")
	if rest == "" {
		text(w, strings.Join(openstackVersions, "\n"))
		return
	}
	version, file, _ := strings.Cut(rest, "/")
	if !contains(openstackVersions, version) {
		http.NotFound(w, r)
		return
	}
	switch file {
	case "":
		files := []string{"meta_data.json", "network_data.json", "vendor_data.json", "vendor_data2.json"}
		if len(t.Instance.UserData) > 0 {
			files = append(files, "user_data")
		}
		text(w, strings.Join(files, "\n"))
	case "meta_data.json":
		jsonAnswer(w, metaData(t))
	case "network_data.json":
		jsonAnswer(w, networkData(t))
	case "vendor_data.json", "vendor_data2.json":
		jsonAnswer(w, map[string]any{})
	case "user_data":
		userData(w, r, t)
	default:
		http.NotFound(w, r)
	}
}

func userData(w http.ResponseWriter, r *http.Request, t Target) {
	if len(t.Instance.UserData) == 0 {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(t.Instance.UserData)
}

// metaData is Nova's meta_data.json.
func metaData(t Target) map[string]any {
	meta := t.Instance.Meta
	if meta == nil {
		meta = map[string]string{}
	}
	return map[string]any{
		"uuid":              t.Instance.ID,
		"name":              t.Instance.Name,
		"hostname":          t.Instance.Hostname,
		"project_id":        t.Instance.ProjectID,
		"availability_zone": t.Instance.AvailabilityZone,
		"launch_index":      0,
		"meta":              meta,
		"public_keys":       map[string]string{},
		"devices":           []any{},
	}
}

// ec2InstanceID is the EC2-style id: "i-" and the UUID's first 8 hex digits.
func ec2InstanceID(id string) string {
	h := strings.ReplaceAll(id, "-", "")
	if len(h) > 8 {
		h = h[:8]
	}
	return "i-" + h
}

// serveEC2 answers /<version>/meta-data/<key>.
func serveEC2(w http.ResponseWriter, r *http.Request, t Target, key string) {
	vals := map[string]string{
		"instance-id":                 ec2InstanceID(t.Instance.ID),
		"hostname":                    t.Instance.Hostname,
		"local-hostname":              t.Instance.Hostname,
		"local-ipv4":                  t.IP.String(),
		"mac":                         strings.ToLower(t.Port.MACAddress),
		"ami-launch-index":            "0",
		"placement/availability-zone": t.Instance.AvailabilityZone,
	}
	if t.FloatingIP != "" {
		vals["public-ipv4"] = t.FloatingIP
	}
	switch key {
	case "":
		idx := []string{"ami-launch-index", "hostname", "instance-id", "local-hostname", "local-ipv4", "mac", "placement/"}
		if t.FloatingIP != "" {
			idx = append(idx, "public-ipv4")
		}
		text(w, strings.Join(idx, "\n"))
	case "placement":
		text(w, "availability-zone")
	default:
		v, ok := vals[key]
		if !ok {
			http.NotFound(w, r)
			return
		}
		text(w, v)
	}
}

// networkData is Nova's network_data.json: a link per port, a network
// per IPv4 fixed IP (static, or ipv4_dhcp on DHCP subnets, with the
// address either way), the subnets' DNS servers as services.
func networkData(t Target) map[string]any {
	subnets := map[string]api.Subnet{}
	for _, s := range t.Subnets {
		subnets[s.ID] = s
	}
	links, networks, services := []any{}, []any{}, []any{}
	seenDNS := map[string]bool{}
	for _, p := range t.Ports {
		link := "tap" + p.ID[:min(11, len(p.ID))]
		var mtu any // null when unknown, as Nova
		if m := t.MTUs[p.NetworkID]; m > 0 {
			mtu = m
		}
		links = append(links, map[string]any{"id": link, "vif_id": p.ID, "type": "ovs",
			"ethernet_mac_address": strings.ToLower(p.MACAddress), "mtu": mtu})
		for _, f := range p.FixedIPs {
			s, ok := subnets[f.SubnetID]
			if !ok {
				continue
			}
			n, ok := networkEntry(len(networks), link, p, f, s)
			if !ok {
				continue
			}
			networks = append(networks, n)
			for _, ns := range s.DNSNameservers {
				if !seenDNS[ns] {
					seenDNS[ns] = true
					services = append(services, map[string]any{"type": "dns", "address": ns})
				}
			}
		}
	}
	return map[string]any{"links": links, "networks": networks, "services": services}
}

func networkEntry(i int, link string, p api.Port, f api.FixedIP, s api.Subnet) (map[string]any, bool) {
	cidr, err := netip.ParsePrefix(s.CIDR)
	if err != nil || !cidr.Addr().Is4() {
		return nil, false
	}
	typ := "ipv4"
	if s.EnableDHCP {
		typ = "ipv4_dhcp"
	}
	routes := []any{}
	if s.GatewayIP != nil && *s.GatewayIP != "" {
		routes = append(routes, map[string]any{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": *s.GatewayIP})
	}
	for _, hr := range s.HostRoutes {
		if d, err := netip.ParsePrefix(hr.Destination); err == nil && d.Addr().Is4() {
			routes = append(routes, map[string]any{"network": d.Masked().Addr().String(),
				"netmask": net.IP(net.CIDRMask(d.Bits(), 32)).String(), "gateway": hr.NextHop})
		}
	}
	return map[string]any{
		"id": fmt.Sprintf("network%d", i), "type": typ, "link": link, "network_id": p.NetworkID,
		"ip_address": f.IPAddress, "netmask": net.IP(net.CIDRMask(cidr.Bits(), 32)).String(),
		"routes": routes,
	}, true
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func text(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(s))
}

func jsonAnswer(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
