package router

import (
	"fmt"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// compile turns a HAVING condition into an engine.Expr over merged
// columns.
func (r *mergeRewriter) compile(e sqlparser.Expr) (engine.Expr, error) {
	bin := func(l, rt sqlparser.Expr) (engine.Expr, engine.Expr, error) {
		a, err := r.compile(l)
		if err != nil {
			return nil, nil, err
		}
		b, err := r.compile(rt)
		return a, b, err
	}
	switch e := e.(type) {
	case *sqlparser.AndExpr:
		l, rt, err := bin(e.Left, e.Right)
		return engine.LogicExpr{Op: "and", L: l, R: rt}, err
	case *sqlparser.OrExpr:
		l, rt, err := bin(e.Left, e.Right)
		return engine.LogicExpr{Op: "or", L: l, R: rt}, err
	case *sqlparser.XorExpr:
		l, rt, err := bin(e.Left, e.Right)
		return engine.LogicExpr{Op: "xor", L: l, R: rt}, err
	case *sqlparser.NotExpr:
		l, err := r.compile(e.Expr)
		return engine.LogicExpr{Op: "not", L: l}, err
	case *sqlparser.ComparisonExpr:
		switch e.Operator {
		case sqlparser.EqualOp, sqlparser.NotEqualOp, sqlparser.LessThanOp, sqlparser.LessEqualOp,
			sqlparser.GreaterThanOp, sqlparser.GreaterEqualOp, sqlparser.NullSafeEqualOp:
			l, rt, err := bin(e.Left, e.Right)
			return engine.CmpExpr{Op: e.Operator.ToString(), L: l, R: rt}, err
		}
	case *sqlparser.BetweenExpr:
		if !e.IsBetween {
			break
		}
		x, err := r.compile(e.Left)
		if err != nil {
			return nil, err
		}
		lo, hi, err := bin(e.From, e.To)
		return engine.LogicExpr{Op: "and", L: engine.CmpExpr{Op: ">=", L: x, R: lo}, R: engine.CmpExpr{Op: "<=", L: x, R: hi}}, err
	case *sqlparser.BinaryExpr:
		switch e.Operator {
		case sqlparser.PlusOp, sqlparser.MinusOp, sqlparser.MultOp, sqlparser.DivOp:
			l, rt, err := bin(e.Left, e.Right)
			return engine.ArithExpr{Op: e.Operator.ToString(), L: l, R: rt}, err
		}
	case *sqlparser.IsExpr:
		switch e.Right {
		case sqlparser.IsNullOp, sqlparser.IsNotNullOp:
			x, err := r.compile(e.Left)
			return engine.IsNullExpr{E: x, Not: e.Right == sqlparser.IsNotNullOp}, err
		}
	case *sqlparser.Argument:
		return engine.ArgExpr{Slot: argSlot(e)}, nil
	case *sqlparser.Literal:
		switch e.Type {
		case sqlparser.IntVal, sqlparser.DecimalVal, sqlparser.FloatVal:
			return engine.LitExpr{Val: e.Val, Num: true}, nil
		case sqlparser.StrVal:
			return engine.LitExpr{Val: e.Val}, nil
		}
	case *sqlparser.NullVal:
		return engine.LitExpr{Null: true}, nil
	case *sqlparser.UnaryExpr:
		if l, ok := e.Expr.(*sqlparser.Literal); ok && e.Operator == sqlparser.UMinusOp && l.Type != sqlparser.StrVal {
			return engine.LitExpr{Val: "-" + l.Val, Num: true}, nil
		}
	case *sqlparser.ColName, sqlparser.AggrFunc:
		c, err := r.resolve(e, true)
		return engine.ColExpr{Col: c}, err
	}
	return nil, sqlerr.NotSupported(fmt.Sprintf("HAVING %s in a query that reaches several shards", short(sqlparser.String(e))),
		"use comparisons of selected columns and aggregates with constants")
}
