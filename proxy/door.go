package proxy

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/sqlerr"
)

// Grace periods before a greeted socket that has not answered its
// greeting may be closed to make room for a waiting one: from another
// client address after greetingGrace, from its own after sameAddrGrace (a
// legitimate client answers within a round trip, even on a busy machine).
const (
	greetingGrace = time.Second
	sameAddrGrace = 3 * time.Second
)

// door admits the sockets that have connected but not logged in yet.
//
// At most max of them are greeted and in their handshake at a time
// (limits.max_unauthenticated); sockets beyond that wait in the lobby,
// accepted but not greeted (no goroutine, no buffers), for at most
// lobbyWait, and at most maxLobby of them. A place that frees up goes to
// the lobby's client addresses in turn, the newest socket of each first.
// While sockets wait, a greeted socket that has not answered its greeting
// within greetingGrace is closed to make room for another address's
// socket (sameAddrGrace for one of its own), from the address with the
// most greeted sockets; a full lobby closes the oldest socket of the
// address with the most waiting. So a burst of clients queues rather than
// fails, a flood of silent sockets from some addresses costs clients of
// other addresses a second or so, and sockets before login never count
// against limits.max_connections, which counts sessions from login on.
// Safe for concurrent use.
type door struct {
	max       int
	maxLobby  int
	lobbyWait time.Duration
	now       func() time.Time
	closed    func() // counts each socket closed to make room or after waiting too long

	mu      sync.Mutex
	greet   func(net.Conn) // starts an admitted socket's session; called with mu held, must not block
	shut    bool
	inside  map[net.Conn]*waiting // greeted
	perAddr map[string]int        // greeted sockets per client address
	lobby   map[string]*lobbyAddr // waiting sockets per client address
	turns   []string              // addresses with waiting sockets, in turn, each once
	queued  int
	timer   *time.Timer
}

// lobbyAddr is the waiting sockets of one client address.
type lobbyAddr struct {
	list    []*waiting // oldest first
	inTurns bool
}

// waiting is one socket not logged in yet.
type waiting struct {
	nc       net.Conn
	addr     string
	since    time.Time // accepted (in the lobby) or greeted
	answered bool      // the client has sent its first packet
}

func newDoor(max, maxLobby int, lobbyWait time.Duration, closed func()) *door {
	return &door{max: max, maxLobby: maxLobby, lobbyWait: lobbyWait, now: time.Now, closed: closed,
		inside: make(map[net.Conn]*waiting), perAddr: make(map[string]int), lobby: make(map[string]*lobbyAddr)}
}

// open sets what starts an admitted socket's session.
func (d *door) open(greet func(net.Conn)) {
	d.mu.Lock()
	d.greet = greet
	d.mu.Unlock()
}

// enter admits nc, from client address addr, or puts it in the lobby.
func (d *door) enter(nc net.Conn, addr string) {
	var drop []net.Conn
	d.mu.Lock()
	w := &waiting{nc: nc, addr: addr, since: d.now()}
	switch {
	case d.shut:
		drop = append(drop, nc)
	case len(d.inside) < d.max && d.queued == 0:
		d.admit(w)
	default:
		if d.queued >= d.maxLobby {
			drop = append(drop, d.unqueue(d.crowdedLobby(), true).nc)
			d.closed()
		}
		a := d.lobby[addr]
		if a == nil {
			a = &lobbyAddr{}
			d.lobby[addr] = a
		}
		if !a.inTurns {
			a.inTurns = true
			d.turns = append(d.turns, addr)
		}
		a.list = append(a.list, w)
		d.queued++
		d.fill(&drop)
	}
	d.mu.Unlock()
	closeAll(drop)
}

// answered records that nc's client sent its first packet.
func (d *door) answered(nc net.Conn) {
	d.mu.Lock()
	if w := d.inside[nc]; w != nil {
		w.answered = true
	}
	d.mu.Unlock()
}

// leave forgets nc: it logged in, or its connection ended. Calling it
// again, or for a socket the door closed, does nothing.
func (d *door) leave(nc net.Conn) {
	var drop []net.Conn
	d.mu.Lock()
	if w := d.inside[nc]; w != nil {
		d.forget(w)
		d.fill(&drop)
	}
	d.mu.Unlock()
	closeAll(drop)
}

// admit greets w. d.mu is held.
func (d *door) admit(w *waiting) {
	w.since = d.now()
	d.inside[w.nc] = w
	d.perAddr[w.addr]++
	d.greet(w.nc)
}

// forget drops a greeted socket. d.mu is held.
func (d *door) forget(w *waiting) {
	delete(d.inside, w.nc)
	if d.perAddr[w.addr]--; d.perAddr[w.addr] == 0 {
		delete(d.perAddr, w.addr)
	}
}

// fill admits waiting sockets while there is room or a greeted socket
// may make way, adding the sockets it closes to drop, and keeps a timer
// running while sockets wait. d.mu is held.
func (d *door) fill(drop *[]net.Conn) {
	for d.queued > 0 {
		if len(d.inside) < d.max {
			d.admit(d.next())
			continue
		}
		w, v := d.makeWay()
		if w == nil {
			break
		}
		d.forget(v)
		*drop = append(*drop, v.nc)
		d.closed()
		d.admit(w)
	}
	if d.queued > 0 && !d.shut {
		if d.timer == nil {
			d.timer = time.AfterFunc(100*time.Millisecond, d.tick)
		} else {
			d.timer.Reset(100 * time.Millisecond)
		}
	}
}

// makeWay finds, with the door full, a waiting socket and a greeted one
// to close for it: the first address in turn for which a greeted socket
// has used up its grace, and that socket. It takes the waiting socket out
// of the lobby; both are nil when no greeted socket may go yet. d.mu is
// held.
func (d *door) makeWay() (w, v *waiting) {
	now := d.now()
	// The greeted socket to close for another address, from the address
	// with the most, the one silent longest; and the best from any other
	// address, for a socket of best's own.
	var best, other, own *waiting
	better := func(a, b *waiting) bool {
		return b == nil || d.perAddr[a.addr] > d.perAddr[b.addr] ||
			d.perAddr[a.addr] == d.perAddr[b.addr] && a.since.Before(b.since)
	}
	for _, x := range d.inside {
		if !x.answered && now.Sub(x.since) >= greetingGrace && better(x, best) {
			best = x
		}
	}
	if best == nil {
		return nil, nil
	}
	for _, x := range d.inside {
		switch {
		case x.answered || now.Sub(x.since) < greetingGrace:
		case x.addr != best.addr && better(x, other):
			other = x
		case x.addr == best.addr && now.Sub(x.since) >= sameAddrGrace && (own == nil || x.since.Before(own.since)):
			own = x
		}
	}
	for i, addr := range d.turns {
		if len(d.lobby[addr].list) == 0 {
			continue
		}
		switch {
		case addr != best.addr:
			v = best
		case other != nil:
			v = other
		case own != nil:
			v = own
		default:
			continue
		}
		d.turns = append(d.turns[:i:i], d.turns[i+1:]...)
		w = d.unqueue(addr, false)
		if len(d.lobby[addr].list) > 0 {
			d.turns = append(d.turns, addr)
		} else {
			delete(d.lobby, addr)
		}
		return w, v
	}
	return nil, nil
}

// next takes the lobby's next socket: the newest of the address whose turn
// it is. d.mu is held and the lobby is not empty.
func (d *door) next() *waiting {
	for {
		addr := d.turns[0]
		d.turns = d.turns[1:]
		a := d.lobby[addr]
		if len(a.list) == 0 { // emptied by closing its sockets
			delete(d.lobby, addr)
			continue
		}
		w := d.unqueue(addr, false)
		if len(a.list) > 0 {
			d.turns = append(d.turns, addr)
		} else {
			delete(d.lobby, addr)
		}
		return w
	}
}

// unqueue takes the oldest (or newest) waiting socket of addr out of the
// lobby. d.mu is held and addr has one.
func (d *door) unqueue(addr string, oldest bool) *waiting {
	a := d.lobby[addr]
	var w *waiting
	if oldest {
		w, a.list = a.list[0], a.list[1:]
	} else {
		w, a.list = a.list[len(a.list)-1], a.list[:len(a.list)-1]
	}
	d.queued--
	return w
}

// crowdedLobby is the address with the most waiting sockets. d.mu is held
// and the lobby is not empty.
func (d *door) crowdedLobby() string {
	best, most := "", 0
	for addr, a := range d.lobby {
		if len(a.list) > most {
			best, most = addr, len(a.list)
		}
	}
	return best
}

// tick closes sockets that waited too long and admits others.
func (d *door) tick() {
	var drop []net.Conn
	d.mu.Lock()
	if !d.shut {
		cutoff := d.now().Add(-d.lobbyWait)
		for addr, a := range d.lobby {
			for len(a.list) > 0 && a.list[0].since.Before(cutoff) {
				drop = append(drop, d.unqueue(addr, true).nc)
				d.closed()
			}
		}
		live := d.turns[:0] // forget addresses whose sockets all went
		for _, addr := range d.turns {
			if len(d.lobby[addr].list) > 0 {
				live = append(live, addr)
			} else {
				delete(d.lobby, addr)
			}
		}
		d.turns = live
		d.fill(&drop)
	}
	d.mu.Unlock()
	closeAll(drop)
}

// closeAll closes every socket not logged in, and admits no more (at
// shutdown).
func (d *door) closeAll() {
	var drop []net.Conn
	d.mu.Lock()
	d.shut = true
	if d.timer != nil {
		d.timer.Stop()
	}
	for nc := range d.inside {
		drop = append(drop, nc)
	}
	for _, a := range d.lobby {
		for _, w := range a.list {
			drop = append(drop, w.nc)
		}
	}
	d.lobby, d.turns, d.queued = map[string]*lobbyAddr{}, nil, 0
	d.mu.Unlock()
	closeAll(drop)
}

// count returns the greeted sockets and those waiting.
func (d *door) count() (greeted, waiting int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.inside), d.queued
}

func closeAll(ncs []net.Conn) {
	for _, nc := range ncs {
		_ = nc.Close()
	}
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

// openDoor makes the door start each admitted socket's session under ctx.
func (s *Server) openDoor(ctx context.Context) {
	s.door.open(func(nc net.Conn) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(ctx, nc)
		}()
	})
}

// welcome takes a socket just accepted: a client address blocked for
// failed logins is answered with the error alone, before any greeting, as
// MySQL answers a blocked host, and the socket is closed; others go
// through the door.
func (s *Server) welcome(nc net.Conn) {
	host := remoteHost(nc)
	if e := s.throttle.refusal(host, ""); e != nil {
		s.metrics.loginsBlocked.Inc()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			refuse(nc, e)
		}()
		return
	}
	s.door.enter(nc, host)
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
