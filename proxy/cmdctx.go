package proxy

import (
	"context"
	"errors"
	"sync"
	"time"
)

// cmdContext is the context of one client command. It ends when the
// command's deadline passes (limits.query_timeout, or the DDL limit) or
// when KILL QUERY cancels it, and then stops the statements the command
// is running on every backend it reached. Each session has one, re-armed
// for every command without allocating.
type cmdContext struct {
	parent context.Context
	cu     *cursor

	mu       sync.Mutex
	active   bool
	done     chan struct{} // made when asked for; closed when the command is cancelled
	err      error
	deadline time.Time
	timer    *time.Timer
	afters   map[*afterFunc]struct{}
}

type afterFunc struct{ f func() }

var (
	_ context.Context = (*cmdContext)(nil)
	// errKilled is the cause of a command stopped by KILL QUERY.
	errKilled = errors.New("statement killed")
)

func (c *cmdContext) init(parent context.Context, cu *cursor) {
	c.parent, c.cu = parent, cu
	c.timer = time.AfterFunc(time.Hour, c.expire)
	c.timer.Stop()
}

// start arms the context for a command bounded by timeout (0: none).
func (c *cmdContext) start(timeout time.Duration) context.Context {
	c.mu.Lock()
	c.active, c.err = true, nil
	if c.done != nil {
		select {
		case <-c.done:
			c.done = nil // closed by the last command: make a new one when asked
		default:
		}
	}
	c.deadline = time.Time{}
	if timeout > 0 {
		c.deadline = time.Now().Add(timeout)
		c.timer.Reset(timeout)
	}
	c.mu.Unlock()
	return c
}

// extend moves the deadline of the running command (DDL gets a longer
// one than the default it started with).
func (c *cmdContext) extend(timeout time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.active {
		return
	}
	c.timer.Stop()
	c.deadline = time.Time{}
	if timeout > 0 {
		c.deadline = time.Now().Add(timeout)
		c.timer.Reset(timeout)
	}
}

// end disarms the context after the command.
func (c *cmdContext) end() {
	c.mu.Lock()
	c.active = false
	c.timer.Stop()
	c.mu.Unlock()
}

// stop releases the timer for good (the session ends).
func (c *cmdContext) stop() {
	if c.timer != nil {
		c.timer.Stop()
	}
}

func (c *cmdContext) expire() {
	c.mu.Lock()
	stale := !c.active || c.deadline.IsZero() || time.Now().Before(c.deadline)
	c.mu.Unlock()
	if !stale {
		c.cancel(context.DeadlineExceeded)
	}
}

// cancel ends the running command with err and stops what it runs on
// the backends (KILL QUERY on each). It does nothing between commands.
func (c *cmdContext) cancel(err error) {
	c.mu.Lock()
	if !c.active || c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	afters := c.afters
	c.afters = nil
	c.mu.Unlock()
	for a := range afters {
		go a.f()
	}
	c.cu.run.kill(context.Background(), time.Second)
}

// Deadline implements context.Context.
func (c *cmdContext) Deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline, !c.deadline.IsZero()
}

// Done implements context.Context.
func (c *cmdContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		}
	}
	return c.done
}

// Err implements context.Context.
func (c *cmdContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Value implements context.Context.
func (c *cmdContext) Value(key any) any { return c.parent.Value(key) }

// AfterFunc arranges for f to run when the command is cancelled, so that
// contexts derived from this one need no goroutine to follow it.
func (c *cmdContext) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	if c.afters == nil {
		c.afters = make(map[*afterFunc]struct{})
	}
	c.afters[a] = struct{}{}
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.afters[a]
		delete(c.afters, a)
		return ok
	}
}
