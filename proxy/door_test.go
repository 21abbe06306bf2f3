package proxy_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
)

// fromAddr registers a go-sql-driver network that dials from the loopback
// address src (127.0.0.x; Linux routes all of 127/8 to lo) and returns its
// name, for DSNs like "user:pw@name(addr)/".
func fromAddr(src string) string {
	name := "from-" + src
	dialers.Do(name, func() {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
		mysql.RegisterDialContext(name, func(ctx context.Context, addr string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", addr)
		})
	})
	return name
}

// dialers registers each source address once.
var dialers = onceMap{m: map[string]bool{}}

type onceMap struct {
	mu sync.Mutex
	m  map[string]bool
}

func (o *onceMap) Do(key string, f func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.m[key] {
		o.m[key] = true
		f()
	}
}

// login connects to Courier from src as user/pw and runs a trivial query.
func (e *env) login(src, user, pw string) error {
	db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@%s(%s)/?timeout=5s", user, pw, fromAddr(src), e.courier.Addr))
	if err != nil {
		return err
	}
	defer db.Close()
	var one int
	return db.QueryRow("SELECT 1").Scan(&one)
}

func loopbackWorks(t *testing.T, src string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: time.Second}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Skipf("cannot dial from %s on this machine: %v", src, err)
	}
	c.Close()
}

// TestLoginThrottle: a burst of bad logins from one address is refused
// with 1045 up to login_throttle.address_failures, then with 1129 even for
// the right password until the block ends; logins from another address
// go on unaffected. Failures for one user from many addresses block that
// user (4150) and no other.
func TestLoginThrottle(t *testing.T) {
	loopbackWorks(t, "127.0.0.2")
	const block = 2 * time.Second
	e := newEnvWith(t, func(c *config.Config) {
		c.Users = append(c.Users, config.User{Name: "victim", Password: "secret"})
		c.LoginThrottle = config.LoginThrottle{AddressFailures: 5, UserFailures: 8, Window: time.Minute, Block: block}
	})

	start := time.Now()
	var wg sync.WaitGroup
	wg.Add(1)
	var goodErr atomic.Value
	go func() { // legitimate logins from another address all along
		defer wg.Done()
		for range 20 {
			if err := e.login("127.0.0.2", "app", "app"); err != nil {
				goodErr.CompareAndSwap(nil, err)
			}
		}
	}()
	for i := range 30 {
		err := e.login("127.0.0.1", "app", "wrong")
		if i < 5 {
			wantMySQLError(t, err, 1045, "28000")
			continue
		}
		wantMySQLError(t, err, 1129, "HY000")
		if msg := err.Error(); !strings.Contains(msg, "Host '127.0.0.1' is blocked because of 5 failed logins within 1m0s; try again in ") {
			t.Fatalf("blocked login %d: %q", i, msg)
		}
	}
	wantMySQLError(t, e.login("127.0.0.1", "app", "app"), 1129, "HY000") // the right password too
	wg.Wait()
	if err := goodErr.Load(); err != nil {
		t.Fatalf("a login from 127.0.0.2 failed during the burst from 127.0.0.1: %v", err)
	}
	if time.Since(start) >= block {
		t.Fatalf("the burst took %s, longer than the block; raise the block", time.Since(start))
	}
	time.Sleep(time.Until(start.Add(block + 200*time.Millisecond)))
	if err := e.login("127.0.0.1", "app", "app"); err != nil {
		t.Fatalf("login after the block: %v", err)
	}

	// Per user: one failure from each of 8 addresses blocks victim, whose
	// right password is then refused from a ninth; app still logs in.
	for i := range 8 {
		src := fmt.Sprintf("127.0.0.%d", 10+i)
		wantMySQLError(t, e.login(src, "victim", "guess"), 1045, "28000")
	}
	err := e.login("127.0.0.20", "victim", "secret")
	wantMySQLError(t, err, 4150, "HY000")
	if !strings.Contains(err.Error(), "User 'victim' is blocked because of 8 failed logins within 1m0s; try again in ") {
		t.Fatalf("blocked user: %q", err)
	}
	if err := e.login("127.0.0.20", "app", "app"); err != nil {
		t.Fatalf("another user's login while victim is blocked: %v", err)
	}
}

// TestAccessDeniedUsingPassword: 1045 says whether a password was sent,
// as MySQL does.
func TestAccessDeniedUsingPassword(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, user, pw, want string
	}{
		{"empty password", "app", "", "Access denied for user 'app'@'127.0.0.1' (using password: NO)"},
		{"wrong password", "app", "wrong", "Access denied for user 'app'@'127.0.0.1' (using password: YES)"},
		{"unknown user, no password", "nobody", "", "Access denied for user 'nobody'@'127.0.0.1' (using password: NO)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.open(e.courier.DSN(tc.user, tc.pw, "", "")).Ping()
			wantMySQLError(t, err, 1045, "28000")
			var me *mysql.MySQLError
			errors.As(err, &me)
			if me.Message != tc.want {
				t.Fatalf("message %q, want %q", me.Message, tc.want)
			}
		})
	}
}

// TestSilentSockets: 2,000 sockets that connect and say nothing never
// make a login fail with 1040, nor count against max_connections: past
// limits.max_unauthenticated they wait ungreeted, silent ones give way to
// clients of other addresses after a second, and all are closed within
// twice the handshake timeout. While the flood lasts, logins from another
// address never fail, and those from the flood's own address wait in line
// with it (they are only counted); once Courier has closed the silent
// sockets, logins from both addresses succeed.
func TestSilentSockets(t *testing.T) {
	loopbackWorks(t, "127.0.0.2")
	const silent, maxUnauth, handshake = 2000, 256, 2 * time.Second
	e := newEnvWith(t, func(c *config.Config) {
		c.Limits.MaxConnections = 20
		c.Limits.MaxUnauthenticated = maxUnauth
		c.Limits.HandshakeTimeout = handshake
	})
	deadline := time.Now().Add(60 * time.Second) // the test's own bound
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	var mu sync.Mutex
	var socks []net.Conn
	defer func() {
		for _, c := range socks {
			c.Close()
		}
	}()
	var opened sync.WaitGroup
	var dialErrs atomic.Int64
	for range 8 {
		opened.Add(1)
		go func() {
			defer opened.Done()
			var d net.Dialer
			for range silent / 8 {
				c, err := d.DialContext(ctx, "tcp", e.courier.Addr)
				if err != nil {
					dialErrs.Add(1)
					continue
				}
				mu.Lock()
				socks = append(socks, c)
				mu.Unlock()
			}
		}()
	}
	type tally struct{ logins, failed, tooMany atomic.Int64 }
	var other, same, after tally
	var firstErr atomic.Value
	try := func(tl *tally, src, when string) {
		tl.logins.Add(1)
		err := e.login(src, "app", "app")
		if err == nil {
			return
		}
		tl.failed.Add(1)
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1040 {
			tl.tooMany.Add(1)
		}
		firstErr.CompareAndSwap(nil, fmt.Sprintf("from %s %s: %v", src, when, err))
	}
	var done atomic.Bool
	var lw sync.WaitGroup
	for _, c := range []struct {
		tl  *tally
		src string
	}{{&other, "127.0.0.2"}, {&other, "127.0.0.2"}, {&same, "127.0.0.1"}} {
		lw.Add(1)
		go func() {
			defer lw.Done()
			for !done.Load() && time.Now().Before(deadline) {
				try(c.tl, c.src, "during the flood")
			}
		}()
	}
	opened.Wait()
	// The flood is open: clients of another address still get in.
	for range 5 {
		try(&other, "127.0.0.2", "with the flood open")
	}
	done.Store(true)
	lw.Wait()
	if n := dialErrs.Load(); n > 0 {
		t.Fatalf("%d of %d silent sockets could not connect", n, silent)
	}
	if st := e.courier.Server.Status(); st.Unauthenticated > maxUnauth {
		t.Fatalf("%d sockets in their handshake (and %d waiting), cap %d", st.Unauthenticated, st.Waiting, maxUnauth)
	}

	// Every silent socket is closed by Courier within twice the
	// handshake timeout (waiting, then greeted).
	var closed atomic.Int64
	var rw sync.WaitGroup
	for _, c := range socks {
		rw.Add(1)
		go func() {
			defer rw.Done()
			_ = c.SetReadDeadline(time.Now().Add(2*handshake + 5*time.Second))
			buf := make([]byte, 256)
			for {
				if _, err := c.Read(buf); err != nil {
					if !isTimeout(err) {
						closed.Add(1)
					}
					return
				}
			}
		}()
	}
	rw.Wait()
	if n := closed.Load(); n != int64(len(socks)) {
		t.Fatalf("%d of %d silent sockets still open after twice the handshake timeout", int64(len(socks))-n, len(socks))
	}
	waitFor(t, 2*time.Second, "no socket left before login", func() bool {
		st := e.courier.Server.Status()
		return st.Unauthenticated == 0 && st.Waiting == 0
	})
	for _, src := range []string{"127.0.0.1", "127.0.0.2"} {
		for range 10 {
			try(&after, src, "after the flood")
		}
	}
	t.Logf("logins with %d silent sockets: from another address %d (%d failed), from the same address %d (%d failed); after: %d (%d failed)",
		silent, other.logins.Load(), other.failed.Load(), same.logins.Load(), same.failed.Load(), after.logins.Load(), after.failed.Load())
	if n := other.tooMany.Load() + same.tooMany.Load() + after.tooMany.Load(); n > 0 {
		t.Fatalf("%d logins failed with 1040; first failure: %v", n, firstErr.Load())
	}
	if other.failed.Load() > 0 || after.failed.Load() > 0 {
		t.Fatalf("logins from another address or after the flood failed; first failure: %v", firstErr.Load())
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestTruncatedPacketAfterLogin: a client that sends the start of a packet
// and no more is disconnected within limits.packet_timeout, while a slow
// but complete packet and a long pause between packets are fine.
func TestTruncatedPacketAfterLogin(t *testing.T) {
	const packetTimeout = time.Second
	e := newEnvWith(t, func(c *config.Config) {
		c.Limits.PacketTimeout = packetTimeout
		c.Limits.IdleClientTimeout = time.Hour
	})
	dial := func() (*backend.Conn, net.Conn) {
		bc, err := backend.Dial(context.Background(), backend.Options{Addr: e.courier.Addr, User: "app", Password: "app"}, backend.FlavourPlain)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bc.Close() })
		return bc, bc.Wire().NetConn()
	}
	query := func(sql string) []byte {
		p := append([]byte{0x03}, sql...)
		return append([]byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), 0}, p...)
	}

	// Idle longer than the packet timeout between packets, then a query
	// sent in pieces within it: both fine.
	bc, nc := dial()
	time.Sleep(packetTimeout + 500*time.Millisecond)
	q := query("SELECT 42")
	for _, piece := range [][]byte{q[:2], q[2:7], q[7:]} {
		if _, err := nc.Write(piece); err != nil {
			t.Fatal(err)
		}
		time.Sleep(packetTimeout / 4)
	}
	if rows, err := readRows(bc); err != nil || rows != 1 {
		t.Fatalf("slow query: %d rows, %v", rows, err)
	}

	// A header promising 100 bytes and 10 of them: closed in time.
	_, nc = dial()
	start := time.Now()
	if _, err := nc.Write(append([]byte{100, 0, 0, 0, 0x03}, "SELECT 1 "...)); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(packetTimeout + 5*time.Second))
	reply, err := io.ReadAll(nc)
	took := time.Since(start)
	if isTimeout(err) {
		t.Fatalf("connection with a truncated packet still open after %s", took)
	}
	if took < packetTimeout-100*time.Millisecond || took > packetTimeout+2*time.Second {
		t.Fatalf("connection with a truncated packet closed after %s, want about %s", took, packetTimeout)
	}
	if len(reply) > 4 { // an error before closing, if any, says why
		if num, state, _ := wire.ParseErr(reply[4:]); reply[4] != wire.ErrHeader || num != 1159 || state != "08S01" {
			t.Fatalf("reply before closing: %q; want nothing or error 1159 (08S01)", reply)
		}
	}
}

// readRows reads a text result set's rows from bc.
func readRows(bc *backend.Conn) (int, error) {
	w := bc.Wire()
	p, err := w.ReadPacket(1 << 20)
	if err != nil {
		return 0, err
	}
	if p[0] == wire.ErrHeader {
		num, _, msg := wire.ParseErr(p)
		return 0, fmt.Errorf("error %d: %s", num, msg)
	}
	cols := int(p[0])
	for range cols + 1 {
		if _, err := w.ReadPacket(1 << 20); err != nil {
			return 0, err
		}
	}
	for rows := 0; ; rows++ {
		p, err := w.ReadPacket(1 << 20)
		if err != nil {
			return rows, err
		}
		if wire.IsEOF(p, len(p)) {
			return rows, nil
		}
	}
}
