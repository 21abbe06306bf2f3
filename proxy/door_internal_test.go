package proxy

import (
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/sqlerr"
)

// fakeConn is a net.Conn that records Close.
type fakeConn struct {
	net.Conn
	name   string
	closed atomic.Bool
}

func (c *fakeConn) Close() error { c.closed.Store(true); return nil }

// TestDoor: at the cap, the oldest socket of the address holding the most
// is closed; sockets that leave free their place; leave is idempotent.
func TestDoor(t *testing.T) {
	var closedAtCap int
	d := newDoor(4, func() { closedAtCap++ })
	conns := map[string]*fakeConn{}
	enter := func(name, addr string) {
		c := &fakeConn{name: name}
		conns[name] = c
		d.enter(c, addr)
		time.Sleep(time.Millisecond) // distinct arrival times
	}
	enter("a1", "10.0.0.1")
	enter("b1", "10.0.0.2")
	enter("a2", "10.0.0.1")
	enter("a3", "10.0.0.1")
	if d.count() != 4 || closedAtCap != 0 {
		t.Fatalf("count %d, closed %d", d.count(), closedAtCap)
	}
	enter("c1", "10.0.0.3") // full: 10.0.0.1 holds the most; its oldest goes
	wantClosed := func(want ...string) {
		t.Helper()
		var got []string
		for _, n := range []string{"a1", "a2", "a3", "b1", "c1", "c2", "b2", "c3", "d1", "d2"} {
			if c := conns[n]; c != nil && c.closed.Load() {
				got = append(got, n)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("closed %v, want %v", got, want)
		}
	}
	wantClosed("a1")
	enter("c2", "10.0.0.3") // a2, a3 from 10.0.0.1 and c1, c2 from 10.0.0.3: a2 is older
	wantClosed("a1", "a2")
	d.leave(conns["a3"])
	d.leave(conns["a3"])
	d.leave(conns["a1"]) // already closed at the cap
	if d.count() != 3 || closedAtCap != 2 {
		t.Fatalf("count %d, closed %d after leaving", d.count(), closedAtCap)
	}
	enter("b2", "10.0.0.2")
	wantClosed("a1", "a2")
	// Sockets that answered the greeting go only when none is silent.
	d.answered(conns["b1"])
	d.answered(conns["b2"])
	enter("c3", "10.0.0.3") // 10.0.0.2 has the most sockets, but they answered
	wantClosed("a1", "a2", "c1")
	d.answered(conns["c2"])
	d.answered(conns["c3"])
	// All four answered: the oldest of the addresses with the most goes.
	enter("d1", "10.0.0.4")
	wantClosed("a1", "a2", "b1", "c1")
	// A silent socket goes before those that answered, even a new one.
	enter("d2", "10.0.0.4")
	wantClosed("a1", "a2", "b1", "c1", "d1")

	d.closeAll()
	for _, n := range []string{"c2", "b2", "c3", "d2"} {
		if !conns[n].closed.Load() {
			t.Fatalf("%s not closed at shutdown", n)
		}
	}
}

// TestThrottle: failures within the window block an address or a
// configured user for the block time; other addresses and users are not
// affected; counting starts afresh after the window or the block.
func TestThrottle(t *testing.T) {
	now := time.Unix(1000, 0)
	th := newThrottle(config.LoginThrottle{AddressFailures: 3, UserFailures: 5, Window: time.Minute, Block: 30 * time.Second})
	th.now = func() time.Time { return now }
	want := func(addr, user string, num uint16) {
		t.Helper()
		e := th.refusal(addr, user)
		switch {
		case num == 0 && e != nil:
			t.Fatalf("%s as %s refused: %v", addr, user, e)
		case num != 0 && (e == nil || e.Num != num || e.State != "HY000"):
			t.Fatalf("%s as %s: %v, want %d (HY000)", addr, user, e, num)
		}
	}
	th.fail("10.0.0.1", "app", true)
	th.fail("10.0.0.1", "app", true)
	want("10.0.0.1", "app", 0)
	th.fail("10.0.0.1", "app", true)
	want("10.0.0.1", "", sqlerr.ErrHostIsBlocked)
	want("10.0.0.2", "app", 0)
	if e := th.refusal("10.0.0.1", ""); e.Message != "Host '10.0.0.1' is blocked because of 3 failed logins within 1m0s; try again in 30s" {
		t.Fatalf("message %q", e.Message)
	}

	// Two more for app from elsewhere: the user is blocked everywhere,
	// other users are not.
	th.fail("10.0.0.2", "app", true)
	th.fail("10.0.0.3", "app", true)
	want("10.0.0.4", "app", sqlerr.ErrUserIsBlocked)
	want("10.0.0.4", "other", 0)

	now = now.Add(31 * time.Second)
	want("10.0.0.1", "app", 0)

	// Failures spread wider than the window never block.
	for range 5 {
		th.fail("10.0.0.9", "nobody", false)
		now = now.Add(40 * time.Second)
	}
	want("10.0.0.9", "nobody", 0)
	// Unknown user names are not recorded.
	if _, ok := th.users["nobody"]; ok {
		t.Fatal("an unknown user name was recorded")
	}
}

// TestThrottleBounded: the address records stay under the cap, keeping
// blocked addresses over addresses with fewer failures, and expire.
func TestThrottleBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	th := newThrottle(config.LoginThrottle{AddressFailures: 2, Window: time.Minute, Block: time.Minute})
	th.now = func() time.Time { return now }
	th.fail("blocked", "", false)
	th.fail("blocked", "", false)
	for i := range maxTrackedAddresses + 500 {
		th.fail(fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255), "", false)
	}
	if n := len(th.addrs); n > maxTrackedAddresses {
		t.Fatalf("%d address records, cap %d", n, maxTrackedAddresses)
	}
	if th.refusal("blocked", "") == nil {
		t.Fatal("a blocked address was forgotten to make room")
	}
	now = now.Add(2 * time.Minute)
	th.fail("late", "", false)
	if n := len(th.addrs); n != 1 {
		t.Fatalf("%d address records after they expired, want 1", n)
	}
}
