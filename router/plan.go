package router

import (
	"vitess.io/vitess/go/sqltypes"

	"github.com/courier-proxy/courier/router/engine"
)

// Plan is a statement shape planned for every execution: the primitive
// tree that runs it, how many bind slots an execution needs, and what the
// statement touches (for authorisation). Plans are immutable and shared.
type Plan struct {
	// Root runs the statement.
	Root engine.Primitive
	// Slots is how many bind slots an execution uses: the shape's own
	// values first, then those primitives fill while it runs.
	Slots int
	// Consts are values known when planning (the literals of a statement
	// planned from its own text, where the planner took them as keys).
	Consts []Const
	// Access lists the tables the statement reads and writes.
	Access []Access
	// Class is what the statement does, for the capability it needs.
	Class Class
	// Err is why the shape cannot run (a 1235 refusal): it is cached too.
	Err error
	// DDL: the statement changes table definitions (its deadline is the
	// DDL one; the catalog and plan caches forget what they know).
	DDL bool

	size int64
}

// Const is a bind slot's value fixed by the plan.
type Const struct {
	Slot int
	Val  sqltypes.Value
}

// Prepare readies bv for an execution of p whose own values are already
// in bv.Vals: it makes room for the slots primitives fill and sets the
// plan's constants.
func (p *Plan) Prepare(bv *engine.Bind) {
	bv.Grow(p.Slots)
	for _, c := range p.Consts {
		bv.Vals[c.Slot] = c.Val
	}
}

// Access is one table a statement touches.
type Access struct {
	DB    string // the qualifier it was named with; "" for the session's database
	Table string // lower case
	Write bool
}

// Class is what a statement does, as account capabilities see it.
type Class uint8

// Statement classes.
const (
	ClassRead  Class = iota // reads data
	ClassWrite              // changes rows
	ClassDDL                // changes table definitions
	ClassAdmin              // administers the server (databases, users, global state)
)

var classNames = [...]string{"read", "write", "ddl", "admin"}

func (c Class) String() string { return classNames[c] }

// CachedSize approximates the bytes a plan holds, for the plan cache's
// bound.
func (p *Plan) CachedSize(bool) int64 {
	if p.size == 0 {
		p.size = 512
		if p.Root != nil {
			p.size += 2 * int64(len(engine.Format(p.Root)))
		}
	}
	return p.size
}

// Home is the cluster where the statement's tables live, for preparing
// it (every shard holds the same definitions: the first one stands for
// them all).
func (p *Plan) Home() int {
	if r, ok := p.Root.(*engine.Route); ok && r.Op == engine.Fixed {
		return r.Cluster
	}
	var home int
	found := false
	walk(p.Root, func(n engine.Primitive) {
		var ks *engine.Keyspace
		switch n := n.(type) {
		case *engine.Route:
			ks = n.Keyspace
		case *engine.Insert:
			ks = n.Keyspace
		case *engine.WriteAll:
			ks = n.Keyspace
		}
		if ks != nil && !found {
			home, found = ks.Clusters[0], true
		}
	})
	return home
}

// walk visits every primitive of a tree.
func walk(p engine.Primitive, f func(engine.Primitive)) {
	if p == nil {
		return
	}
	f(p)
	for _, in := range p.Inputs() {
		walk(in, f)
	}
}
