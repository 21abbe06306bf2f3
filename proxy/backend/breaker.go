package backend

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-proxy/courier/sqlerr"
)

// BreakerConfig configures a pool's circuit breaker: Failures
// consecutive failures (connections that broke: a statement's I/O error
// or timeout, a failed dial) open it, and Get then fails at once; it
// closes at the first health check that reaches the server after at
// least OpenFor. Failures 0: no breaker.
type BreakerConfig struct {
	Failures int
	OpenFor  time.Duration
}

// Breaker states.
const (
	BreakerClosed = 0
	BreakerOpen   = 1
)

// breaker is a pool's circuit breaker. Courier's own health checks are
// its probes, so no client statement waits on a failing server to learn
// that it recovered. Its closed path, taken by every statement while the
// server answers, is an atomic load or two.
type breaker struct {
	cfg   BreakerConfig
	state atomic.Int32
	fails atomic.Int32 // consecutive failures while closed

	mu       sync.Mutex
	openedAt time.Time

	// Opens counts the times it opened; LastOpen and LastRecovery are how
	// long the last opening took to come (from the first of its
	// failures) and to end.
	Opens        atomic.Int64
	firstFail    atomic.Int64 // unix nanos of the first of the consecutive failures
	LastOpen     atomic.Int64 // ns
	LastRecovery atomic.Int64 // ns
}

// allow lets a caller use the backend, or fails at once while the
// breaker is open.
func (b *breaker) allow(name string, checkEvery time.Duration) error {
	if b.cfg.Failures <= 0 || b.state.Load() == BreakerClosed {
		return nil
	}
	return sqlerr.New(sqlerr.ErrCannotConnect,
		"backend %s is failing: its circuit breaker opened after %d consecutive failures, and statements for it fail at once until a health check (every %s) reaches it; retry later",
		name, b.cfg.Failures, checkEvery)
}

// success records that the backend served a caller.
func (b *breaker) success() {
	if b.cfg.Failures > 0 && b.state.Load() == BreakerClosed && b.fails.Load() != 0 {
		b.fails.Store(0)
	}
}

// failure records that the backend failed a caller.
func (b *breaker) failure() {
	if b.cfg.Failures <= 0 || b.state.Load() != BreakerClosed {
		return
	}
	now := time.Now()
	if b.fails.Add(1) == 1 {
		b.firstFail.Store(now.UnixNano())
	}
	if b.fails.Load() < int32(b.cfg.Failures) {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state.Load() == BreakerClosed {
		b.state.Store(BreakerOpen)
		b.openedAt = now
		b.Opens.Add(1)
		b.LastOpen.Store(now.UnixNano() - b.firstFail.Load())
	}
}

// reached records a health check that reached the server: it closes an
// open breaker once it has been open OpenFor.
func (b *breaker) reached() {
	if b.cfg.Failures <= 0 || b.state.Load() == BreakerClosed {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state.Load() != BreakerClosed && time.Since(b.openedAt) >= b.cfg.OpenFor {
		b.LastRecovery.Store(int64(time.Since(b.openedAt)))
		b.fails.Store(0)
		b.state.Store(BreakerClosed)
	}
}

// BreakerState returns the pool's breaker state (BreakerClosed or
// BreakerOpen).
func (p *Pool) BreakerState() int { return int(p.brk.state.Load()) }

// BreakerTimes returns how many times the breaker opened, and how long
// the last opening took to come after the first failure and to end.
func (p *Pool) BreakerTimes() (opens int64, toOpen, toRecover time.Duration) {
	return p.brk.Opens.Load(), time.Duration(p.brk.LastOpen.Load()), time.Duration(p.brk.LastRecovery.Load())
}
