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
// does not wait and is not refused: the oldest socket of the client address
// that holds the most is closed instead. A flood of silent sockets thus
// closes its own sockets, and a client that logs in within a moment is not
// locked out by them; none of them counts against limits.max_connections,
// which counts sessions from login on. Safe for concurrent use.
type door struct {
	max int

	mu     sync.Mutex
	byConn map[net.Conn]*waiting
	byAddr map[string][]*waiting // oldest first
	closed func()                // called for each socket closed at the cap
}

// waiting is one socket in its handshake.
type waiting struct {
	nc    net.Conn
	addr  string
	since time.Time
}

func newDoor(max int, closed func()) *door {
	return &door{max: max, byConn: make(map[net.Conn]*waiting), byAddr: make(map[string][]*waiting), closed: closed}
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
	d.byAddr[addr] = append(d.byAddr[addr], w)
	d.mu.Unlock()
	if victim != nil {
		// Its session goroutine sees the socket fail and ends; it was
		// already forgotten here, so the count stays at the cap.
		_ = victim.nc.Close()
		d.closed()
	}
}

// evict forgets the oldest socket of the address with the most (ties: the
// one waiting longest) and returns it. d.mu is held.
func (d *door) evict() *waiting {
	var list []*waiting
	for _, l := range d.byAddr {
		if len(l) > len(list) || len(l) == len(list) && l[0].since.Before(list[0].since) {
			list = l
		}
	}
	w := list[0]
	d.remove(w)
	return w
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
	l := d.byAddr[w.addr]
	for i, x := range l {
		if x == w {
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(d.byAddr, w.addr)
	} else {
		d.byAddr[w.addr] = l
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
