package router

import (
	"vitess.io/vitess/go/vt/sqlparser"
)

// keyPredicate is a WHERE conjunct that pins the sharding key to values.
type keyPredicate struct {
	slots []int                     // the bind slots of the values
	in    *sqlparser.ComparisonExpr // an IN list that can be split by shard
}

// findKeyPredicate looks for key = v, key IN (...), or an OR of key
// equalities among the conjuncts of where.
func (b *build) findKeyPredicate(where sqlparser.Expr, sharded []tableRef) *keyPredicate {
	if where == nil {
		return nil
	}
	for _, c := range splitAnd(where) {
		if kp := b.keyValues(c, sharded); kp != nil {
			return kp
		}
	}
	return nil
}

func (b *build) keyValues(e sqlparser.Expr, sharded []tableRef) *keyPredicate {
	switch e := e.(type) {
	case *sqlparser.ComparisonExpr:
		col, ok := e.Left.(*sqlparser.ColName)
		if !ok || keyOf(col, sharded) == "" {
			return nil
		}
		switch e.Operator {
		case sqlparser.EqualOp:
			if s, ok := b.slotOf(e.Right); ok {
				return &keyPredicate{slots: []int{s}}
			}
		case sqlparser.InOp:
			tuple, ok := e.Right.(sqlparser.ValTuple)
			if !ok {
				return nil
			}
			kp := &keyPredicate{in: e}
			for _, x := range tuple {
				s, ok := b.slotOf(x)
				if !ok {
					return nil
				}
				kp.slots = append(kp.slots, s)
			}
			return kp
		}
	case *sqlparser.OrExpr:
		l := b.keyValues(e.Left, sharded)
		r := b.keyValues(e.Right, sharded)
		if l != nil && r != nil {
			return &keyPredicate{slots: append(l.slots, r.slots...)}
		}
	}
	return nil
}
