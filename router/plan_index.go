package router

import (
	"fmt"
	"slices"
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// findLookup looks for col = v, col IN (...) or an OR of col equalities
// on a column with a global index, among the conjuncts of where, and
// returns the lookup (its Source for the caller to set), or nil.
func (b *build) findLookup(where sqlparser.Expr, sharded []tableRef) *engine.Lookup {
	if where == nil {
		return nil
	}
	for _, c := range splitAnd(where) {
		for _, r := range sharded {
			for i := range r.t.Indexes {
				ix := &r.t.Indexes[i]
				if slots, ok := b.columnSlots(c, r, ix.Column, sharded); ok {
					return &engine.Lookup{Index: b.index(ix, r.db), Values: slots}
				}
			}
		}
	}
	return nil
}

// columnSlots reads the values a predicate pins column col of table r to.
func (b *build) columnSlots(e sqlparser.Expr, r tableRef, col string, sharded []tableRef) ([]int, bool) {
	isCol := func(x sqlparser.Expr) bool {
		c, ok := x.(*sqlparser.ColName)
		if !ok || c.Name.Lowered() != col {
			return false
		}
		if q := strings.ToLower(c.Qualifier.Name.String()); q != "" {
			return q == r.name
		}
		for _, o := range sharded { // unqualified: must not be ambiguous
			if o.name != r.name && o.t.Index(col) != nil {
				return false
			}
		}
		return true
	}
	switch e := e.(type) {
	case *sqlparser.ComparisonExpr:
		if !isCol(e.Left) {
			return nil, false
		}
		switch e.Operator {
		case sqlparser.EqualOp:
			s, ok := b.slotOf(e.Right)
			return []int{s}, ok
		case sqlparser.InOp:
			tuple, ok := e.Right.(sqlparser.ValTuple)
			if !ok {
				return nil, false
			}
			var out []int
			for _, x := range tuple {
				s, ok := b.slotOf(x)
				if !ok {
					return nil, false
				}
				out = append(out, s)
			}
			return out, true
		}
	case *sqlparser.OrExpr:
		l, lok := b.columnSlots(e.Left, r, col, sharded)
		rv, rok := b.columnSlots(e.Right, r, col, sharded)
		if lok && rok {
			return append(l, rv...), true
		}
	}
	return nil, false
}

// index describes global index ix for primitives, its table qualified
// with db when the statement qualified the indexed table.
func (b *build) index(ix *GlobalIndex, db string) *engine.Index {
	e := &engine.Index{Name: ix.Source + "." + ix.Column, Table: qualified(db, ix.Table), Column: ix.Column, Key: ix.Key,
		ValueType: ix.KeyType, Unique: ix.Unique, Cluster: 0}
	if it := b.pl.schema.IndexTable(ix); it.Kind == Sharded {
		e.Keyspace, e.Vindex = b.pl.schema.keyspace, it.vindex()
	}
	return e
}

func qualified(db, name string) string {
	if db == "" {
		return engine.QuoteName(name)
	}
	return engine.QuoteName(db) + "." + engine.QuoteName(name)
}

// indexWrite is the step writing entries for rows of table t.
func (b *build) indexWrite(ix *GlobalIndex, t *Table, db string, entries [][2]int) *engine.IndexWrite {
	return &engine.IndexWrite{Index: b.index(ix, db), Entries: entries, Src: qualified(db, t.Name),
		Keyspace: b.pl.schema.keyspace, Vindex: t.vindex()}
}

// insertEntries plans the index entries of an INSERT's rows: for each
// index, the (value, key) slot pairs of every row (and of a constant ON
// DUPLICATE KEY UPDATE assignment).
func (b *build) insertEntries(s *sqlparser.Insert, t *Table, db string, rows sqlparser.Values, keySlots []int) ([]engine.Primitive, error) {
	var steps []engine.Primitive
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		at := slices.IndexFunc(s.Columns, func(c sqlparser.IdentifierCI) bool { return c.Lowered() == ix.Column })
		if at < 0 {
			return nil, sqlerr.NotSupported(fmt.Sprintf("an INSERT into %s that leaves out indexed column %s", t.Name, ix.Column),
				"list "+ix.Column+" (NULL when it has no value), so its global index can be kept")
		}
		odku, err := constantAssignment(s.OnDup, ix.Column)
		if err != nil {
			return nil, err
		}
		var entries [][2]int
		for r, row := range rows {
			for _, e := range []sqlparser.Expr{row[at], odku} {
				if e == nil || isNullLiteral(e) {
					continue
				}
				v, ok := b.slotOf(e)
				if !ok {
					return nil, sqlerr.NotSupported(fmt.Sprintf("a value of indexed column %s.%s that is not a constant", t.Name, ix.Column), "")
				}
				entries = append(entries, [2]int{v, keySlots[r]})
			}
		}
		if len(entries) > 0 {
			steps = append(steps, b.indexWrite(ix, t, db, entries))
		}
	}
	return steps, nil
}

// constantAssignment returns the value an ON DUPLICATE KEY UPDATE
// assigns to col (nil when it does not, or assigns VALUES(col)); any
// other expression is refused.
func constantAssignment(exprs sqlparser.OnDup, col string) (sqlparser.Expr, error) {
	for _, u := range exprs {
		if u.Name.Name.Lowered() != col {
			continue
		}
		switch e := u.Expr.(type) {
		case *sqlparser.Literal, *sqlparser.Argument, *sqlparser.NullVal:
			return e, nil
		case *sqlparser.ValuesFuncExpr:
			if e.Name.Name.Lowered() == col {
				return nil, nil
			}
		}
		return nil, sqlerr.NotSupported(fmt.Sprintf("ON DUPLICATE KEY UPDATE of indexed column %s with an expression", col), "assign a constant")
	}
	return nil, nil
}

// updateEntries plans the index entries an UPDATE of indexed columns
// needs: the new value for every key it may change, which must be given
// by the WHERE clause.
func (b *build) updateEntries(s *sqlparser.Update, t *Table, db string, keys []int) ([]engine.Primitive, error) {
	var steps []engine.Primitive
	for _, u := range s.Exprs {
		ix := t.Index(u.Name.Name.Lowered())
		if ix == nil || isNullLiteral(u.Expr) {
			continue
		}
		if keys == nil {
			return nil, sqlerr.NotSupported(fmt.Sprintf("an UPDATE of indexed column %s.%s without the sharding key %s in the WHERE clause", t.Name, ix.Column, t.Key),
				"update by "+t.Key)
		}
		v, ok := b.slotOf(u.Expr)
		if !ok {
			return nil, sqlerr.NotSupported(fmt.Sprintf("setting indexed column %s.%s to an expression", t.Name, ix.Column), "set it to a constant")
		}
		var entries [][2]int
		for _, k := range keys {
			entries = append(entries, [2]int{v, k})
		}
		steps = append(steps, b.indexWrite(ix, t, db, entries))
	}
	return steps, nil
}
