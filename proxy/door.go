package proxy

import (
	"net"
	"sync"
	"time"

	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/sqlerr"
)

// door counts the sockets that have connected but not logged in yet and
// keeps them under limits.max_unauthenticated. At the cap, a new socket
// does not wait and is not refused: another is closed instead, the oldest
// of those that have not answered the greeting, from the client address
// with the most of them (only when every socket has answered, the oldest
// of the address with the most sockets). A flood of silent sockets thus
// closes its own sockets, and a client that answers the greeting before
// max_unauthenticated more sockets arrive from its own address is never
// closed for them; none of them counts against limits.max_connections,
// which counts sessions from login on. Safe for concurrent use.
type door struct {
	max int

	mu     sync.Mutex
	byConn map[net.Conn]*waiting
	byAddr map[string]*addrWaiting
	closed func() // called for each socket closed at the cap
}

// waiting is one socket in its handshake.
type waiting struct {
	nc       net.Conn
	addr     string
	since    time.Time
	answered bool // the client has sent its first packet
}

// addrWaiting is the sockets of one client address, oldest first.
type addrWaiting struct {
	list   []*waiting
	silent int // how many have not answered
}

func newDoor(max int, closed func()) *door {
	return &door{max: max, byConn: make(map[net.Conn]*waiting), byAddr: make(map[string]*addrWaiting), closed: closed}
}

// enter counts nc, from client address addr, as unauthenticated, closing
// another socket when the door is full.
func (d *door) enter(nc net.Conn, addr string) {
	w := &waiting{nc: nc, addr: addr, since: time.Now()}
	d.mu.Lock()
	var victim *waiting
	if len(d.byConn) >= d.max {
		victim = d.evict()
	}
	d.byConn[nc] = w
	a := d.byAddr[addr]
	if a == nil {
		a = &addrWaiting{}
		d.byAddr[addr] = a
	}
	a.list = append(a.list, w)
	a.silent++
	d.mu.Unlock()
	if victim != nil {
		// Its session goroutine sees the socket fail and ends; it was
		// already forgotten here, so the count stays at the cap.
		_ = victim.nc.Close()
		d.closed()
	}
}

// answered records that nc's client sent its first packet.
func (d *door) answered(nc net.Conn) {
	d.mu.Lock()
	if w := d.byConn[nc]; w != nil && !w.answered {
		w.answered = true
		d.byAddr[w.addr].silent--
	}
	d.mu.Unlock()
}

// evict forgets the socket to close at the cap and returns it. d.mu is
// held and the door is not empty.
func (d *door) evict() *waiting {
	var pick *addrWaiting
	for _, a := range d.byAddr {
		if pick == nil || a.worse(pick) {
			pick = a
		}
	}
	w := pick.list[0]
	if pick.silent > 0 {
		for _, x := range pick.list {
			if !x.answered {
				w = x
				break
			}
		}
	}
	d.remove(w)
	return w
}

// worse reports whether a's sockets should go before b's: more silent
// sockets; with none silent, more sockets; then the one waiting longest.
func (a *addrWaiting) worse(b *addrWaiting) bool {
	switch {
	case a.silent != b.silent:
		return a.silent > b.silent
	case a.silent == 0 && len(a.list) != len(b.list):
		return len(a.list) > len(b.list)
	}
	return a.list[0].since.Before(b.list[0].since)
}

// leave forgets nc: it logged in, or its connection ended. Calling it
// again, or for a socket already closed at the cap, does nothing.
func (d *door) leave(nc net.Conn) {
	d.mu.Lock()
	if w := d.byConn[nc]; w != nil {
		d.remove(w)
	}
	d.mu.Unlock()
}

// remove forgets w. d.mu is held.
func (d *door) remove(w *waiting) {
	delete(d.byConn, w.nc)
	a := d.byAddr[w.addr]
	for i, x := range a.list {
		if x == w {
			a.list = append(a.list[:i], a.list[i+1:]...)
			break
		}
	}
	if !w.answered {
		a.silent--
	}
	if len(a.list) == 0 {
		delete(d.byAddr, w.addr)
	}
}

// closeAll closes every socket counted (at shutdown).
func (d *door) closeAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for nc := range d.byConn {
		_ = nc.Close()
	}
}

// count returns the sockets counted now.
func (d *door) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.byConn)
}

// remoteHost is the client address of nc without its port.
func remoteHost(nc net.Conn) string {
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, err := net.SplitHostPort(nc.RemoteAddr().String())
	if err != nil {
		return nc.RemoteAddr().String()
	}
	return host
}

// welcome decides, right after accept, whether nc gets a greeting: a
// client address blocked for failed logins is answered with the error
// alone, before the greeting, as MySQL answers a blocked host, and the
// socket is closed. Others are counted at the door.
func (s *Server) welcome(nc net.Conn) bool {
	host := remoteHost(nc)
	if e := s.throttle.refusal(host, ""); e != nil {
		s.metrics.loginsBlocked.Inc()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			refuse(nc, e)
		}()
		return false
	}
	s.door.enter(nc, host)
	return true
}

// refuse writes an error packet as a connection's first packet and closes
// the connection.
func refuse(nc net.Conn, e *sqlerr.Error) {
	_ = nc.SetDeadline(time.Now().Add(time.Second))
	c := wire.NewConn(nc, 64, 512)
	if c.WritePacket(wire.AppendErr(nil, e.Num, e.State, e.Message)) == nil {
		_ = c.Flush()
	}
	_ = nc.Close()
}
