package parser

// ForParse appends to dst sql rewritten so that vitess's sqlparser, which
// always reads backslash escapes and has no ANSI_QUOTES, reads it as the
// server reads the original under mode: under NoBackslashEscapes strings
// are written with backslash escapes; under AnsiQuotes "x" identifiers
// become `x`; executable comments the server runs become code and those
// it skips (such as /*!50700 ... */, which vitess would run) are dropped;
// a comment vitess would not see as one ("--" and a control character)
// becomes a space; N"x" becomes N "x". Leading white space and trailing
// semicolons and white space are dropped, as the server drops them.
// Anything else is copied as it is, so the result is sql itself when
// nothing needs rewriting.
//
// When vitess cannot be made to read the statement as the server does, or
// the server refuses it, ForParse appends nothing, so that parsing the
// result fails: an unterminated quote or comment, a NUL or other control
// byte outside strings, a reading that depends on the exact multi-byte
// character set or 10.11 release, || under PipesAsConcat, a prefix NOT
// under HighNotPrecedence.
func ForParse(dst, sql []byte, mode Mode) []byte {
	n0 := len(dst)
	lo, hi := trimQuery(sql)
	l := lexer{src: sql[:hi], pos: lo, mode: mode}
	prev := token{kind: tEOF, start: lo, end: lo}
	for {
		marks := l.execMarks
		t := *l.next()
		if l.bad || l.uncertain {
			return dst[:n0]
		}
		dst = appendGap(dst, sql[prev.end:t.start], l.execMarks != marks)
		if t.kind == tEOF {
			return dst
		}
		var ok bool
		if dst, ok = appendForParse(dst, sql, t, prev, mode); !ok {
			return dst[:n0]
		}
		prev = t
	}
}

// appendGap appends the white space and comments between two tokens, or
// a space when vitess would read them otherwise than the server.
func appendGap(dst, gap []byte, exec bool) []byte {
	if exec {
		return append(dst, ' ')
	}
	for i, c := range gap {
		switch {
		case c == '\v' || c == '\f',
			c == '-' && i+2 < len(gap) && gap[i+1] == '-' && gap[i+2] < ' ' &&
				gap[i+2] != '\t' && gap[i+2] != '\n' && gap[i+2] != '\r':
			return append(dst, ' ')
		case c == '-' && i+2 < len(gap) && gap[i+1] == '-' && gap[i+2] == 0x7f:
			return append(dst, ' ')
		}
	}
	return append(dst, gap...)
}

// appendForParse appends one token for vitess.
func appendForParse(dst, sql []byte, t, prev token, mode Mode) ([]byte, bool) {
	raw := sql[t.start:t.end]
	switch t.kind {
	case tString, tNString:
		if t.kind == tString && t.q == '"' && prev.kind == tWord && prev.end == t.start &&
			prev.end-prev.start == 1 && sql[prev.start]|0x20 == 'n' {
			dst = append(dst, ' ') // N"x" is N AS "x" to the server
		}
		return appendDefaultQuoted(dst, raw, &t, mode), true
	case tIdent:
		return appendBackquoted(dst, raw, t.q), true
	case tUserVar:
		switch {
		case t.q == '"' && mode.Has(AnsiQuotes):
			return appendBackquoted(append(dst, '@'), raw[1:], '"'), true
		case t.q == '\'' || t.q == '"':
			return appendDefaultQuoted(append(dst, '@'), raw[1:], &token{kind: tString, q: t.q, esc: t.esc}, mode), true
		}
	case tPunct:
		switch {
		case t.q == '-' && len(dst) > 0 && dst[len(dst)-1] == '-':
			dst = append(dst, ' ') // two minus signs, which vitess might read as a comment
		case t.q < ' ':
			return dst, false // the server refuses control bytes outside strings
		case t.q == '|' && t.end < len(sql) && sql[t.end] == '|' && mode.Has(PipesAsConcat):
			return dst, false
		}
	case tWord:
		if t.w == wNot && mode.Has(HighNotPrecedence) && !operand(prev) {
			return dst, false
		}
	}
	return append(dst, raw...), true
}
