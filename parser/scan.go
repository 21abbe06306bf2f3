package parser

import "bytes"

// tokKind is the lexical class of a token.
type tokKind uint8

const (
	tEOF       tokKind = iota
	tWord              // unquoted identifier or keyword
	tIdent             // quoted identifier: `x`, or "x" under AnsiQuotes
	tString            // '...', or "..." without AnsiQuotes
	tNString           // N'...'
	tHexString         // X'...'
	tBitString         // B'...'
	tNumber            // numeric literal; num says which kind
	tNumIdent          // starts with a digit but is no number: an identifier, or malformed
	tUserVar           // @name, @'name', @`name`
	tSysVar            // @@name, @@session.name
	tParam             // ?
	tSemicolon
	tPunct // any other byte: operators, parentheses
)

type numKind uint8

const (
	numInt numKind = iota
	numDecimal
	numFloat
	numHex // 0x41
	numBit // 0b01
)

// token is one token of a statement: src[start:end].
type token struct {
	start, end int
	kind       tokKind
	num        numKind
	esc        bool // quoted: the content differs from the raw bytes (escapes, doubled quotes)
	q          byte // quoted (and quoted variables): the quote; tPunct: the byte
	w          word
}

// MariaDB 10.11 releases have MYSQL_VERSION_ID 101100 to 101199; an
// executable comment /*!NNNNNN runs when its version is at most the
// server's.
const (
	serverVersionMin = 101100
	serverVersionMax = 101199
)

// lexer reads tokens as MariaDB 10.11's lexer (sql_lex.cc) does under a
// Mode: it skips white space and comments, scans the content of running
// executable comments as code, and records what it cannot be sure of. It
// does not allocate.
type lexer struct {
	src       []byte
	pos       int
	mode      Mode
	inExec    bool // inside a running executable comment
	gap       bool // white space or a comment came before the last token
	comments  bool // a comment was seen
	exec      bool // an executable comment was seen
	execMarks int  // executable comments entered, left or skipped
	bad       bool // an unterminated quote or comment, or a literal the server refuses
	uncertain bool // the server's reading depends on what Mode does not say
	hints     Flags
	lastKind  tokKind
	lastEnd   int
	tok       token // the token being read
}

func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }

func isBinDigit(c byte) bool { return c == '0' || c == '1' }

func isIdent(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '$' || c >= 0x80
}

func (l *lexer) peek(k int) byte {
	if l.pos+k < len(l.src) {
		return l.src[l.pos+k]
	}
	return 0
}

// Byte classes for next's dispatch.
const (
	cOther   uint8 = iota // a one-byte token
	cSpace                // white space
	cIdent                // starts a word
	cSpecial              // needs a closer look: quotes, digits, comments, @ . ; ?
)

var byteClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch b := byte(c); {
		case isSpace(b):
			t[c] = cSpace
		case isDigit(b):
			t[c] = cSpecial
		case isIdent(b):
			t[c] = cIdent
		}
	}
	for _, b := range []byte("'\"`@.;?#-/*") {
		t[b] = cSpecial
	}
	return t
}()

// next reads the next token, a tEOF at the end. The token is l.tok, which
// the next call overwrites.
func (l *lexer) next() *token {
	l.gap = false
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch byteClass[c] {
		case cSpace:
			l.pos++
			l.gap = true
			continue
		case cIdent:
			l.word(l.pos)
		case cOther:
			l.tok = token{kind: tPunct, q: c, start: l.pos, end: l.pos + 1}
			l.pos++
		default:
			if !l.special(c) {
				continue
			}
		}
		l.lastKind, l.lastEnd = l.tok.kind, l.tok.end
		return &l.tok
	}
	if l.inExec {
		l.bad = true // the server refuses an unterminated executable comment
	}
	l.tok = token{kind: tEOF, start: l.pos, end: l.pos}
	return &l.tok
}

// special reads a comment (reporting false) or a token that starts with a
// quote, a digit or one of @ . ; ? # - / *.
func (l *lexer) special(c byte) bool {
	start := l.pos
	switch {
	case c == '#':
		l.lineComment()
		return false
	case c == '-' && l.peek(1) == '-' && (l.pos+2 >= len(l.src) || l.src[l.pos+2] <= ' ' || l.src[l.pos+2] == 0x7f):
		l.lineComment() // "--" and white space or a control character
		return false
	case c == '/' && l.peek(1) == '*':
		l.blockComment()
		return false
	case c == '*' && l.peek(1) == '/' && l.inExec:
		l.inExec = false
		l.pos += 2
		l.gap = true
		l.execMarks++
		return false
	case c == '\'':
		l.quoted(start, c, tString)
	case c == '"' && l.mode.Has(AnsiQuotes), c == '`':
		l.quoted(start, c, tIdent)
	case c == '"':
		l.quoted(start, c, tString)
	case c == '@':
		l.variable(start)
	case isDigit(c):
		l.number(start)
	case c == '.' && isDigit(l.peek(1)) && !(l.lastEnd == start && (l.lastKind == tWord || l.lastKind == tIdent)):
		l.number(start) // after an identifier, "." separates a qualified name
	default:
		l.pos++
		kind := tPunct
		switch c {
		case ';':
			kind = tSemicolon
		case '?':
			kind = tParam
		}
		l.tok = token{kind: kind, q: c, start: start, end: l.pos}
	}
	return true
}

func (l *lexer) lineComment() {
	l.gap, l.comments = true, true
	for l.pos < len(l.src) && l.src[l.pos] != '\n' && l.src[l.pos] != 0 {
		l.pos++ // the server also ends a line comment at a NUL byte
	}
}

// blockComment skips a /* */ comment, or enters a running executable
// comment, or skips one the server does not run.
func (l *lexer) blockComment() {
	l.gap, l.comments = true, true
	p := l.pos + 2
	mariadb := false
	switch {
	case l.peek(2) == '!':
		p++
	case l.peek(2) == 'M' && l.peek(3) == '!':
		p += 2
		mariadb = true
	default:
		end := bytes.Index(l.src[p:], []byte("*/"))
		if end < 0 {
			l.bad = true
			l.pos = len(l.src)
			return
		}
		l.hints |= hint(l.src[p : p+end])
		l.pos = p + end + 2
		return
	}
	l.exec = true
	l.execMarks++
	n := 0
	for n < 6 && p+n < len(l.src) && isDigit(l.src[p+n]) {
		n++
	}
	if n < 5 { // not a version: the digits are code
		l.pos, l.inExec = p, true
		return
	}
	v := 0
	for _, d := range l.src[p : p+n] {
		v = v*10 + int(d-'0')
	}
	run, sure := execRuns(v, mariadb)
	if !sure {
		l.uncertain = true
	}
	if run {
		l.pos, l.inExec = p+n, true
		return
	}
	end, ok := skipComment(l.src, p, 1)
	l.pos = end
	if !ok {
		l.bad = true
	}
}

// execRuns reports whether MariaDB 10.11 runs an executable comment of
// version v, and whether every 10.11 release agrees. Without M!, MySQL
// versions 5.7 to 9.x (50700-99999) are skipped.
func execRuns(v int, mariadb bool) (run, sure bool) {
	switch {
	case !mariadb && v >= 50700 && v <= 99999:
		return false, true
	case v <= serverVersionMin:
		return true, true
	case v > serverVersionMax:
		return false, true
	}
	return true, false
}

// skipComment skips a comment body from p to just after its "*/",
// allowing nest levels of nested /* */ as the server's consume_comment
// does; it reports false when the comment does not end.
func skipComment(src []byte, p, nest int) (int, bool) {
	for p < len(src) {
		c := src[p]
		p++
		if nest > 0 && c == '/' && p < len(src) && src[p] == '*' {
			p, _ = skipComment(src, p+1, nest-1) // the server ignores whether it ended
			continue
		}
		if c == '*' && p < len(src) && src[p] == '/' {
			return p + 1, true
		}
	}
	return p, false
}

// hint reads a routing hint from a comment's content.
func hint(c []byte) Flags {
	c = bytes.TrimSpace(c)
	rest, ok := bytes.CutPrefix(c, []byte("courier:"))
	if !ok {
		return 0
	}
	switch string(bytes.TrimSpace(rest)) {
	case "primary", "consistency=primary":
		return FlagHintPrimary
	case "replica":
		return FlagHintReplica
	case "consistency=causal":
		return FlagHintCausal
	case "consistency=eventual":
		return FlagHintEventual
	}
	return 0
}

// quoted scans a string or quoted identifier starting at its quote p.
// Under MultibyteEscapes a backslash or backtick right after a byte >=
// 0x80 may be the trail byte of a character (gbk, big5, sjis...): which,
// depends on the exact character set, so the reading is uncertain.
func (l *lexer) quoted(p int, q byte, kind tokKind) {
	start := p
	backslash := kind != tIdent && !l.mode.Has(NoBackslashEscapes)
	mb := l.mode.Has(MultibyteEscapes)
	esc := false
	// The next quote, backslash and NUL from p on: found with IndexByte,
	// so that long strings are skipped at memory speed, and looked for
	// again only once passed (linear however many escapes a string has).
	nq, nb, nz := -1, -1, -1
	for p++; p < len(l.src); {
		switch c := l.src[p]; {
		case c == q:
			if mb && q == '`' && l.src[p-1] >= 0x80 {
				l.uncertain = true
			}
			if p+1 < len(l.src) && l.src[p+1] == q {
				esc = true
				p += 2
				continue
			}
			l.pos = p + 1
			l.tok = token{kind: kind, q: q, esc: esc, start: start, end: p + 1}
			return
		case c == '\\' && backslash:
			if mb && l.src[p-1] >= 0x80 {
				l.uncertain = true
			}
			esc = true
			p += 2
		case c == 0 && kind == tIdent:
			l.bad = true // the server refuses a NUL in a quoted identifier
			p++
		default:
			if nq < p {
				nq = indexFrom(l.src, p, q)
			}
			stop := nq
			if backslash {
				if nb < p {
					nb = indexFrom(l.src, p, '\\')
				}
				stop = min(stop, nb)
			}
			if kind == tIdent {
				if nz < p {
					nz = indexFrom(l.src, p, 0)
				}
				stop = min(stop, nz)
			}
			p = max(stop, p+1)
		}
	}
	l.bad = true
	l.pos = len(l.src)
	l.tok = token{kind: kind, q: q, esc: esc, start: start, end: len(l.src)}
}

// indexFrom is the index of the first c in b at or after from, or len(b).
func indexFrom(b []byte, from int, c byte) int {
	if i := bytes.IndexByte(b[from:], c); i >= 0 {
		return from + i
	}
	return len(b)
}

// identRun returns the end of the identifier characters from p. Under
// MultibyteEscapes, a byte >= 0x80 followed by an ASCII byte that could be
// its trail byte (0x40-0x7E) makes the identifier's end uncertain.
func (l *lexer) identRun(p int) int {
	for p < len(l.src) && isIdent(l.src[p]) {
		p++
	}
	if l.mode.Has(MultibyteEscapes) && p > 0 && l.src[p-1] >= 0x80 && p < len(l.src) &&
		l.src[p] >= 0x40 && l.src[p] <= 0x7e {
		l.uncertain = true
	}
	return p
}

func (l *lexer) word(start int) {
	p := l.identRun(start)
	if p == start+1 && p < len(l.src) && l.src[p] == '\'' {
		switch l.src[start] | 0x20 {
		case 'n':
			l.quoted(p, '\'', tNString)
			l.tok.start = start
			return
		case 'x':
			l.digitString(start, isHexDigit, tHexString)
			return
		case 'b':
			l.digitString(start, isBinDigit, tBitString)
			return
		}
	}
	l.pos = p
	l.tok = token{kind: tWord, w: lookup(l.src[start:p]), start: start, end: p}
}

// digitString scans X'...' or B'...', which hold only digits.
func (l *lexer) digitString(start int, digit func(byte) bool, kind tokKind) {
	p := start + 2
	for p < len(l.src) && digit(l.src[p]) {
		p++
	}
	if p == len(l.src) || l.src[p] != '\'' {
		l.bad = true // the server refuses the statement
		l.pos = min(p+1, len(l.src))
	} else {
		l.pos = p + 1
	}
	l.tok = token{kind: kind, start: start, end: l.pos}
}

func (l *lexer) variable(start int) {
	p := start + 1
	if p < len(l.src) && l.src[p] == '@' {
		p++
		end := l.identRun(p)
		w := lookup(l.src[p:end])
		if (w == wSession || w == wGlobal || w == wLocal) && end < len(l.src) && l.src[end] == '.' {
			p = end + 1
			end = l.identRun(p)
			w = lookup(l.src[p:end])
		}
		l.pos = end
		l.tok = token{kind: tSysVar, w: w, start: start, end: end}
		return
	}
	if p < len(l.src) {
		switch c := l.src[p]; c {
		case '\'', '"', '`':
			kind := tString
			if c == '`' || c == '"' && l.mode.Has(AnsiQuotes) {
				kind = tIdent
			}
			l.quoted(p, c, kind)
			l.tok.kind, l.tok.start = tUserVar, start
			return
		}
	}
	l.pos = l.identRun(p)
	l.tok = token{kind: tUserVar, start: start, end: l.pos}
}
