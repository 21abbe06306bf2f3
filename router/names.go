package router

import (
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"
)

// maxAlias is the longest column alias MariaDB accepts.
const maxAlias = 256

// keepColumnNames gives the unaliased expressions of sel, a statement
// parsed from sql that will be sent to shards as re-printed text, an
// alias holding their text as the client wrote it: MariaDB names such a
// column after the text it was given ("COUNT(*)", not "count(*)").
func (pl *Planner) keepColumnNames(sel *sqlparser.Select, sql string) {
	texts := selectTexts(pl.parser, sql)
	exprs := sel.SelectExprs.Exprs
	if len(texts) != len(exprs) {
		return // not the statement's first select list; leave it
	}
	for i, se := range exprs {
		ae, ok := se.(*sqlparser.AliasedExpr)
		if !ok || !ae.As.IsEmpty() {
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
		if t := texts[i]; len(t) <= maxAlias && t != sqlparser.String(ae.Expr) {
			ae.As = sqlparser.NewIdentifierCI(t)
		}
	}
}

// selectTexts returns the text of each expression of the first select
// list in sql, as written (aliases included), or nil.
func selectTexts(p *sqlparser.Parser, sql string) []string {
	tk := p.NewStringTokenizer(sql)
	for {
		typ, _ := tk.Scan()
		if typ == sqlparser.SELECT {
			break
		}
		if typ == 0 || typ == sqlparser.LEX_ERROR {
			return nil
		}
	}
	start, end := tk.Pos, tk.Pos
	modifiers := true
	depth := 0
	var out []string
	for {
		typ, _ := tk.Scan()
		if modifiers {
			switch typ {
			case sqlparser.DISTINCT, sqlparser.ALL, sqlparser.DISTINCTROW, sqlparser.STRAIGHT_JOIN,
				sqlparser.SQL_CALC_FOUND_ROWS, sqlparser.SQL_NO_CACHE, sqlparser.SQL_CACHE, sqlparser.HIGH_PRIORITY,
				sqlparser.SQL_SMALL_RESULT, sqlparser.SQL_BIG_RESULT, sqlparser.SQL_BUFFER_RESULT, sqlparser.COMMENT:
				start, end = tk.Pos, tk.Pos
				continue
			}
			modifiers = false
		}
		switch {
		case typ == sqlparser.LEX_ERROR:
			return nil
		case typ == '(':
			depth++
		case typ == ')' && depth > 0:
			depth--
		case depth == 0 && typ == ',':
			out = append(out, strings.TrimSpace(sql[start:end]))
			start, end = tk.Pos, tk.Pos
			continue
		case depth == 0 && endsSelectList(typ):
			return append(out, strings.TrimSpace(sql[start:end]))
		}
		end = tk.Pos
	}
}

func endsSelectList(typ int) bool {
	switch typ {
	case 0, ';', ')', sqlparser.FROM, sqlparser.INTO, sqlparser.WHERE, sqlparser.GROUP, sqlparser.HAVING,
		sqlparser.WINDOW, sqlparser.ORDER, sqlparser.LIMIT, sqlparser.FOR, sqlparser.LOCK, sqlparser.UNION:
		return true
	}
	return false
}
