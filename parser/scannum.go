package parser

// number scans a token that starts with a digit, or with "." and a digit,
// as MariaDB does: 0x1F and 0b101 are hex and bit literals, 12, 1.5 and
// 1e3 numbers; digits followed by other identifier characters make an
// identifier (tNumIdent), except that a float ends after its exponent
// (1e3x is 1e3 then x).
func (l *lexer) number(start int) {
	src := l.src
	p := start
	if src[p] == '0' && p+1 < len(src) && (src[p+1]|0x20 == 'x' || src[p+1]|0x20 == 'b') {
		digit, kind := isHexDigit, numHex
		if src[p+1]|0x20 == 'b' {
			digit, kind = isBinDigit, numBit
		}
		q := p + 2
		for q < len(src) && digit(src[q]) {
			q++
		}
		if q > p+2 && (q == len(src) || !isIdent(src[q])) {
			l.pos = q
			l.tok = token{kind: tNumber, num: kind, start: start, end: q}
			return
		}
		l.numIdent(start)
		return
	}
	if src[p] != '.' {
		for p < len(src) && isDigit(src[p]) {
			p++
		}
		if p < len(src) && isIdent(src[p]) {
			if end, ok := exponent(src, p); ok {
				l.pos = end
				l.tok = token{kind: tNumber, num: numFloat, start: start, end: end}
				return
			}
			l.numIdent(start)
			return
		}
		if p == len(src) || src[p] != '.' {
			l.pos = p
			l.tok = token{kind: tNumber, num: numInt, start: start, end: p}
			return
		}
	}
	p++ // '.'
	for p < len(src) && isDigit(src[p]) {
		p++
	}
	if p < len(src) && src[p]|0x20 == 'e' {
		end, ok := exponent(src, p)
		if !ok { // the server reads "1.5e" as an error
			l.pos = p
			l.tok = token{kind: tNumIdent, start: start, end: p}
			return
		}
		l.pos = end
		l.tok = token{kind: tNumber, num: numFloat, start: start, end: end}
		return
	}
	l.pos = p
	l.tok = token{kind: tNumber, num: numDecimal, start: start, end: p}
}

// exponent reads e[+-]digits at p and returns its end.
func exponent(src []byte, p int) (int, bool) {
	if p >= len(src) || src[p]|0x20 != 'e' {
		return 0, false
	}
	p++
	if p < len(src) && (src[p] == '+' || src[p] == '-') {
		p++
	}
	if p >= len(src) || !isDigit(src[p]) {
		return 0, false
	}
	for p < len(src) && isDigit(src[p]) {
		p++
	}
	return p, true
}

func (l *lexer) numIdent(start int) {
	l.pos = l.identRun(start)
	l.tok = token{kind: tNumIdent, start: start, end: l.pos}
}

// trimQuery returns the bounds of a COM_QUERY's text as the server reads
// it (alloc_query in sql_parse.cc): without leading white space, and
// without trailing white space and semicolons.
func trimQuery(sql []byte) (lo, hi int) {
	hi = len(sql)
	for lo < hi && isSpace(sql[lo]) {
		lo++
	}
	for hi > lo && (sql[hi-1] == ';' || isSpace(sql[hi-1])) {
		hi--
	}
	return lo, hi
}
