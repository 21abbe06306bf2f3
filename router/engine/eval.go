package engine

import (
	"context"
	"math"
	"math/big"
	"strconv"
	"strings"

	"vitess.io/vitess/go/sqltypes"
)

// value is an operand of a HAVING condition.
type value struct {
	null bool
	num  *big.Rat // numbers; nil for strings
	str  []byte
	cmp  *comparer // a string column's comparison, when known
}

// evaluator evaluates an Expr over the rows of one result.
type evaluator struct {
	cmp []*comparer // by position: the comparison of the columns read
	bv  *Bind
}

// prepare resolves the columns e reads, asking the catalog about them.
func (ev *evaluator) prepare(ctx context.Context, cur Cursor, s *columns, e Expr) error {
	var err error
	ev.cmp = make([]*comparer, len(s.cols))
	walkCols(e, func(c Col) {
		if err != nil {
			return
		}
		var i int
		if i, err = s.index(c); err != nil {
			return
		}
		ev.cmp[i], err = s.comparer(ctx, cur, i, false)
	})
	return err
}

// truth evaluates a condition on a row: NULL is false.
func (ev *evaluator) truth(e Expr, r Row, total, hidden int) bool {
	v := ev.eval(e, r, total, hidden)
	return !v.null && numberOf(v).Sign() != 0
}

func (ev *evaluator) eval(e Expr, r Row, total, hidden int) value {
	switch e := e.(type) {
	case ColExpr:
		i := e.Col.Index(total, hidden)
		raw := r[i]
		if raw == nil {
			return value{null: true}
		}
		if k := ev.cmp[i]; !k.kind.numeric() {
			return value{str: raw, cmp: k}
		}
		if x, ok := ratOf(string(raw)); ok {
			return value{num: x}
		}
		return value{str: raw}
	case LitExpr:
		switch {
		case e.Null:
			return value{null: true}
		case e.Num:
			if x, ok := ratOf(e.Val); ok {
				return value{num: x}
			}
		}
		return value{str: []byte(e.Val)}
	case ArgExpr:
		return bindValue(ev.bv.Value(e.Slot))
	case IsNullExpr:
		return boolean(ev.eval(e.E, r, total, hidden).null != e.Not)
	case LogicExpr:
		return ev.logic(e, r, total, hidden)
	case CmpExpr:
		return compareValues(e.Op, ev.eval(e.L, r, total, hidden), ev.eval(e.R, r, total, hidden))
	case ArithExpr:
		return arith(e.Op, ev.eval(e.L, r, total, hidden), ev.eval(e.R, r, total, hidden))
	}
	return value{null: true}
}

// bindValue is a bind value as an operand: numbers as numbers, anything
// else as a string.
func bindValue(v sqltypes.Value) value {
	if v.IsNull() {
		return value{null: true}
	}
	if sqltypes.IsNumber(v.Type()) {
		if x, ok := ratOf(v.RawStr()); ok {
			return value{num: x}
		}
	}
	return value{str: v.Raw()}
}

func arith(op string, l, r value) value {
	if l.null || r.null {
		return value{null: true}
	}
	x, y := numberOf(l), numberOf(r)
	switch op {
	case "+":
		return value{num: new(big.Rat).Add(x, y)}
	case "-":
		return value{num: new(big.Rat).Sub(x, y)}
	case "*":
		return value{num: new(big.Rat).Mul(x, y)}
	case "/":
		if y.Sign() == 0 {
			return value{null: true}
		}
		return value{num: new(big.Rat).Quo(x, y)}
	}
	return value{null: true}
}

// truthOf is a value as a condition: 0 false, 1 true, -1 NULL.
func truthOf(v value) int {
	if v.null {
		return -1
	}
	if numberOf(v).Sign() != 0 {
		return 1
	}
	return 0
}

func (ev *evaluator) logic(e LogicExpr, r Row, total, hidden int) value {
	a := truthOf(ev.eval(e.L, r, total, hidden))
	op := strings.ToLower(e.Op)
	if op == "not" {
		if a < 0 {
			return value{null: true}
		}
		return boolean(a == 0)
	}
	b := truthOf(ev.eval(e.R, r, total, hidden))
	switch op {
	case "and":
		if a == 0 || b == 0 {
			return boolean(false)
		}
		if a < 0 || b < 0 {
			return value{null: true}
		}
		return boolean(true)
	case "or":
		if a == 1 || b == 1 {
			return boolean(true)
		}
		if a < 0 || b < 0 {
			return value{null: true}
		}
		return boolean(false)
	case "xor":
		if a < 0 || b < 0 {
			return value{null: true}
		}
		return boolean(a != b)
	}
	return value{null: true}
}

func boolean(b bool) value {
	if b {
		return value{num: big.NewRat(1, 1)}
	}
	return value{num: new(big.Rat)}
}

// numberOf reads a value as a number, as MySQL does in numeric context:
// the longest numeric prefix of a string, else 0.
func numberOf(v value) *big.Rat {
	if v.num != nil {
		return v.num
	}
	x, ok := ratOf(numPrefix(string(v.str)))
	if !ok {
		return new(big.Rat)
	}
	return x
}

// ratOf reads a number exactly, or through a DOUBLE when it has an
// exponent (so that 1e999999999 costs no memory; MariaDB reads it as a
// DOUBLE too).
func ratOf(s string) (*big.Rat, bool) {
	if !strings.ContainsAny(s, "eE") {
		return new(big.Rat).SetString(s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return nil, false
	}
	f = math.Max(-math.MaxFloat64, math.Min(f, math.MaxFloat64))
	return new(big.Rat).SetFloat64(f), true
}

func compareValues(op string, l, r value) value {
	if op == "<=>" {
		if l.null || r.null {
			return boolean(l.null && r.null)
		}
		op = "="
	}
	if l.null || r.null {
		return value{null: true}
	}
	var c int
	if l.num == nil && r.num == nil {
		k := l.cmp
		if k == nil {
			k = r.cmp
		}
		if k == nil {
			k = &comparer{kind: kindFold} // the connection's utf8mb4_general_ci
		}
		c = k.compare(l.str, r.str)
	} else {
		c = numberOf(l).Cmp(numberOf(r))
	}
	switch op {
	case "=":
		return boolean(c == 0)
	case "!=", "<>":
		return boolean(c != 0)
	case "<":
		return boolean(c < 0)
	case "<=":
		return boolean(c <= 0)
	case ">":
		return boolean(c > 0)
	case ">=":
		return boolean(c >= 0)
	}
	return value{null: true}
}

// walkCols calls f for every column an expression reads.
func walkCols(e Expr, f func(Col)) {
	switch e := e.(type) {
	case ColExpr:
		f(e.Col)
	case CmpExpr:
		walkCols(e.L, f)
		walkCols(e.R, f)
	case LogicExpr:
		walkCols(e.L, f)
		if e.R != nil {
			walkCols(e.R, f)
		}
	case ArithExpr:
		walkCols(e.L, f)
		walkCols(e.R, f)
	case IsNullExpr:
		walkCols(e.E, f)
	}
}
