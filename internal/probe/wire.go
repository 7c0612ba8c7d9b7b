package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vland/vland/internal/netns"
)

// Wire puts raw frames on VMs' NICs and captures what arrives there.
type Wire interface {
	// Listen starts capturing the frames that arrive at ep's NIC (not those
	// ep sends itself).
	Listen(ep Endpoint) (Capture, error)
	// Send puts frames on ep's NIC as if ep's VM sent them.
	Send(ctx context.Context, ep Endpoint, frames [][]byte) error
}

// Capture is a running capture.
type Capture interface {
	// Received is how many frames arrived so far.
	Received() int
	// Stop ends the capture and returns every frame that arrived.
	Stop() [][]byte
}

// AFPacket is the Wire of VMs that are network namespaces (the lab's): it
// opens AF_PACKET sockets inside the VM's namespace (Endpoint.NetNS) on its
// NIC, so it sees exactly what the VM's kernel would, before any filtering.
type AFPacket struct {
	Dev string // the VM's NIC; "" is eth0
}

// captureBuffer holds a burst of frames while the reader is descheduled on
// a busy machine.
const captureBuffer = 8 << 20

// Pacing of Send: a small burst, then a pause (about 800 frames/s per VM),
// so that ovs-vswitchd's socket on a VM's port does not overflow when the
// single-threaded userspace datapath is descheduled on a busy machine.
const (
	sendBurst = 4
	sendPause = 5 * time.Millisecond
)

func (w AFPacket) dev() string {
	if w.Dev == "" {
		return "eth0"
	}
	return w.Dev
}

// open returns an AF_PACKET socket made inside ep's namespace and bound to
// its NIC; proto 0 receives nothing (a socket for sending).
func (w AFPacket) open(ep Endpoint, proto uint16) (fd, ifindex int, err error) {
	if ep.NetNS == "" {
		return -1, 0, fmt.Errorf("probe: %s: no network namespace", ep.Name)
	}
	fd = -1
	err = netns.Do(ep.NetNS, func() error {
		ifi, err := net.InterfaceByName(w.dev())
		if err != nil {
			return err
		}
		ifindex = ifi.Index
		if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(proto))); err != nil {
			return fmt.Errorf("AF_PACKET socket: %w", err)
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(proto), Ifindex: ifindex})
	})
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return -1, 0, fmt.Errorf("probe: %s: %s in %s: %w", ep.Name, w.dev(), ep.NetNS, err)
	}
	return fd, ifindex, nil
}

func (w AFPacket) Listen(ep Endpoint) (Capture, error) {
	fd, _, err := w.open(ep, unix.ETH_P_ALL)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, captureBuffer),
		unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1),
		unix.SetNonblock(fd, true)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("probe: %s: capture socket: %w", ep.Name, err)
	}
	// An os.File puts the socket on Go's poller: Close wakes a blocked read.
	f := os.NewFile(uintptr(fd), "capture-"+ep.Name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	c := &afCapture{f: f, done: make(chan struct{})}
	go c.read(rc)
	return c, nil
}

type afCapture struct {
	f      *os.File
	n      atomic.Int64
	mu     sync.Mutex
	frames [][]byte
	done   chan struct{}
}

func (c *afCapture) read(rc interface {
	Read(func(uintptr) bool) error
}) {
	defer close(c.done)
	buf := make([]byte, 65536)
	for {
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, _, rerr = unix.Recvfrom(int(fd), buf, 0)
			return rerr != unix.EAGAIN
		})
		if err != nil || (rerr != nil && rerr != unix.EINTR) {
			return // closed by Stop
		}
		if rerr == nil {
			c.mu.Lock()
			c.frames = append(c.frames, append([]byte(nil), buf[:n]...))
			c.mu.Unlock()
			c.n.Add(1)
		}
	}
}

func (c *afCapture) Received() int { return int(c.n.Load()) }

func (c *afCapture) Stop() [][]byte {
	c.f.Close()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames
}

func (w AFPacket) Send(ctx context.Context, ep Endpoint, frames [][]byte) error {
	fd, _, err := w.open(ep, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for i, f := range frames {
		if i > 0 && i%sendBurst == 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(sendPause):
			}
		}
		if _, err := unix.Write(fd, f); err != nil {
			return fmt.Errorf("probe: %s: send frame %d of %d: %w", ep.Name, i+1, len(frames), err)
		}
	}
	return nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
