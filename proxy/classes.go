package proxy

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/sqlerr"
)

// trafficClass is a class of traffic (classes[] in the configuration):
// its statements run at most max at a time on this instance, at most
// queue more wait for a place, each for at most wait; its sessions'
// connections take at most its share of every backend pool and never
// the shares other classes keep reserved (backend.Share). Users of no
// class are in noClass, which limits nothing. Its limits change with a
// reload (setLimits); its index in the pools' shares never does.
type trafficClass struct {
	name    string
	idx     int // its index in every pool's shares; 0 for noClass
	limits  atomic.Pointer[classLimits]
	running atomic.Int64 // statements admitted and not left
	waiters atomic.Int64 // statements waiting for a place
	mu      sync.Mutex
	wake    chan struct{} // closed when a place frees, if anyone waits (under mu)
	metrics *classMetrics
}

// classLimits are a class's limits, swapped whole by a reload.
type classLimits struct {
	max, queue   int64 // max 0: no limit
	wait         time.Duration
	queryTimeout time.Duration // 0: limits.query_timeout
	shedAbove    int64         // 0: never shed
	consolidate  bool          // identical reads share one execution
}

// governor is what the server's admissions share: every statement
// running (for shedding) and the metrics.
type governor struct {
	running atomic.Int64
	metrics *Metrics
}

// noClass is the class of users without one.
var noClass = func() *trafficClass {
	c := &trafficClass{}
	c.limits.Store(&classLimits{})
	return c
}()

// newClass makes the class cfg describes, at index idx of the pools'
// shares.
func newClass(cfg config.Class, idx int, m *Metrics) *trafficClass {
	c := &trafficClass{name: cfg.Name, idx: idx, metrics: m.class(cfg.Name)}
	c.setLimits(cfg)
	return c
}

func (c *trafficClass) setLimits(cfg config.Class) {
	c.limits.Store(&classLimits{max: int64(cfg.MaxConcurrency), queue: int64(cfg.Queue), wait: cfg.QueueTimeout,
		queryTimeout: cfg.QueryTimeout, shedAbove: int64(cfg.ShedAbove), consolidate: cfg.Consolidate})
	c.wakeAll() // a higher limit may admit those waiting
}

// newClasses makes the configured classes, indexed from 1 in file order.
func newClasses(cfg []config.Class, m *Metrics) map[string]*trafficClass {
	out := make(map[string]*trafficClass, len(cfg))
	for i, c := range cfg {
		out[c.Name] = newClass(c, i+1, m)
	}
	return out
}

// shares are the classes' shares of a pool of maxOpen connections, by
// class index (0: no class, which keeps nothing reserved).
func shares(cfg []config.Class, maxOpen int) []backend.Share {
	if len(cfg) == 0 {
		return nil
	}
	out := []backend.Share{{Name: "(none)", Max: maxOpen}}
	for _, c := range cfg {
		out = append(out, backend.Share{Name: c.Name,
			Reserved: int(math.Floor(c.PoolReserved * float64(maxOpen))),
			Max:      max(1, int(math.Round(c.PoolMax*float64(maxOpen))))})
	}
	return out
}

// limited reports whether statements of kind k take a place of their
// class: those that may do work on a backend. Ending a transaction, and
// statements that only change the session, never wait behind others.
func limited(k parser.Kind) bool {
	switch k {
	case parser.KindBegin, parser.KindCommit, parser.KindRollback, parser.KindSavepoint, parser.KindSetTransaction,
		parser.KindSet, parser.KindUse, parser.KindKill, parser.KindEmpty:
		return false
	}
	return true
}

// admit takes a place for one statement of user, waiting for one while
// the queue has room, up to the class's queue timeout. Every admitted
// statement calls leave.
func (c *trafficClass) admit(ctx context.Context, user string) error {
	if c.idx == 0 {
		return nil // noClass: no limit, nothing counted
	}
	l := c.limits.Load()
	if n := c.running.Add(1); l.max == 0 || n <= l.max {
		return nil
	}
	c.running.Add(-1)
	if c.waiters.Add(1) > l.queue {
		c.waiters.Add(-1)
		c.metrics.refused.Inc()
		return sqlerr.New(sqlerr.ErrUserLimitReached,
			"User '%s' has exceeded the 'class %s: max_concurrency' resource (current value: %d, and %d waiting); retry later",
			user, c.name, l.max, l.queue)
	}
	defer c.waiters.Add(-1)
	c.metrics.queued.Inc()
	t := time.NewTimer(l.wait)
	defer t.Stop()
	for {
		c.mu.Lock()
		if c.wake == nil {
			c.wake = make(chan struct{})
		}
		wake := c.wake
		c.mu.Unlock()
		// Look again after taking the wake channel: a place freed before
		// is seen now, one freed after closes it.
		if l = c.limits.Load(); c.running.Add(1) <= l.max || l.max == 0 {
			return nil
		}
		c.running.Add(-1)
		select {
		case <-wake:
		case <-t.C:
			c.metrics.refused.Inc()
			return sqlerr.New(sqlerr.ErrUserLimitReached,
				"User '%s' has exceeded the 'class %s: max_concurrency' resource (current value: %d; waited %s for a place); retry later",
				user, c.name, l.max, l.wait)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// leave gives back an admitted statement's place.
func (c *trafficClass) leave() {
	if c.idx == 0 {
		return
	}
	c.running.Add(-1)
	if c.waiters.Load() > 0 {
		c.wakeAll()
	}
}

func (c *trafficClass) wakeAll() {
	c.mu.Lock()
	if c.wake != nil {
		close(c.wake)
		c.wake = nil
	}
	c.mu.Unlock()
}

// running is how many of the class's statements run now.
func (c *trafficClass) runningNow() int { return int(c.running.Load()) }

// limiter is a user's statement rate (users[].rate), shared by its
// sessions; nil: no bound.
type limiter struct {
	lim      *rate.Limiter
	wait     time.Duration
	per      float64
	resource string // what the error calls it
}

func newLimiter(r config.Rate) *limiter {
	if r.Limit <= 0 {
		return nil
	}
	return &limiter{lim: rate.NewLimiter(rate.Limit(r.Limit), max(1, r.Burst)), wait: r.Wait, per: r.Limit,
		resource: "statements per second"}
}

// shapeLimiters are the limits of rate_limits, by shape.
func shapeLimiters(cfg []config.ShapeRate) map[string]*limiter {
	out := make(map[string]*limiter, len(cfg))
	for _, r := range cfg {
		l := newLimiter(r.Rate())
		l.resource = "statements per second of this shape (rate_limits)"
		out[r.Digest] = l
	}
	return out
}

// take lets one statement of user start: at once while the bucket has a
// token, else after its turn if that comes within the wait, else error
// 1226 saying when to retry.
func (l *limiter) take(ctx context.Context, user string) error {
	if l == nil {
		return nil
	}
	now := time.Now()
	if l.lim.AllowN(now, 1) {
		return nil
	}
	r := l.lim.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	if delay > l.wait {
		r.CancelAt(now)
		return sqlerr.New(sqlerr.ErrUserLimitReached,
			"User '%s' has exceeded the '%s' resource (current value: %g); retry in %s",
			user, l.resource, l.per, delay.Round(time.Millisecond))
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	}
}

// admit lets a statement of kind k start under the account's rate, its
// class's shedding threshold and its concurrency limit (see limited),
// waiting within their bounds. Each admitted statement calls leave.
func (a *account) admit(ctx context.Context, k parser.Kind, g *governor) error {
	if !limited(k) {
		return nil
	}
	if err := a.rate.take(ctx, a.name); err != nil {
		g.metrics.rateLimited.WithLabelValues(a.name).Inc()
		return err
	}
	n := g.running.Add(1)
	if shed := a.class.limits.Load().shedAbove; shed > 0 && n > shed {
		g.running.Add(-1)
		a.class.metrics.shed.Inc()
		return sqlerr.New(sqlerr.ErrUserLimitReached,
			"User '%s' has exceeded the 'class %s: shed_above' resource (current value: %d statements running in Courier, above %d): Courier is shedding this class's load; retry later",
			a.name, a.class.name, n, shed)
	}
	if err := a.class.admit(ctx, a.name); err != nil {
		g.running.Add(-1)
		return err
	}
	return nil
}

// leave ends an admitted statement of kind k.
func (a *account) leave(k parser.Kind, g *governor) {
	if limited(k) {
		a.class.leave()
		g.running.Add(-1)
	}
}

// queryTimeout is the time bound of a session's statements: its class's,
// else the server's (def).
func (a *account) queryTimeout(def time.Duration) time.Duration {
	if a != nil {
		if t := a.class.limits.Load().queryTimeout; t > 0 {
			return t
		}
	}
	return def
}
