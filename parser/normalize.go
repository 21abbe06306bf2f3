package parser

import "vitess.io/vitess/go/sqltypes"

// Arg is the value of one ? of a shape.
type Arg struct {
	Val   sqltypes.Value // the literal (when Param < 0)
	Param int            // >= 0: the client's own k-th ? (prepared statements), 0-based; -1 for literals
}

// Shape is a statement with its values taken out, so that every execution
// of the same statement with other values, as text or prepared, shares one
// plan.
type Shape struct {
	// Text is the statement with its value literals replaced by ?, its
	// comments dropped (executable comments the server runs become code),
	// white space collapsed to one space, and every quoted token written
	// in the default mode's quoting: vitess's sqlparser reads Text as the
	// server reads the original under its mode.
	Text []byte
	// Args holds one value per ? of Text, in order. A Val's bytes may
	// point into the statement or into the Shape's buffers: they are
	// valid until the statement changes or the Shape normalizes again.
	Args []Arg
	// Params counts the client's own ? among Args. A text (COM_QUERY)
	// statement with a ? is a syntax error for the server: plan its own
	// text instead.
	Params int

	arena []byte // unescaped strings and negative numbers
}

const (
	// maxArgs is the most ? a prepared statement can have.
	maxArgs = 65535
	// maxNormalize bounds the statements Normalize reads: longer ones
	// (bulk loads) are planned from their text, not cached.
	maxNormalize = 1 << 20
)

// Normalize fills sh from sql, a single SELECT, INSERT, UPDATE, DELETE or
// REPLACE read under mode, reusing sh's buffers: it does not allocate once
// they have grown. Integers, decimals, floats and strings in value
// positions become ?, with the values the server reads (a minus after an
// operator folds into the number). Literals that are not values stay as
// written: ORDER BY and GROUP BY positions, widths in type parentheses
// (CHAR(10), DECIMAL(10,2)) and NOW(6)-style precisions, strings after a
// character-set introducer, COLLATE, DATE/TIME/TIMESTAMP and other
// keywords that are not operators, aliases, N'x', hex and bit literals.
//
// It reports false when the statement cannot be normalised with
// certainty: another kind of statement or more than one; an unterminated
// quote or comment; a reading that depends on the exact character set or
// 10.11 release; text vitess reads otherwise than the server (non-ASCII
// or backslashes outside strings, "1e3x", "t.5", @a.b, N"x" without
// ANSI_QUOTES, ||, -> and // operators, a prefix NOT under
// HIGH_NOT_PRECEDENCE, adjacent strings); JSON_TABLE, WEIGHT_STRING,
// PROCEDURE ANALYSE and window frames, whose literals must stay
// literals; more than 65535 values; a statement over 1 MiB.
func (sh *Shape) Normalize(sql []byte, mode Mode) bool {
	sh.Text, sh.Args, sh.Params, sh.arena = sh.Text[:0], sh.Args[:0], 0, sh.arena[:0]
	if mode.Has(Oracle) || len(sql) > maxNormalize {
		return false
	}
	lo, hi := trimQuery(sql)
	n := normalizer{sh: sh, l: lexer{src: sql[:hi], pos: lo, mode: mode}, keepDepth: -1, orderDepth: -1, minus: -1}
	for {
		t := n.l.next()
		if t.kind == tEOF {
			break
		}
		if !n.token(t) {
			return false
		}
	}
	return n.started && !n.l.bad && !n.l.uncertain && n.depth == 0
}

// normalizer writes a Shape one token at a time.
type normalizer struct {
	sh         *Shape
	l          lexer
	prev       token // the previous token; kind tEOF before the first
	started    bool  // the statement's first keyword was seen
	depth      int   // parenthesis depth
	keepDepth  int   // >= 0: inside the parentheses of a type, opened at this depth
	orderDepth int   // >= 0: in an ORDER BY or GROUP BY list at this depth
	minus      int   // >= 0: where in Text a '-' that may fold into a number starts
}

func (n *normalizer) token(t *token) bool {
	if n.l.bad || n.l.uncertain {
		return false
	}
	if !n.started {
		switch {
		case t.kind == tWord && (t.w == wSelect || t.w == wWith || t.w == wInsert ||
			t.w == wUpdate || t.w == wDelete || t.w == wReplace):
			n.started = true
		case !isPunct(*t, '('):
			return false
		}
	}
	if n.l.gap && len(n.sh.Text) > 0 {
		n.sh.Text = append(n.sh.Text, ' ')
	}
	minus := n.minus
	n.minus = -1
	ok := true
	src := n.l.src
	switch t.kind {
	case tWord:
		ok = n.word(t)
	case tIdent:
		n.ident(t)
	case tString, tNString:
		ok = n.str(t)
	case tHexString, tBitString:
		n.sh.Text = append(n.sh.Text, src[t.start:t.end]...)
	case tSysVar:
		// vitess reads the byte after a bare @@ as a name, and panics on "@@session.".
		ok = !vitessVarTail(src, t) && t.end > t.start+2 && src[t.end-1] != '.'
		n.sh.Text = append(n.sh.Text, src[t.start:t.end]...)
	case tNumber:
		ok = n.number(t, minus)
	case tUserVar:
		ok = n.userVar(t)
	case tParam:
		n.sh.Text = append(n.sh.Text, '?')
		n.sh.Args = append(n.sh.Args, Arg{Param: n.sh.Params})
		n.sh.Params++
	case tPunct:
		ok = n.punct(t)
	default: // tNumIdent, tSemicolon
		ok = false
	}
	n.prev = *t
	return ok && len(n.sh.Args) <= maxArgs
}

// value reports whether a literal at the current token is a value: it
// follows an operator, a comma or '(', or an operator-like keyword.
func (n *normalizer) value() bool {
	switch p := n.prev; p.kind {
	case tPunct:
		switch p.q {
		case '(', ',', '=', '<', '>', '+', '-', '*', '/', '%', '^', '&', '|', '~', '!':
			return true
		}
	case tWord:
		return valueBefore(p.w)
	}
	return false
}

func (n *normalizer) word(t *token) bool {
	src := n.l.src
	for _, c := range src[t.start:t.end] {
		if c >= 0x80 {
			return false // vitess does not read non-ASCII identifiers
		}
	}
	switch {
	case t.w == wRefused,
		n.prev.kind == tNumber && n.prev.end == t.start, // 1e3x is 1e3 AS x to the server
		t.w == wNot && n.l.mode.Has(HighNotPrecedence) && !operand(n.prev):
		return false
	case t.w == wBy && n.prev.kind == tWord && (n.prev.w == wOrder || n.prev.w == wGroup || n.prev.w == wPartition):
		if n.orderDepth < 0 {
			n.orderDepth = n.depth
		}
	case n.orderDepth == n.depth && endsOrderBy(t.w):
		n.orderDepth = -1
	}
	n.sh.Text = append(n.sh.Text, src[t.start:t.end]...)
	return true
}

func (n *normalizer) punct(t *token) bool {
	src := n.l.src
	c := t.q
	after := byte(0)
	if t.end < len(src) {
		after = src[t.end]
	}
	switch {
	case c < ' ', c == '\\', c == '{', c == '}', c == '[', c == ']',
		c == ':' && after != '=', // vitess reads :name as a bind variable
		c == '/' && after == '/', // and // as a comment
		c == '-' && after == '>', // MariaDB has no -> operator
		c == '|' && after == '|' && n.l.mode.Has(PipesAsConcat):
		return false
	case c == '(':
		n.depth++
		if n.keepDepth < 0 && n.prev.kind == tWord && n.prev.w == wTypeParen {
			n.keepDepth = n.depth
		}
	case c == ')':
		if n.keepDepth == n.depth {
			n.keepDepth = -1
		}
		if n.depth--; n.depth < 0 {
			return false
		}
		if n.orderDepth > n.depth {
			n.orderDepth = -1
		}
	case c == '-':
		if len(n.sh.Text) > 0 && n.sh.Text[len(n.sh.Text)-1] == '-' {
			n.sh.Text = append(n.sh.Text, ' ') // never write "--"
		}
		if n.value() && !(n.prev.kind == tPunct && (n.prev.q == '-' || n.prev.q == '+' || n.prev.q == '~' || n.prev.q == '!')) {
			n.minus = len(n.sh.Text)
		}
	}
	n.sh.Text = append(n.sh.Text, c)
	return true
}

// vitessVarTail reports whether vitess would read the bytes after a
// variable or literal as part of it (it reads @a.b and @a'x' as one name).
func vitessVarTail(src []byte, t *token) bool {
	if t.kind != tUserVar && t.kind != tSysVar || t.end >= len(src) {
		return false
	}
	switch src[t.end] {
	case '.', '\'', '"', '`':
		return t.kind == tUserVar || src[t.end] != '.'
	}
	return false
}
