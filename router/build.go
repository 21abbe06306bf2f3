package router

import (
	"strconv"
	"strings"

	"vitess.io/vitess/go/sqltypes"
	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/router/engine"
)

// Options are what of the session planning depends on besides the
// statement: how the session's server reads SQL, for the statements the
// planner prints.
type Options struct {
	Mode    parser.Mode
	Charset string // character_set_client, under parser.MultibyteEscapes
}

// build is the state of planning one statement: the bind slots it uses
// (the statement's own ?s first, as :v1..:vN) and the constants it took
// from literals.
type build struct {
	pl     *Planner
	opts   Options
	slots  int
	consts []Const
	access []Access
}

// newSlot reserves a bind slot that primitives fill during execution.
func (b *build) newSlot() int {
	b.slots++
	return b.slots - 1
}

// argName is the placeholder name of slot i in an AST.
func argName(i int) string { return "v" + strconv.Itoa(i+1) }

// argSlot is the slot of a placeholder, or -1.
func argSlot(a *sqlparser.Argument) int {
	n, err := strconv.Atoi(strings.TrimPrefix(a.Name, "v"))
	if err != nil || n < 1 {
		return -1
	}
	return n - 1
}

// slotOf returns the bind slot holding the value of e: a placeholder's
// own, or a new constant slot for a literal. ok is false when e is not a
// value known before the statement runs.
func (b *build) slotOf(e sqlparser.Expr) (int, bool) {
	switch e := e.(type) {
	case *sqlparser.Argument:
		s := argSlot(e)
		return s, s >= 0
	case *sqlparser.FuncExpr: // LAST_INSERT_ID(v) is v
		if e.Name.EqualString("last_insert_id") && len(e.Exprs) == 1 {
			return b.slotOf(e.Exprs[0])
		}
	}
	v, ok := literalValue(e)
	if !ok {
		return 0, false
	}
	s := b.newSlot()
	b.consts = append(b.consts, Const{Slot: s, Val: v})
	return s, true
}

// literalValue is the value of a literal (integers, strings, decimals,
// floats, a minus before a number, NULL).
func literalValue(e sqlparser.Expr) (sqltypes.Value, bool) {
	switch e := e.(type) {
	case *sqlparser.NullVal:
		return sqltypes.NULL, true
	case *sqlparser.Literal:
		switch e.Type {
		case sqlparser.IntVal:
			if _, err := strconv.ParseInt(e.Val, 10, 64); err == nil {
				return sqltypes.MakeTrusted(sqltypes.Int64, []byte(e.Val)), true
			}
			if _, err := strconv.ParseUint(e.Val, 10, 64); err == nil {
				return sqltypes.MakeTrusted(sqltypes.Uint64, []byte(e.Val)), true
			}
			return sqltypes.MakeTrusted(sqltypes.Decimal, []byte(e.Val)), true
		case sqlparser.StrVal:
			return sqltypes.MakeTrusted(sqltypes.VarChar, []byte(e.Val)), true
		case sqlparser.DecimalVal:
			return sqltypes.MakeTrusted(sqltypes.Decimal, []byte(e.Val)), true
		case sqlparser.FloatVal:
			return sqltypes.MakeTrusted(sqltypes.Float64, []byte(e.Val)), true
		}
	case *sqlparser.UnaryExpr:
		if l, ok := e.Expr.(*sqlparser.Literal); ok && e.Operator == sqlparser.UMinusOp && l.Type != sqlparser.StrVal {
			v, ok := literalValue(l)
			if !ok {
				return v, false
			}
			neg := append([]byte{'-'}, v.Raw()...)
			if v.Type() == sqltypes.Uint64 {
				return sqltypes.MakeTrusted(sqltypes.Decimal, neg), true
			}
			return sqltypes.MakeTrusted(v.Type(), neg), true
		}
	}
	return sqltypes.NULL, false
}

// listArg marks, in an AST being printed, the IN list that becomes a list
// hole.
const listArg = "__courier_list"

// sql prints node as a template: placeholders become holes, and when
// list is set, the tuple of that IN comparison becomes a list hole over
// listSlots. Strings are printed as the session's server reads them.
func (b *build) sql(node sqlparser.SQLNode, list *sqlparser.ComparisonExpr, listSlots []int) *engine.SQL {
	if list != nil {
		saved := list.Right
		list.Right = sqlparser.ValTuple{sqlparser.NewArgument(listArg)}
		defer func() { list.Right = saved }()
	}
	var parts []string
	var holes []engine.Hole
	last := 0
	sess := &engine.Session{Mode: b.opts.Mode, Charset: b.opts.Charset}
	var buf *sqlparser.TrackedBuffer
	buf = sqlparser.NewTrackedBuffer(func(buf *sqlparser.TrackedBuffer, n sqlparser.SQLNode) {
		switch n := n.(type) {
		case *sqlparser.Argument:
			parts = append(parts, buf.String()[last:])
			if n.Name == listArg {
				holes = append(holes, engine.Hole{List: listSlots})
			} else {
				holes = append(holes, engine.Hole{Arg: argSlot(n)})
			}
			last = buf.Len()
			return
		case *sqlparser.Literal:
			if n.Type == sqlparser.StrVal {
				buf.WriteString(string(engine.AppendString(nil, n.Bytes(), sess)))
				return
			}
		}
		n.Format(buf)
	})
	buf.WriteNode(node)
	parts = append(parts, buf.String()[last:])
	return engine.NewSQL(parts, holes)
}

// text prints node without holes (it has none: DDL, metadata).
func (b *build) text(node sqlparser.SQLNode) string {
	return b.sql(node, nil, nil).RenderString(&engine.Bind{}, nil, nil)
}

// argExpr is a placeholder for slot i, to put into an AST.
func argExpr(i int) *sqlparser.Argument { return sqlparser.NewArgument(argName(i)) }
