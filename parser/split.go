package parser

// Statement is one statement of a multi-statement query.
type Statement struct {
	// Text is the statement: a sub-slice of the query without its ';'
	// and without white space around it (comments are kept).
	Text []byte
	// Info is Text classified under the query's Mode; FlagMulti is never
	// set, even for a compound statement with semicolons inside.
	Info Info
}

// Split appends to dst the statements of a COM_QUERY in the order the
// server runs them, reading it under mode as MariaDB 10.11 does: the
// query loses its leading white space and its trailing white space and
// semicolons (so "SELECT 1;" is one statement), then each statement ends
// at a semicolon outside strings, quoted identifiers and comments and
// outside the body of a compound statement (CREATE PROCEDURE, FUNCTION,
// TRIGGER and EVENT, ALTER EVENT ... DO, BEGIN NOT ATOMIC ... END, and
// top-level IF, CASE, LOOP, WHILE, REPEAT and FOR), and the next one
// starts after white space.
//
// A statement with no tokens has Kind KindEmpty. The server answers it
// with 1064 (syntax error) and runs nothing after it when another
// statement follows; as the last statement (which then holds a comment,
// "SELECT 1; -- done") with an OK packet; and a query with no tokens at
// all with 1065 "Query was empty" (one KindEmpty statement with empty
// Text) unless it holds a comment (OK). Callers must run the statements
// in order and stop at the first error, as the server does.
//
// Split reports false, appending nothing, when it cannot know the
// boundaries for certain: an unterminated string, quoted identifier or
// comment; a semicolon inside an executable comment; an unbalanced or
// unfamiliar compound statement; a reading that depends on the exact
// multi-byte character set or 10.11 release; sql_mode ORACLE. The caller
// then refuses the query or sends it whole to the primary.
func Split(dst []Statement, sql []byte, mode Mode) ([]Statement, bool) {
	if mode.Has(Oracle) {
		return dst, false
	}
	n0 := len(dst)
	lo, hi := trimQuery(sql)
	s := splitter{l: lexer{src: sql[:hi], pos: lo, mode: mode}}
	start := lo
	for {
		end, more, ok := s.statement()
		if !ok || s.l.bad || s.l.uncertain {
			return dst[:n0], false
		}
		text := sql[start:end]
		for len(text) > 0 && isSpace(text[len(text)-1]) {
			text = text[:len(text)-1]
		}
		info := ClassifyMode(text, mode)
		info.Flags &^= FlagMulti
		dst = append(dst, Statement{Text: text, Info: info})
		if !more {
			return dst, true
		}
		start = s.l.pos
		for start < hi && isSpace(sql[start]) {
			start++
		}
		s.reset(start)
	}
}

// splitter reads statements with one token of look-ahead.
type splitter struct {
	l     lexer
	ahead token
	has   bool
	back  [3]token // the last three tokens read, the latest first
}

func (s *splitter) reset(pos int) {
	s.l.pos, s.l.inExec, s.has = pos, false, false // each statement gets a fresh lexer
	s.back = [3]token{}
}

func (s *splitter) next() token {
	t := s.ahead
	if s.has {
		s.has = false
	} else {
		t = *s.l.next()
	}
	s.back = [3]token{t, s.back[0], s.back[1]}
	return t
}

func (s *splitter) peek() token {
	if !s.has {
		s.ahead, s.has = *s.l.next(), true
	}
	return s.ahead
}

func isWord(t token, w word) bool { return t.kind == tWord && t.w == w }

func isPunct(t token, c byte) bool { return t.kind == tPunct && t.q == c }

// statement reads one statement and returns where it ends (its ';' or the
// end of the query) and whether another statement follows.
func (s *splitter) statement() (end int, more, ok bool) {
	t := s.next()
	switch {
	case t.kind == tEOF:
		return t.start, false, true
	case t.kind == tSemicolon:
		return s.boundary(t)
	case isWord(t, wBegin):
		if isWord(s.peek(), wNot) {
			s.next()
			if !isWord(s.next(), wAtomic) {
				return s.simple()
			}
			var b block
			b.push(fBegin)
			b.stmt = true
			return s.compound(&b)
		}
	case t.kind == tWord && (t.w == wIf || t.w == wCase || t.w == wLoop || t.w == wWhile ||
		t.w == wRepeat || t.w == wFor):
		var b block
		if !s.stmtStart(&b, t) {
			return 0, false, false
		}
		return s.compound(&b)
	case isWord(t, wCreate), isWord(t, wAlter):
		return s.routine(t.w)
	case isWord(t, wEnd):
		return 0, false, false // the tail of a compound statement we did not see begin
	}
	return s.simple()
}

// boundary ends a statement at the top-level semicolon t.
func (s *splitter) boundary(t token) (int, bool, bool) {
	if s.l.inExec {
		return 0, false, false // the server refuses the statement
	}
	if a, b := s.back[2], s.back[1]; isPunct(a, '-') && a.end == b.start && isPunct(b, '-') && b.end == t.start {
		return 0, false, false // "--;": alone, the statement would end in a comment
	}
	return t.start, true, true
}

// simple reads the rest of a statement without a compound body.
func (s *splitter) simple() (int, bool, bool) {
	for {
		switch t := s.next(); t.kind {
		case tEOF:
			return t.start, false, true
		case tSemicolon:
			return s.boundary(t)
		}
	}
}

// simpleBody reads a routine's body that is a single statement: an END
// that closes no CASE expression means it was compound after all.
func (s *splitter) simpleBody() (int, bool, bool) {
	cases := 0
	for {
		switch t := s.next(); {
		case t.kind == tEOF:
			return t.start, false, cases == 0
		case t.kind == tSemicolon:
			if cases != 0 {
				return 0, false, false
			}
			return s.boundary(t)
		case isWord(t, wCase):
			cases++
		case isWord(t, wEnd):
			if cases == 0 {
				return 0, false, false
			}
			cases--
		}
	}
}
