package router

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/router/vindex"
)

// LiteralKind is the type of a bound parameter value.
type LiteralKind uint8

// Literal kinds.
const (
	LitNull LiteralKind = iota
	LitInt
	LitUint
	LitFloat
	LitDecimal
	LitString // text, dates and times; bytes that are not UTF-8 become a hex literal
)

// Literal is the value bound to one ? of a prepared statement.
type Literal struct {
	Kind LiteralKind
	Text string
}

// Key returns the literal as a sharding key value (ok=false for NULL,
// floats and decimals, which are never taken as keys).
func (l Literal) Key() (vindex.Value, bool) {
	switch l.Kind {
	case LitInt:
		i, err := strconv.ParseInt(l.Text, 10, 64)
		return vindex.IntValue(i), err == nil
	case LitUint:
		u, err := strconv.ParseUint(l.Text, 10, 64)
		return vindex.UintValue(u), err == nil
	case LitString:
		return vindex.StrValue(l.Text), true
	}
	return vindex.Value{}, false
}

// Bind returns sql with every ? replaced by the literal bound to it, so a
// prepared statement that reaches several shards runs on each as text.
func (pl *Planner) Bind(sql string, args []Literal) (string, error) {
	stmt, err := pl.parser.Parse(sql)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnparsed, err)
	}
	var bad error
	out := sqlparser.Rewrite(stmt, func(c *sqlparser.Cursor) bool {
		a, ok := c.Node().(*sqlparser.Argument)
		if !ok {
			return true
		}
		n, err := strconv.Atoi(strings.TrimPrefix(a.Name, "v"))
		if err != nil || n < 1 || n > len(args) {
			bad = fmt.Errorf("parameter %s is not bound", a.Name)
			return false
		}
		c.Replace(args[n-1].expr())
		return true
	}, nil)
	if bad != nil {
		return "", bad
	}
	return sqlparser.String(out), nil
}

func (l Literal) expr() sqlparser.Expr {
	switch l.Kind {
	case LitInt, LitUint:
		return sqlparser.NewIntLiteral(l.Text)
	case LitFloat:
		return sqlparser.NewFloatLiteral(l.Text)
	case LitDecimal:
		return sqlparser.NewDecimalLiteral(l.Text)
	case LitString:
		if utf8.ValidString(l.Text) {
			return sqlparser.NewStrLiteral(l.Text)
		}
		return sqlparser.NewHexLiteral(hex.EncodeToString([]byte(l.Text)))
	}
	return &sqlparser.NullVal{}
}
