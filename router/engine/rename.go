package engine

import (
	"context"
	"fmt"
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"
)

// Rename gives columns the names MariaDB gives them: the text of their
// select expression as the client wrote it. Shards that ran a statement
// the planner printed name an expression after the printed text
// ("count(*)", not "COUNT(*)"); Rename takes the names from the client's
// statement instead.
type Rename struct {
	Input Primitive
	// Cols are the columns (select expressions by position) to rename.
	Cols []int
	// Parser tokenizes the client's statement.
	Parser *sqlparser.Parser
}

// maxName is the longest column name MariaDB gives an expression.
const maxName = 256

// Execute implements Primitive.
func (r *Rename) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	s := c.Session()
	texts := r.texts(s)
	if texts == nil {
		return r.Input.Execute(ctx, c, bv, w)
	}
	return r.Input.Execute(ctx, c, bv, &renamer{ResultWriter: w, cols: r.Cols, texts: texts})
}

// texts returns the text of each select expression of the client's
// statement, or nil when it cannot be read with certainty.
func (r *Rename) texts(s *Session) []string {
	sql := string(s.Statement)
	if s.Mode != 0 && strings.ContainsAny(sql, "\\\"") {
		return nil // read otherwise by the tokenizer under this mode: keep the shards' names
	}
	return selectTexts(r.Parser, sql)
}

type renamer struct {
	ResultWriter
	cols  []int
	texts []string
}

// Passthrough implements Passthrough.
func (rn *renamer) Passthrough() ResultWriter { return rn.ResultWriter }

func (rn *renamer) Fields(cols []Column) error {
	out := cols
	for _, i := range rn.cols {
		if i >= len(cols) || i >= len(rn.texts) {
			continue
		}
		t := rn.texts[i]
		switch {
		case t == "?": // a placeholder of a prepared statement
		case len(t) == 0 || len(t) > maxName || t[0] == '\'' || t[0] == '"' || t[0] == '-' || t[0] >= '0' && t[0] <= '9':
			continue // a literal: the shards named it by its value already
		}
		if &out[0] == &cols[0] {
			out = append([]Column(nil), cols...)
		}
		out[i] = out[i].WithName(t)
	}
	return rn.ResultWriter.Fields(out)
}

// selectTexts returns the text of each expression of the first select
// list in sql, as written (aliases included), or nil.
func selectTexts(p *sqlparser.Parser, sql string) []string {
	if p == nil {
		return nil
	}
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

// Inputs implements Primitive.
func (r *Rename) Inputs() []Primitive { return []Primitive{r.Input} }

// String implements Primitive.
func (r *Rename) String() string { return fmt.Sprintf("Rename columns %v as written", r.Cols) }
