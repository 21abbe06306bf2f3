package backend

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/courier-proxy/courier/sqlerr"
)

// PoolConfig bounds a pool.
type PoolConfig struct {
	MaxOpen       int
	MaxIdle       int
	MinIdle       int // kept through idle expiry (see Warm)
	IdleTimeout   time.Duration
	WaitTimeout   time.Duration // how long Get waits when MaxOpen are busy
	CheckInterval time.Duration // health check period; 0 disables the checker
	// QueryTimeout bounds a client's statement run by Conn.ExecOK without
	// a deadline in its context; 0 means none.
	QueryTimeout time.Duration
	// Breaker configures the circuit breaker (Failures 0: none).
	Breaker BreakerConfig
	// Shares are the classes of traffic's shares of the pool, by class
	// (index 0 is traffic of no class, and has no share: it may use what
	// the classes leave). Nil: no classes.
	Shares []Share
}

// Share is a class of traffic's part of a pool, in connections handed
// out at once: Reserved of them no other class may take, and the class
// takes at most Max.
type Share struct {
	Name          string
	Reserved, Max int
}

// Pool holds the connections of one server instance.
type Pool struct {
	name string
	opts Options
	cfg  PoolConfig
	log  *zap.Logger

	mu     sync.Mutex
	idle   [flavours][]*Conn // LIFO: the most recently used is reused first
	open   int
	closed bool
	// wake, made by the first waiter, is closed (and forgotten) when a
	// connection, a slot or a class's share comes free: every waiter
	// looks again.
	wake chan struct{}
	busy []int // connections handed out, by class (with Shares)
	// waiting and waited are, by class (one, without Shares), the callers
	// of Get waiting for a connection now and the time all have waited.
	waiting []int
	waited  []time.Duration

	brk     breaker
	healthy atomic.Bool
	lastErr atomic.Pointer[string]
	version atomic.Pointer[string]

	// Counters for metrics.
	Dials, DialErrors, Waits, WaitTimeouts atomic.Int64
	// Queries and Errors count statements run through the pool's
	// connections and those that failed for the backend's sake (I/O);
	// InFlight counts statements running now.
	Queries, Errors, InFlight atomic.Int64

	stop chan struct{}
	done chan struct{}
}

// NewPool returns a pool; it dials nothing until asked, except for the
// health checker, which starts at once when enabled.
func NewPool(name string, o Options, cfg PoolConfig, log *zap.Logger) *Pool {
	if cfg.MaxOpen <= 0 {
		cfg.MaxOpen = 256
	}
	if cfg.MaxIdle <= 0 || cfg.MaxIdle > cfg.MaxOpen {
		cfg.MaxIdle = cfg.MaxOpen
	}
	if cfg.WaitTimeout <= 0 {
		cfg.WaitTimeout = 5 * time.Second
	}
	p := &Pool{name: name, opts: o, cfg: cfg, log: log.With(zap.String("backend", name), zap.String("addr", o.Addr)),
		stop: make(chan struct{}), done: make(chan struct{})}
	if len(cfg.Shares) > 0 {
		p.busy = make([]int, len(cfg.Shares))
	}
	p.waiting, p.waited = make([]int, max(1, len(cfg.Shares))), make([]time.Duration, max(1, len(cfg.Shares)))
	p.brk.cfg = cfg.Breaker
	p.healthy.Store(true)
	go p.maintain()
	return p
}

// Name returns the backend's configured name.
func (p *Pool) Name() string { return p.name }

// Addr returns the instance address.
func (p *Pool) Addr() string { return p.opts.Addr }

// QueryTimeout returns the statement time bound on this server (0: none).
func (p *Pool) QueryTimeout() time.Duration { return p.cfg.QueryTimeout }

// MarkDown records that the backend failed (a dial or a statement's
// I/O); the health checker marks it up again.
func (p *Pool) MarkDown(err error) { p.markDown(err) }

// Healthy reports the last health verdict and, when unhealthy, why.
func (p *Pool) Healthy() (bool, string) {
	if p.healthy.Load() {
		return true, ""
	}
	if e := p.lastErr.Load(); e != nil {
		return false, *e
	}
	return false, "unknown"
}

// ServerVersion returns the version string the server sent, once known.
func (p *Pool) ServerVersion() string {
	if v := p.version.Load(); v != nil {
		return *v
	}
	return ""
}

// Stats returns the open and idle connection counts.
func (p *Pool) Stats() (open, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.idle {
		idle += len(l)
	}
	return p.open, idle
}

var errPoolClosed = errors.New("backend pool closed")

// Get returns an idle connection of the flavour or dials a new one, for
// traffic of class cls (0: none; see Share). When MaxOpen connections are
// busy, or the class has its share in use, it waits up to the wait
// timeout and then fails with error 1040.
func (p *Pool) Get(ctx context.Context, fl Flavour, cls int) (*Conn, error) {
	if err := p.brk.allow(p.name, p.checkEvery()); err != nil {
		return nil, err
	}
	var deadline time.Time
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, errPoolClosed
		}
		share := p.mayTake(cls)
		if l := p.idle[fl]; share && len(l) > 0 {
			c := l[len(l)-1]
			l[len(l)-1] = nil
			p.idle[fl] = l[:len(l)-1]
			p.take(c, cls)
			p.mu.Unlock()
			c.reused = true
			return c, nil
		}
		if share && p.open < p.cfg.MaxOpen {
			p.open++
			p.mu.Unlock()
			return p.dial(ctx, fl, cls)
		}
		if other := p.idle[1-fl]; share && len(other) > 0 { // trade an idle one of the other flavour
			c := other[0]
			p.idle[1-fl] = other[1:]
			p.mu.Unlock()
			c.Close()
			return p.dial(ctx, fl, cls)
		}
		if p.wake == nil {
			p.wake = make(chan struct{})
		}
		wake := p.wake
		p.mu.Unlock()

		if deadline.IsZero() {
			p.Waits.Add(1)
			start := time.Now()
			deadline = start.Add(p.cfg.WaitTimeout)
			p.mu.Lock()
			p.waiting[cls]++
			p.mu.Unlock()
			defer func() {
				p.mu.Lock()
				p.waiting[cls]--
				p.waited[cls] += time.Since(start)
				p.mu.Unlock()
			}()
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			p.WaitTimeouts.Add(1)
			if !share {
				p.mu.Lock()
				sh := p.cfg.Shares[cls]
				p.mu.Unlock()
				return nil, sqlerr.New(sqlerr.ErrTooManyConnections,
					"class %s has its share of backend %s in use (%d connections; waited %s); raise classes[].pool_max or lower the class's concurrency",
					sh.Name, p.name, sh.Max, p.cfg.WaitTimeout)
			}
			return nil, sqlerr.New(sqlerr.ErrTooManyConnections,
				"all %d connections to backend %s are busy (waited %s); raise pool.max_open or lower client concurrency",
				p.cfg.MaxOpen, p.name, p.cfg.WaitTimeout)
		}
		t := time.NewTimer(wait)
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		t.Stop()
	}
}

// mayTake reports whether class cls may be handed one more connection:
// it has less than its maximum, and what it and the other classes use or
// keep reserved leaves one free. Called with p.mu held.
func (p *Pool) mayTake(cls int) bool {
	if p.busy == nil {
		return true
	}
	sh := p.cfg.Shares
	if cls > 0 && p.busy[cls] >= sh[cls].Max {
		return false
	}
	used := 0
	for k, b := range p.busy {
		if k == cls {
			used += b
		} else {
			used += max(b, sh[k].Reserved)
		}
	}
	return used < p.cfg.MaxOpen
}

// take records c as handed out to class cls. Called with p.mu held.
func (p *Pool) take(c *Conn, cls int) {
	c.class = cls
	if p.busy != nil {
		p.busy[cls]++
	}
}

// SetShares replaces the classes' shares (a reload). Classes keep their
// indexes; new ones come after.
func (p *Pool) SetShares(sh []Share) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.busy == nil || len(sh) < len(p.busy) {
		return // classes were not configured at start, or would lose their index
	}
	for len(p.busy) < len(sh) {
		p.busy = append(p.busy, 0)
	}
	for len(p.waiting) < len(sh) {
		p.waiting, p.waited = append(p.waiting, 0), append(p.waited, 0)
	}
	p.cfg.Shares = sh
	p.wakeAll()
}

// Waiting returns, by class (see Busy; one entry without classes), the
// callers waiting for a connection now and the time all have waited.
func (p *Pool) Waiting() ([]int, []time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.waiting), slices.Clone(p.waited)
}

// ShareName names class k's share.
func (p *Pool) ShareName(k int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k >= len(p.cfg.Shares) {
		return "(none)"
	}
	return p.cfg.Shares[k].Name
}

// Busy returns the connections handed out to each class now (nil
// without classes).
func (p *Pool) Busy() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.busy)
}

// dial opens a connection for class cls in a slot Get counted.
func (p *Pool) dial(ctx context.Context, fl Flavour, cls int) (*Conn, error) {
	p.Dials.Add(1)
	if p.busy != nil {
		p.mu.Lock()
		p.busy[cls]++
		p.mu.Unlock()
	}
	c, err := Dial(ctx, p.opts, fl)
	if err != nil {
		p.DialErrors.Add(1)
		p.brk.failure()
		p.mu.Lock()
		if p.busy != nil {
			p.busy[cls]--
		}
		p.open--
		p.wakeAll()
		p.mu.Unlock()
		p.markDown(err)
		return nil, err
	}
	c.pool, c.class = p, cls
	v := c.ServerVersion
	p.version.Store(&v)
	p.healthy.Store(true)
	return c, nil
}

// wakeAll lets every waiter look again. Called with p.mu held.
func (p *Pool) wakeAll() {
	if p.wake != nil {
		close(p.wake)
		p.wake = nil
	}
}

// signal is wakeAll for callers without p.mu.
func (p *Pool) signal() {
	p.mu.Lock()
	p.wakeAll()
	p.mu.Unlock()
}

func (p *Pool) markDown(err error) {
	msg := err.Error()
	p.lastErr.Store(&msg)
	if p.healthy.Swap(false) {
		p.log.Warn("backend unhealthy", zap.Error(err))
		p.dropIdle() // they most likely died with the server
	}
}

// dropIdle closes every idle connection.
func (p *Pool) dropIdle() {
	p.mu.Lock()
	var all []*Conn
	for i, l := range p.idle {
		all = append(all, l...)
		p.open -= len(l)
		p.idle[i] = nil
	}
	p.mu.Unlock()
	for _, c := range all {
		c.Close()
	}
	if len(all) > 0 {
		p.signal()
	}
}

// Put returns a connection after use. Broken connections are closed; so
// are connections beyond the idle bound.
func (p *Pool) Put(c *Conn) {
	broken := c.broken.Load()
	if broken {
		p.brk.failure()
	} else {
		c.lastUsed = time.Now()
		p.brk.success()
	}
	p.mu.Lock()
	if p.busy != nil {
		p.busy[c.class]--
	}
	n := 0
	for _, l := range p.idle {
		n += len(l)
	}
	if broken || p.closed || n >= p.cfg.MaxIdle {
		p.open--
		p.wakeAll()
		p.mu.Unlock()
		c.Close()
		return
	}
	p.idle[c.flavour] = append(p.idle[c.flavour], c)
	p.wakeAll()
	p.mu.Unlock()
}

// Close closes idle connections and stops the checker; busy connections
// are closed when they are put back.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	p.dropIdle()
	close(p.stop)
	<-p.done
}

// Warm opens connections until n are idle (at most MaxOpen open), for a
// warm start; it returns the first dial error.
func (p *Pool) Warm(ctx context.Context, n int) error {
	var conns []*Conn
	defer func() {
		for _, c := range conns {
			p.Put(c)
		}
	}()
	for {
		open, idle := p.Stats()
		if idle+len(conns) >= n || open >= p.cfg.MaxOpen {
			return nil
		}
		c, err := p.Get(ctx, FlavourPlain, 0)
		if err != nil {
			return err
		}
		conns = append(conns, c)
	}
}

// checkEvery is how often the server's health is checked: by the pool
// (primaries) or its cluster (replicas).
func (p *Pool) checkEvery() time.Duration {
	if p.cfg.CheckInterval > 0 {
		return p.cfg.CheckInterval
	}
	return time.Second
}

// maintain expires idle connections and runs the health check.
func (p *Pool) maintain() {
	defer close(p.done)
	interval := p.cfg.CheckInterval
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.expireIdle()
		if p.cfg.CheckInterval > 0 {
			p.check()
		}
	}
}

func (p *Pool) expireIdle() {
	if p.cfg.IdleTimeout <= 0 {
		return
	}
	cutoff := time.Now().Add(-p.cfg.IdleTimeout)
	var old []*Conn
	p.mu.Lock()
	spare := -p.cfg.MinIdle // idle connections beyond the minimum: those that may expire
	for _, l := range p.idle {
		spare += len(l)
	}
	for i, l := range p.idle {
		keep := l[:0]
		for _, c := range l { // oldest first (LIFO lists)
			if c.lastUsed.Before(cutoff) && spare > 0 {
				spare--
				old = append(old, c)
			} else {
				keep = append(keep, c)
			}
		}
		clear(l[len(keep):])
		p.idle[i] = keep
	}
	p.open -= len(old)
	p.mu.Unlock()
	for _, c := range old {
		c.Close()
	}
	if len(old) > 0 {
		p.signal()
	}
}

// check pings the instance with a connection of its own (not from the
// idle list, so it never competes with sessions) and records the verdict.
func (p *Pool) check() {
	ctx, cancel := context.WithTimeout(context.Background(), max(p.cfg.CheckInterval, time.Second))
	defer cancel()
	c, err := Dial(ctx, p.opts, FlavourPlain)
	if err == nil {
		err = c.Ping(ctx)
		c.Close()
	}
	if err != nil {
		p.markDown(err)
		return
	}
	p.brk.reached()
	if !p.healthy.Swap(true) {
		p.log.Info("backend healthy again")
	}
}

// KillQuery stops the statement running on the server connection with
// the given thread id, using a connection of its own.
func (p *Pool) KillQuery(ctx context.Context, threadID uint32) error {
	c, err := Dial(ctx, p.opts, FlavourPlain)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Exec(ctx, "KILL QUERY "+strconv.FormatUint(uint64(threadID), 10))
}
