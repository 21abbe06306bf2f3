package parser

import (
	"math"

	"vitess.io/vitess/go/sqltypes"
)

// number writes a numeric literal: ? for a value, with a '-' that
// started at Text[minus] folded into it, or the literal as written.
func (n *normalizer) number(t *token, minus int) bool {
	p := n.prev
	if p.end == t.start && p.kind != tPunct && p.kind != tEOF || isPunct(p, '.') && p.end == t.start {
		return false // "1.5.3", "t.5": the server does not read a number here
	}
	raw := n.l.src[t.start:t.end]
	if t.num == numHex || t.num == numBit || n.keepDepth >= 0 || n.orderDepth >= 0 || !n.value() {
		n.sh.Text = append(n.sh.Text, raw...)
		return true
	}
	neg := minus >= 0
	if neg {
		n.sh.Text = n.sh.Text[:minus]
		a := len(n.sh.arena)
		n.sh.arena = append(append(n.sh.arena, '-'), raw...)
		raw = n.sh.arena[a:]
	}
	typ := sqltypes.Decimal
	switch t.num {
	case numInt:
		typ = intType(raw, neg)
	case numFloat:
		typ = sqltypes.Float64
	}
	n.arg(sqltypes.MakeTrusted(typ, raw))
	return true
}

func (n *normalizer) arg(v sqltypes.Value) {
	n.sh.Text = append(n.sh.Text, '?')
	n.sh.Args = append(n.sh.Args, Arg{Val: v, Param: -1})
}

// intType is the type the server gives an integer literal: BIGINT when it
// fits, BIGINT UNSIGNED above that, DECIMAL beyond.
func intType(raw []byte, neg bool) sqltypes.Type {
	if neg {
		raw = raw[1:]
	}
	var v uint64
	for _, c := range raw {
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return sqltypes.Decimal
		}
		v = v*10 + d
	}
	switch {
	case neg && v > 1<<63:
		return sqltypes.Decimal
	case neg || v <= math.MaxInt64:
		return sqltypes.Int64
	}
	return sqltypes.Uint64
}

// str writes a string literal: ? for a value, else the string in the
// default mode's quoting.
func (n *normalizer) str(t *token) bool {
	p := n.prev
	switch {
	case p.kind == tString || p.kind == tNString:
		return false // 'a' 'b' is one string to the server
	case t.kind == tString && t.q == '"' && p.kind == tWord && p.end == t.start && p.end-p.start == 1 &&
		n.l.src[p.start]|0x20 == 'n':
		return false // vitess reads N"x" as a national string, the server as N AS "x"
	}
	mode := n.l.mode
	raw := n.l.src[t.start:t.end]
	if t.kind == tString && n.value() {
		val := raw[1 : len(raw)-1]
		if t.esc {
			a := len(n.sh.arena)
			n.sh.arena = unquote(n.sh.arena, raw[1:], t.q, !mode.Has(NoBackslashEscapes))
			val = n.sh.arena[a:]
		}
		n.arg(sqltypes.MakeTrusted(sqltypes.VarChar, val))
		return true
	}
	n.sh.Text = appendDefaultQuoted(n.sh.Text, raw, t, mode)
	return true
}

// appendDefaultQuoted appends a string token so that it reads the same
// with backslash escapes as it does under mode.
func appendDefaultQuoted(dst, raw []byte, t *token, mode Mode) []byte {
	if !mode.Has(NoBackslashEscapes) || !t.esc && !hasBackslash(raw) {
		return append(dst, raw...)
	}
	if t.kind == tNString {
		dst = append(dst, raw[0])
		raw = raw[1:]
	}
	dst = append(dst, '\'')
	for i := 1; i < len(raw)-1; i++ {
		switch c := raw[i]; {
		case c == t.q && raw[i+1] == t.q:
			i++
			dst = append(dst, '\\', c)
		case c == '\\' || c == '\'':
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '\'')
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// unquote appends the value of a quoted body (after its opening quote,
// with its closing quote) as the server reads it.
func unquote(dst, body []byte, q byte, backslash bool) []byte {
	body = body[:len(body)-1]
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && backslash && i+1 < len(body):
			i++
			switch e := body[i]; e {
			case '0':
				dst = append(dst, 0)
			case 'b':
				dst = append(dst, '\b')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'Z':
				dst = append(dst, 0x1a)
			case '%', '_': // kept for LIKE
				dst = append(dst, '\\', e)
			default:
				dst = append(dst, e)
			}
		case c == q && i+1 < len(body) && body[i+1] == q:
			i++
			dst = append(dst, q)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// ident writes a quoted identifier with backticks.
func (n *normalizer) ident(t *token) {
	n.sh.Text = appendBackquoted(n.sh.Text, n.l.src[t.start:t.end], t.q)
}

// appendBackquoted appends an identifier quoted with q as `x`.
func appendBackquoted(dst, raw []byte, q byte) []byte {
	if q == '`' {
		return append(dst, raw...)
	}
	dst = append(dst, '`')
	for i := 1; i < len(raw)-1; i++ {
		switch c := raw[i]; {
		case c == q && raw[i+1] == q:
			i++
			dst = append(dst, q)
		case c == '`':
			dst = append(dst, '`', '`')
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '`')
}

// userVar writes a user variable; vitess reads @'x' and @"x" otherwise
// than the server.
func (n *normalizer) userVar(t *token) bool {
	raw := n.l.src[t.start:t.end]
	switch {
	case t.q == '\'' || t.q == '"' && !n.l.mode.Has(AnsiQuotes), vitessVarTail(n.l.src, t),
		t.end == t.start+1: // vitess reads the byte after a bare @ as a name
		return false
	case t.q == '"':
		n.sh.Text = append(n.sh.Text, '@')
		n.sh.Text = appendBackquoted(n.sh.Text, raw[1:], '"')
	default:
		n.sh.Text = append(n.sh.Text, raw...)
	}
	return true
}
