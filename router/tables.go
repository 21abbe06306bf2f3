package router

import (
	"fmt"
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/sqlerr"
)

// tableRef is a table named in a statement, with the name it is referred
// to by (its alias, else its name).
type tableRef struct {
	t    *Table
	name string
	db   string // the qualifier it was named with, if any
}

// tables lists every table a statement reads or writes, subqueries
// included.
func (pl *Planner) tables(node sqlparser.SQLNode) []tableRef {
	var out []tableRef
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if at, ok := n.(*sqlparser.AliasedTableExpr); ok {
			if tn, ok := at.Expr.(sqlparser.TableName); ok {
				ref := tableRef{t: pl.schema.Table(tn.Name.String()), name: strings.ToLower(tn.Name.String()), db: tn.Qualifier.String()}
				if !at.As.IsEmpty() {
					ref.name = strings.ToLower(at.As.String())
				}
				out = append(out, ref)
			}
		}
		return true, nil
	}, node)
	return out
}

// kinds splits table references by layout.
func kinds(refs []tableRef) (sharded, reference, unsharded []tableRef) {
	for _, r := range refs {
		switch r.t.Kind {
		case Sharded:
			sharded = append(sharded, r)
		case Reference:
			reference = append(reference, r)
		default:
			unsharded = append(unsharded, r)
		}
	}
	return
}

// outerReference names an outer join that preserves reference tables
// while its other side reads a sharded table, or "".
func (pl *Planner) outerReference(s *sqlparser.Select) string {
	found := ""
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		j, ok := n.(*sqlparser.JoinTableExpr)
		if !ok {
			return true, nil
		}
		kept, other := j.LeftExpr, j.RightExpr
		switch j.Join {
		case sqlparser.RightJoinType, sqlparser.NaturalRightJoinType:
			kept, other = other, kept
		case sqlparser.LeftJoinType, sqlparser.NaturalLeftJoinType:
		default:
			return true, nil
		}
		ks, _, _ := kinds(pl.tables(kept))
		os, _, _ := kinds(pl.tables(other))
		if len(ks) == 0 && len(os) > 0 {
			found = fmt.Sprintf("an outer join that keeps every row of %s while reading sharded table %s", sqlparser.String(kept), os[0].name)
		}
		return found == "", nil
	}, s)
	return found
}

// checkSubqueries refuses subqueries and derived tables over sharded
// tables: each shard would answer them from its own rows only.
func (pl *Planner) checkSubqueries(s sqlparser.SQLNode) error {
	var bad string
	inner := func(n sqlparser.SQLNode) {
		if sharded, _, _ := kinds(pl.tables(n)); len(sharded) > 0 {
			bad = sqlparser.String(n)
		}
	}
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		switch n := n.(type) {
		case *sqlparser.Subquery:
			inner(n)
		case *sqlparser.DerivedTable:
			inner(n)
		}
		return bad == "", nil
	}, s)
	if bad != "" {
		return sqlerr.NotSupported("a subquery or derived table in a query on sharded tables ("+short(bad)+")",
			"run the inner query first and pass its values")
	}
	return nil
}

// checkGroup allows several sharded tables in one query only when they are
// in one key group and joined on their keys, so each shard can answer
// alone.
func (pl *Planner) checkGroup(stmt sqlparser.SQLNode, sharded []tableRef) error {
	if len(sharded) == 1 {
		return nil
	}
	first := sharded[0]
	for _, r := range sharded[1:] {
		if r.t.group() != first.t.group() {
			return sqlerr.NotSupported(fmt.Sprintf("a join of %s and %s, which are sharded differently", first.name, r.name), "")
		}
	}
	joined := map[string]bool{first.name: true}
	preds := joinPredicates(stmt)
	for changed := true; changed; {
		changed = false
		for _, p := range preds {
			c, ok := p.(*sqlparser.ComparisonExpr)
			if !ok || c.Operator != sqlparser.EqualOp {
				continue
			}
			l, lok := c.Left.(*sqlparser.ColName)
			r, rok := c.Right.(*sqlparser.ColName)
			if !lok || !rok {
				continue
			}
			lt, rt := keyOf(l, sharded), keyOf(r, sharded)
			if lt == "" || rt == "" || joined[lt] == joined[rt] {
				continue
			}
			joined[lt], joined[rt], changed = true, true, true
		}
	}
	for _, r := range sharded {
		if !joined[r.name] {
			return sqlerr.NotSupported(fmt.Sprintf("a join of sharded tables %s and %s not on their sharding key", first.name, r.name),
				fmt.Sprintf("join on %s.%s = %s.%s", first.name, first.t.Key, r.name, r.t.Key))
		}
	}
	return nil
}

// joinPredicates collects the conjuncts of a statement's ON and WHERE
// clauses.
func joinPredicates(stmt sqlparser.SQLNode) []sqlparser.Expr {
	var preds []sqlparser.Expr
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		switch n := n.(type) {
		case *sqlparser.JoinCondition:
			if n.On != nil {
				preds = append(preds, splitAnd(n.On)...)
			}
		case *sqlparser.Where:
			if n.Type == sqlparser.WhereClause {
				preds = append(preds, splitAnd(n.Expr)...)
			}
		}
		return true, nil
	}, stmt)
	return preds
}

// keyOf returns the reference name of the sharded table whose key column c
// is, or "".
func keyOf(c *sqlparser.ColName, sharded []tableRef) string {
	col := c.Name.Lowered()
	q := strings.ToLower(c.Qualifier.Name.String())
	var found string
	for _, r := range sharded {
		if r.t.Key != col || (q != "" && q != r.name) {
			continue
		}
		if found != "" && q == "" {
			return "" // ambiguous without a qualifier
		}
		found = r.name
	}
	return found
}

func splitAnd(e sqlparser.Expr) []sqlparser.Expr {
	if a, ok := e.(*sqlparser.AndExpr); ok {
		return append(splitAnd(a.Left), splitAnd(a.Right)...)
	}
	return []sqlparser.Expr{e}
}

// short cuts a statement quoted in an error message.
func short(s string) string {
	const max = 120
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
