package proxy

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
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

// doorTest drives a door with a fake clock and records what it does.
type doorTest struct {
	t       *testing.T
	d       *door
	now     atomic.Int64 // fake clock, Unix nanoseconds (the door's timer reads it too)
	conns   map[string]*fakeConn
	greeted []string
	dropped int
}

func newDoorTest(t *testing.T, max, maxLobby int) *doorTest {
	dt := &doorTest{t: t, conns: map[string]*fakeConn{}}
	dt.now.Store(time.Unix(1000, 0).UnixNano())
	dt.d = newDoor(max, maxLobby, 5*time.Second, func() { dt.dropped++ })
	dt.d.now = func() time.Time { return time.Unix(0, dt.now.Load()) }
	dt.d.open(func(nc net.Conn) { dt.greeted = append(dt.greeted, nc.(*fakeConn).name) })
	t.Cleanup(dt.d.closeAll)
	return dt
}

func (dt *doorTest) enter(name, addr string) {
	c := &fakeConn{name: name}
	dt.conns[name] = c
	dt.d.enter(c, addr)
	dt.now.Add(int64(time.Millisecond)) // no two sockets arrive at once: ties would be decided by map order
}

func (dt *doorTest) nc(name string) net.Conn { return dt.conns[name] }

func (dt *doorTest) wait(d time.Duration) {
	dt.now.Add(int64(d))
	dt.d.tick()
}

// want checks the sockets greeted and closed so far, in order of names.
func (dt *doorTest) want(greeted string, closed string) {
	dt.t.Helper()
	var cl []string
	for _, n := range slices.Sorted(maps.Keys(dt.conns)) {
		if dt.conns[n].closed.Load() {
			cl = append(cl, n)
		}
	}
	dt.d.mu.Lock() // the door's timer may be at work
	g := strings.Join(dt.greeted, " ")
	dt.d.mu.Unlock()
	if g != greeted {
		dt.t.Fatalf("greeted %q, want %q", g, greeted)
	}
	if c := strings.Join(cl, " "); c != closed {
		dt.t.Fatalf("closed %q, want %q", c, closed)
	}
}

// TestDoorBurst: a burst from one address beyond max_unauthenticated
// waits in the lobby and is greeted as places free up; a socket of its own
// address makes way only after sameAddrGrace.
func TestDoorBurst(t *testing.T) {
	dt := newDoorTest(t, 2, 10)
	for _, n := range []string{"a", "b", "c", "d"} {
		dt.enter(n, "10.0.0.1")
	}
	dt.want("a b", "")
	dt.d.answered(dt.nc("a"))
	dt.wait(2 * time.Second) // b is silent, but only for another address yet
	dt.want("a b", "")
	dt.d.leave(dt.nc("a")) // logged in: the newest waiting goes in
	dt.want("a b d", "")
	dt.wait(time.Second + time.Millisecond) // b silent past sameAddrGrace
	dt.want("a b d c", "b")
	if g, w := dt.d.count(); g != 2 || w != 0 {
		t.Fatalf("greeted %d, waiting %d", g, w)
	}
	dt.d.leave(dt.nc("a")) // again: nothing
	dt.d.leave(dt.nc("b")) // closed by the door already: nothing
	if g, _ := dt.d.count(); g != 2 {
		t.Fatalf("greeted %d after leaving twice", g)
	}
}

// TestDoorFlood: silent sockets from one address give way to another
// address's socket after greetingGrace, to their own only after
// sameAddrGrace; a full lobby closes the crowded address's oldest;
// sockets wait no longer than lobbyWait.
func TestDoorFlood(t *testing.T) {
	dt := newDoorTest(t, 2, 3)
	dt.enter("a1", "10.0.0.1")
	dt.enter("a2", "10.0.0.1")
	dt.enter("a3", "10.0.0.1")
	dt.enter("a4", "10.0.0.1")
	dt.enter("b1", "10.0.0.2")
	dt.want("a1 a2", "")
	dt.enter("a5", "10.0.0.1") // the lobby is full: 10.0.0.1's oldest waiting goes
	dt.want("a1 a2", "a3")
	dt.wait(500 * time.Millisecond) // within the grace: nobody makes way
	dt.want("a1 a2", "a3")
	dt.wait(600 * time.Millisecond) // a1 silent for 1.1s makes way for b1, not for a5
	dt.want("a1 a2 b1", "a1 a3")
	dt.d.answered(dt.nc("b1"))
	dt.wait(2 * time.Second) // a2 silent for 3.1s makes way for a5, the newest of its own
	dt.want("a1 a2 b1 a5", "a1 a2 a3")
	dt.wait(2 * time.Second) // a4 waited more than 5s
	dt.want("a1 a2 b1 a5", "a1 a2 a3 a4")
	dt.d.mu.Lock()
	dropped := dt.dropped
	dt.d.mu.Unlock()
	if g, w := dt.d.count(); g != 2 || w != 0 || dropped != 4 {
		t.Fatalf("greeted %d, waiting %d, dropped %d", g, w, dropped)
	}
	dt.d.closeAll()
	dt.enter("late", "10.0.0.3")
	dt.want("a1 a2 b1 a5", "a1 a2 a3 a4 a5 b1 late")
}

// TestDoorAnswered: a socket that answered its greeting keeps its place,
// however many wait.
func TestDoorAnswered(t *testing.T) {
	dt := newDoorTest(t, 1, 10)
	dt.enter("a", "10.0.0.1")
	dt.d.answered(dt.nc("a"))
	dt.enter("b", "10.0.0.2")
	dt.wait(4 * time.Second)
	dt.want("a", "")
	dt.d.leave(dt.nc("a"))
	dt.want("a b", "")
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
