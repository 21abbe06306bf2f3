package backend

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-proxy/courier/sqlerr"
)

// BreakerConfig configures a pool's circuit breaker: Failures
// consecutive failures (connections that broke: a statement's I/O error
// or timeout, a failed dial) open it for OpenFor, during which Get fails
// at once; then one caller at a time probes, and a success (or a
// passing health check) closes it. Failures 0: no breaker.
type BreakerConfig struct {
	Failures int
	OpenFor  time.Duration
}

// Breaker states.
const (
	BreakerClosed   = 0
	BreakerOpen     = 1
	BreakerHalfOpen = 2
)

// breaker is a pool's circuit breaker. Its closed path, taken by every
// statement while the backend answers, is one atomic load.
type breaker struct {
	cfg   BreakerConfig
	state atomic.Int32
	fails atomic.Int32 // consecutive failures while closed

	mu       sync.Mutex
	until    time.Time // open: when the next probe may go
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
// breaker is open. Once each OpenFor one caller goes through as a probe
// (the breaker is then half-open); its success closes the breaker.
func (b *breaker) allow(name string) error {
	if b.cfg.Failures <= 0 || b.state.Load() == BreakerClosed {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	switch {
	case b.state.Load() == BreakerClosed:
		return nil
	case !now.Before(b.until):
		b.state.Store(BreakerHalfOpen)
		b.until = now.Add(b.cfg.OpenFor)
		return nil
	}
	return sqlerr.New(sqlerr.ErrCannotConnect,
		"backend %s is failing: its circuit breaker opened after %d consecutive failures, and statements for it fail at once until a probe succeeds (next in %s); retry later",
		name, b.cfg.Failures, b.until.Sub(now).Round(time.Millisecond))
}

// success records that the backend served a caller.
func (b *breaker) success() {
	if b.cfg.Failures <= 0 {
		return
	}
	if b.state.Load() == BreakerClosed {
		if b.fails.Load() != 0 {
			b.fails.Store(0)
		}
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state.Load() != BreakerClosed {
		b.LastRecovery.Store(int64(time.Since(b.openedAt)))
		b.state.Store(BreakerClosed)
		b.fails.Store(0)
	}
}

// failure records that the backend failed a caller.
func (b *breaker) failure() {
	if b.cfg.Failures <= 0 {
		return
	}
	now := time.Now()
	if b.state.Load() == BreakerClosed {
		if b.fails.Add(1) == 1 {
			b.firstFail.Store(now.UnixNano())
		}
		if b.fails.Load() < int32(b.cfg.Failures) {
			return
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state.Load() {
	case BreakerClosed:
		b.state.Store(BreakerOpen)
		b.openedAt = now
		b.Opens.Add(1)
		b.LastOpen.Store(now.UnixNano() - b.firstFail.Load())
	case BreakerHalfOpen:
		b.state.Store(BreakerOpen)
	}
	b.until = now.Add(b.cfg.OpenFor)
}

// BreakerState returns the pool's breaker state (BreakerClosed, ...).
func (p *Pool) BreakerState() int { return int(p.brk.state.Load()) }

// BreakerTimes returns how many times the breaker opened, and how long
// the last opening took to come after the first failure and to end.
func (p *Pool) BreakerTimes() (opens int64, toOpen, toRecover time.Duration) {
	return p.brk.Opens.Load(), time.Duration(p.brk.LastOpen.Load()), time.Duration(p.brk.LastRecovery.Load())
}
