package merge

import (
	"math/big"
	"strconv"
	"strings"

	"github.com/courier-proxy/courier/router"
)

// value is an operand of a HAVING condition.
type value struct {
	null bool
	num  *big.Rat // numbers; nil for strings
	str  []byte
	cmp  *comparer // a string column's comparison, when known
}

// truth evaluates a HAVING condition on a finished row: NULL is false.
func (m *Merger) truth(e router.Expr, r Row) (bool, error) {
	v := m.eval(e, r)
	return !v.null && numberOf(v).Sign() != 0, nil
}

func (m *Merger) eval(e router.Expr, r Row) value {
	switch e := e.(type) {
	case router.ColExpr:
		i := e.Col.Index(m.total, m.spec.Hidden)
		raw := r[i]
		if raw == nil {
			return value{null: true}
		}
		switch k := m.cmp[i]; {
		case k != nil && k.kind != kindInt && k.kind != kindUint && k.kind != kindDecimal && k.kind != kindFloat:
			return value{str: raw, cmp: k}
		case k == nil && !numericType(&m.cols[i]):
			return value{str: raw}
		}
		x, ok := new(big.Rat).SetString(string(raw))
		if !ok {
			return value{str: raw}
		}
		return value{num: x}
	case router.LitExpr:
		switch {
		case e.Null:
			return value{null: true}
		case e.Num:
			x, ok := new(big.Rat).SetString(e.Val)
			if ok {
				return value{num: x}
			}
		}
		return value{str: []byte(e.Val)}
	case router.IsNullExpr:
		return boolean(m.eval(e.E, r).null != e.Not)
	case router.LogicExpr:
		return m.logic(e, r)
	case router.CmpExpr:
		return compareValues(e.Op, m.eval(e.L, r), m.eval(e.R, r))
	case router.ArithExpr:
		l, rt := m.eval(e.L, r), m.eval(e.R, r)
		if l.null || rt.null {
			return value{null: true}
		}
		x, y := numberOf(l), numberOf(rt)
		switch e.Op {
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
	}
	return value{null: true}
}

func (m *Merger) logic(e router.LogicExpr, r Row) value {
	l := m.eval(e.L, r)
	truthOf := func(v value) int { // 0 false, 1 true, -1 NULL
		if v.null {
			return -1
		}
		if numberOf(v).Sign() != 0 {
			return 1
		}
		return 0
	}
	a := truthOf(l)
	if e.Op == "not" {
		if a < 0 {
			return value{null: true}
		}
		return boolean(a == 0)
	}
	b := truthOf(m.eval(e.R, r))
	switch e.Op {
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
	default: // xor
		if a < 0 || b < 0 {
			return value{null: true}
		}
		return boolean(a != b)
	}
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
	s := strings.TrimSpace(string(v.str))
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || (end == 0 && (s[end] == '-' || s[end] == '+'))) {
		end++
	}
	for ; end > 0; end-- {
		if x, ok := new(big.Rat).SetString(s[:end]); ok {
			return x
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return new(big.Rat).SetFloat64(f)
	}
	return new(big.Rat)
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
			k = &comparer{kind: kindFold}
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

func numericType(c *Column) bool {
	k, err := newComparer(c, nil)
	return err == nil && (k.kind == kindInt || k.kind == kindUint || k.kind == kindDecimal || k.kind == kindFloat)
}

// walkCols calls f for every column an expression reads.
func walkCols(e router.Expr, f func(router.Col)) {
	switch e := e.(type) {
	case router.ColExpr:
		f(e.Col)
	case router.CmpExpr:
		walkCols(e.L, f)
		walkCols(e.R, f)
	case router.LogicExpr:
		walkCols(e.L, f)
		if e.R != nil {
			walkCols(e.R, f)
		}
	case router.ArithExpr:
		walkCols(e.L, f)
		walkCols(e.R, f)
	case router.IsNullExpr:
		walkCols(e.E, f)
	}
}
