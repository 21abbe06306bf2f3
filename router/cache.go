package router

import (
	"errors"
	"fmt"
	"hash/maphash"
	"sync/atomic"

	"vitess.io/vitess/go/cache/theine"
	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/parser"
)

// Plans plans statements and keeps the plans of statement shapes (a
// statement with its values replaced by ?, see parser.Shape), so that
// every execution of a shape, as text or prepared, reuses one plan. The
// cache is bounded in bytes (a TinyLFU store, which also keeps one-off
// shapes from pushing out the hot ones); shapes longer than MaxShape are
// planned every time instead.
//
// Several layouts (the one being served and the one a migration switches
// to) share one store through views (With): an entry remembers the
// planner that made it, so a view never returns another layout's plan.
type Plans struct {
	pl *Planner
	*store
}

// store is the cache shared by the views of one Plans.
type store struct {
	parser *sqlparser.Parser
	store  *theine.Store[planKey, *cached]
	epoch  atomic.Uint32
	seeds  [2]maphash.Seed
}

// MaxShape is the longest shape whose plan is cached.
const MaxShape = 64 << 10

// NewPlans returns a planner with a plan cache of at most maxBytes.
func NewPlans(pl *Planner, p *sqlparser.Parser, maxBytes int64) *Plans {
	st := &store{parser: p, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	st.store = theine.NewStore[planKey, *cached](maxBytes, true)
	st.epoch.Store(1)
	return &Plans{pl: pl, store: st}
}

// With returns a view of the cache that plans with pl (another layout's
// planner), sharing the store, its bound and Flush.
func (c *Plans) With(pl *Planner) *Plans { return &Plans{pl: pl, store: c.store} }

// Planner returns the planner behind the cache.
func (c *Plans) Planner() *Planner { return c.pl }

// planKey is a shape's 128-bit hash; the cached entry keeps the shape
// itself, so that a collision is a miss, never a wrong plan.
type planKey struct{ h0, h1 uint64 }

func (k planKey) Hash() uint64            { return k.h0 }
func (k planKey) Hash2() (uint64, uint64) { return k.h0, k.h1 }

// cached is a plan with the shape and options it was made for.
type cached struct {
	shape string
	opts  Options
	pl    *Planner
	plan  *Plan
}

func (e *cached) CachedSize(bool) int64 { return 64 + int64(len(e.shape)) + e.plan.CachedSize(true) }

// Shape returns the plan of a normalized statement whose nargs values are
// its ?s, planning it on first use.
func (c *Plans) Shape(shape []byte, nargs int, o Options) *Plan {
	if len(shape) > MaxShape {
		return c.plan(shape, nargs, o)
	}
	k := c.key(shape, o)
	epoch := c.epoch.Load()
	if e, ok := c.store.store.Get(k, epoch); ok && e.pl == c.pl && e.opts == o && e.shape == string(shape) {
		return e.plan
	}
	p := c.plan(shape, nargs, o)
	c.store.store.Set(k, &cached{shape: string(shape), opts: o, pl: c.pl, plan: p}, 0, epoch)
	return p
}

// Text plans a statement that could not be normalized, from its own text
// (read under o.Mode), without caching it.
func (c *Plans) Text(sql []byte, o Options) *Plan {
	text := parser.ForParse(nil, sql, o.Mode)
	if len(text) == 0 {
		return &Plan{Err: &ParseError{Err: errors.New("Courier cannot read this statement exactly as the server will")}}
	}
	return c.plan(text, 0, o)
}

// plan parses and plans one statement text. A panic of the parser or
// planner on odd input is an error for the statement, not a crash.
func (c *Plans) plan(text []byte, nargs int, o Options) (p *Plan) {
	defer func() {
		if r := recover(); r != nil {
			p = &Plan{Err: &ParseError{Err: fmt.Errorf("the planner failed on this statement: %v", r)}}
		}
	}()
	stmt, vars, err := c.parser.Parse2(string(text))
	if err != nil {
		return &Plan{Err: &ParseError{Err: err}}
	}
	return c.pl.Plan(stmt, max(nargs, len(vars)), o)
}

func (c *Plans) key(shape []byte, o Options) planKey {
	var h [2]maphash.Hash
	for i := range h {
		h[i].SetSeed(c.seeds[i])
		_ = h[i].WriteByte(byte(o.Mode))
		_, _ = h[i].WriteString(o.Charset)
		_, _ = h[i].Write(shape)
	}
	return planKey{h[0].Sum64(), h[1].Sum64()}
}

// Flush forgets every plan (after DDL, whose tables' columns the plans'
// merges may compare).
func (c *Plans) Flush() { c.epoch.Add(1) }

// Close stops the cache's maintenance goroutine.
func (c *Plans) Close() { c.store.store.Close() }

// ParseError reports a statement the parser does not understand.
type ParseError struct{ Err error }

func (e *ParseError) Error() string {
	return "statement not understood by the planner: " + e.Err.Error()
}
func (e *ParseError) Unwrap() error { return e.Err }
