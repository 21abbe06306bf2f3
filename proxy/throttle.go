package proxy

import (
	"math"
	"sync"
	"time"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/sqlerr"
)

// maxTrackedAddresses bounds the client addresses whose failed logins the
// throttle remembers (about 100 bytes each).
const maxTrackedAddresses = 10000

// throttle refuses logins from client addresses, and for user names, that
// failed to log in too often (login_throttle): after so many failures
// within the window of the first, logins are refused for the block time
// without looking at their password, as MaxScale's
// max_auth_errors_until_block does for hosts.
//
// Only configured user names are counted, so the records of users are
// bounded by the configuration; records of addresses are bounded by
// maxTrackedAddresses and dropped once their window and block are over.
// Safe for concurrent use.
type throttle struct {
	cfg config.LoginThrottle
	now func() time.Time

	mu        sync.Mutex
	addrs     map[string]*failures
	users     map[string]*failures
	lastSweep time.Time
}

// failures is the record of one address or user.
type failures struct {
	first time.Time // start of the counting window
	count int       // failures since first
	until time.Time // refused until then
}

func newThrottle(cfg config.LoginThrottle) *throttle {
	return &throttle{cfg: cfg, now: time.Now, addrs: make(map[string]*failures), users: make(map[string]*failures)}
}

// refusal returns the error a login from addr as user gets while either is
// blocked, or nil. Pass user "" before the client has named one.
func (t *throttle) refusal(addr, user string) *sqlerr.Error {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.addrs[addr]; f != nil && now.Before(f.until) {
		return sqlerr.New(sqlerr.ErrHostIsBlocked,
			"Host '%s' is blocked because of %d failed logins within %s; try again in %s",
			addr, t.cfg.AddressFailures, t.cfg.Window, retryIn(f.until.Sub(now)))
	}
	if f := t.users[user]; user != "" && f != nil && now.Before(f.until) {
		return sqlerr.New(sqlerr.ErrUserIsBlocked,
			"User '%s' is blocked because of %d failed logins within %s; try again in %s",
			user, t.cfg.UserFailures, t.cfg.Window, retryIn(f.until.Sub(now)))
	}
	return nil
}

// fail records a failed login from addr as user; known says whether user
// is a configured user (others are counted against the address only).
func (t *throttle) fail(addr, user string, known bool) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.Sub(t.lastSweep) > t.cfg.Window {
		t.sweep(now)
	}
	if t.cfg.AddressFailures > 0 {
		f := t.addrs[addr]
		if f == nil {
			if len(t.addrs) >= maxTrackedAddresses {
				t.makeRoom(now)
			}
			f = &failures{}
			t.addrs[addr] = f
		}
		t.count(f, now, t.cfg.AddressFailures)
	}
	if known && t.cfg.UserFailures > 0 {
		f := t.users[user]
		if f == nil {
			f = &failures{}
			t.users[user] = f
		}
		t.count(f, now, t.cfg.UserFailures)
	}
}

// count adds a failure to f and blocks it at limit; counting starts
// afresh once the block is over.
func (t *throttle) count(f *failures, now time.Time, limit int) {
	if now.Before(f.until) {
		return // a login already under way when the block began
	}
	if f.count == 0 || now.Sub(f.first) > t.cfg.Window {
		f.first, f.count = now, 0
	}
	f.count++
	if f.count >= limit {
		f.until = now.Add(t.cfg.Block)
		f.count = 0
	}
}

// expired reports whether a record has nothing left to remember.
func (t *throttle) expired(f *failures, now time.Time) bool {
	return !now.Before(f.until) && (f.count == 0 || now.Sub(f.first) > t.cfg.Window)
}

// sweep drops every expired record.
func (t *throttle) sweep(now time.Time) {
	t.lastSweep = now
	for k, f := range t.addrs {
		if t.expired(f, now) {
			delete(t.addrs, k)
		}
	}
	for k, f := range t.users {
		if t.expired(f, now) {
			delete(t.users, k)
		}
	}
}

// makeRoom frees one place among the addresses: the expired records go;
// failing that, the unblocked record with the fewest failures, or else the
// block that ends first.
func (t *throttle) makeRoom(now time.Time) {
	t.sweep(now)
	if len(t.addrs) < maxTrackedAddresses {
		return
	}
	victim, fewest := "", math.MaxInt
	var soonest time.Time
	for k, f := range t.addrs {
		blocked := now.Before(f.until)
		switch {
		case !blocked && f.count < fewest:
			victim, fewest = k, f.count
		case blocked && fewest == math.MaxInt && (soonest.IsZero() || f.until.Before(soonest)):
			victim, soonest = k, f.until
		}
	}
	delete(t.addrs, victim)
}

// retryIn rounds a wait up to whole seconds for messages.
func retryIn(d time.Duration) time.Duration {
	return max(time.Second, (d + time.Second - 1).Truncate(time.Second))
}
