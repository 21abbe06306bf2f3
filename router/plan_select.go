package router

import (
	"fmt"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// selectPlan plans a SELECT: unsharded tables on their cluster,
// reference tables on any shard, sharded tables by key (one shard, or the
// shards of an IN list), by a global index, or on every shard, with the
// rows merged as one server would return them.
func (b *build) selectPlan(sel *sqlparser.Select) (engine.Primitive, error) {
	sharded, reference, unsharded := kinds(b.pl.tables(sel))
	switch {
	case len(sharded) == 0 && len(reference) == 0:
		return b.fixed(unsharded, true)
	case len(unsharded) > 0:
		return nil, sqlerr.NotSupported(fmt.Sprintf("a query mixing sharded or reference tables with unsharded table %s", unsharded[0].t.Name),
			"query them separately")
	case len(sharded) == 0:
		return b.anyShard(true, reference[0].t.Name), nil
	}
	if err := b.pl.checkGroup(sel, sharded); err != nil {
		return nil, err
	}
	if err := b.pl.checkSubqueries(sel); err != nil {
		return nil, err
	}
	t := sharded[0].t
	// The key predicate is read on the copy the shards may run, so that its
	// IN list is the one printed there.
	rw := sqlparser.Clone(sel)
	kp := b.findKeyPredicate(whereOf(rw.Where), sharded)
	if kp != nil && len(kp.slots) == 1 { // one shard, as the client wrote it
		r := &engine.Route{Op: engine.ByKey, Keyspace: b.pl.schema.keyspace, Vindex: t.vindex(), Keys: kp.slots,
			Read: true, Table: t.Name}
		if needsMerge(sel) {
			fb, err := b.scattered(sel, nil, nil)
			if err != nil {
				fb = &engine.Refuse{Err: err}
			}
			r.Fallback = fb
		}
		return r, nil
	}
	if what := b.pl.outerReference(sel); what != "" {
		return nil, sqlerr.NotSupported(what+" in a query that reaches several shards (every shard would return the reference rows)",
			"put the sharded table on the preserved side of the join, or add the sharding key to the WHERE clause")
	}
	return b.scattered(sel, rw, kp)
}

// needsMerge reports whether a SELECT's rows from several shards need
// more than appending.
func needsMerge(sel *sqlparser.Select) bool {
	if sel.Distinct || sel.GroupBy != nil || sel.Having != nil || len(sel.OrderBy) > 0 || sel.Limit != nil {
		return true
	}
	for _, se := range sel.SelectExprs.Exprs {
		if ae, ok := se.(*sqlparser.AliasedExpr); ok && containsAggr(ae.Expr) {
			return true
		}
	}
	return false
}

func whereOf(w *sqlparser.Where) sqlparser.Expr {
	if w == nil {
		return nil
	}
	return w.Expr
}

// scattered plans a SELECT that may reach several shards: the statement
// each shard runs (rw, a copy of sel rewritten for the merge; nil: make
// one), the route to the shards (by kp, a key predicate read on rw; by a
// global index; or every shard) and the merge above it.
func (b *build) scattered(sel, rw *sqlparser.Select, kp *keyPredicate) (engine.Primitive, error) {
	if rw == nil {
		rw = sqlparser.Clone(sel)
	}
	m, err := b.planMerge(rw)
	if err != nil {
		return nil, err
	}
	rwSharded, _, _ := kinds(b.pl.tables(rw))
	leaf, printed := b.leaf(rw, rwSharded, kp, m != nil)
	if m != nil && m.prefix != "" {
		walk(leaf, func(n engine.Primitive) {
			if r, ok := n.(*engine.Route); ok && r.Query != nil {
				r.Query = r.Query.WithPrefix(m.prefix)
			}
		})
	}
	var root engine.Primitive = leaf
	if m != nil {
		root = m.wrap(leaf, b.pl.schema.catalog)
	}
	if printed {
		if cols := renamed(sel); len(cols) > 0 {
			root = &engine.Rename{Input: root, Cols: cols, Parser: b.pl.parser}
		}
	}
	return root, nil
}

// leaf is the route of a statement to the shards: by key (an IN list
// split per shard, or an OR of key equalities), by a global index, or to
// every shard. rewritten says the shards must run stmt as printed (for a
// merge); printed reports whether any shard may run printed text.
func (b *build) leaf(stmt *sqlparser.Select, sharded []tableRef, kp *keyPredicate, rewritten bool) (engine.Primitive, bool) {
	t := sharded[0].t
	r := &engine.Route{Keyspace: b.pl.schema.keyspace, Vindex: t.vindex(), Read: true, Table: t.Name, Rewritten: rewritten}
	switch {
	case kp != nil:
		r.Op, r.Keys = engine.ByKey, kp.slots
		if kp.in != nil {
			r.InList, r.Query = true, b.sql(stmt, kp.in, kp.slots)
			return r, true
		}
	default:
		r.Op = engine.Scatter
	}
	if rewritten {
		r.Query = b.sql(stmt, nil, nil)
	}
	if kp == nil {
		if l := b.findLookup(whereOf(stmt.Where), sharded); l != nil {
			l.Source = r
			return l, rewritten
		}
	}
	return r, rewritten
}

// renamed lists the visible columns of sel whose names come from the
// text the client wrote (expressions printed otherwise by the planner);
// nil with SELECT *, whose columns cannot be counted before they come.
func renamed(sel *sqlparser.Select) []int {
	var cols []int
	for i, se := range sel.SelectExprs.Exprs {
		ae, ok := se.(*sqlparser.AliasedExpr)
		if !ok {
			return nil
		}
		if !ae.As.IsEmpty() {
			continue
		}
		switch e := ae.Expr.(type) {
		case *sqlparser.ColName, *sqlparser.NullVal:
			continue // named the same however it is printed
		case *sqlparser.Literal:
			if e.Type != sqlparser.HexVal && e.Type != sqlparser.BitNum && e.Type != sqlparser.HexNum {
				continue // a string is named by its value, a number as written
			}
		}
		cols = append(cols, i)
	}
	return cols
}
