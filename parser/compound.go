package parser

// frame is an open block of a compound statement.
type frame uint8

const (
	fNone     frame = iota
	fBegin          // BEGIN ... END
	fIf             // IF ... END IF
	fCase           // CASE statement ... END CASE
	fCaseExpr       // CASE expression ... END
	fLoop           // LOOP ... END LOOP
	fWhile          // WHILE ... DO ... END WHILE
	fRepeat         // REPEAT ... UNTIL ... END REPEAT
	fFor            // FOR ... DO ... END FOR
)

// block tracks the open blocks of a compound statement as the server's
// grammar nests them. Which words open and close blocks depends on where
// a statement of the body starts (stmt), so that IF() the function, END
// the column name and FOR UPDATE are not mistaken for block keywords.
type block struct {
	stack   [64]frame
	n       int
	stmt    bool  // the next token starts a statement of the body
	header  bool  // reading the condition of the top frame, up to THEN, DO or END REPEAT
	closed  uint8 // 1: a block just closed, a label may follow; 2: the label came
	depth   int   // parenthesis depth in the current statement
	handler uint8 // DECLARE ... HANDLER FOR: 1 DECLARE, 2 HANDLER, 3 a condition is next, 4 after one
	operand bool  // the previous token ends an operand
}

func (b *block) push(f frame) bool {
	if b.n == len(b.stack) {
		return false
	}
	b.stack[b.n] = f
	b.n++
	return true
}

func (b *block) top() frame {
	if b.n == 0 {
		return fNone
	}
	return b.stack[b.n-1]
}

func operand(t token) bool {
	switch t.kind {
	case tWord:
		return !valueBefore(t.w)
	case tPunct:
		return t.q == ')'
	}
	return true
}

// compound reads a compound statement to its end.
func (s *splitter) compound(b *block) (int, bool, bool) {
	for {
		t := s.next()
		switch {
		case t.kind == tEOF:
			return t.start, false, b.n == 0
		case t.kind == tSemicolon:
			if b.n == 0 {
				return s.boundary(t)
			}
			if b.stmt || b.depth != 0 || b.header || b.top() == fCaseExpr || b.handler >= 3 || s.l.inExec {
				return 0, false, false
			}
			b.stmt, b.closed, b.handler, b.operand = true, 0, 0, false
		case b.n == 0:
			if b.closed != 1 || t.kind != tWord && t.kind != tIdent {
				return 0, false, false // only a label may follow the last END
			}
			b.closed = 2
		case !s.step(b, t):
			return 0, false, false
		}
	}
}

// step reads one token of a compound statement's body.
func (s *splitter) step(b *block, t token) bool {
	if b.closed > 0 {
		if b.closed == 1 && (t.kind == tWord || t.kind == tIdent) {
			b.closed = 2 // END ... label
			return true
		}
		return false
	}
	if t.kind == tPunct && t.q == '(' {
		b.depth++
	} else if t.kind == tPunct && t.q == ')' {
		if b.depth--; b.depth < 0 {
			return false
		}
	}
	ok := true
	switch {
	case b.stmt:
		b.stmt = false
		ok = s.stmtStart(b, t)
	case b.handler >= 3:
		ok = s.handlerCondition(b, t)
	case t.kind == tWord:
		ok = s.bodyWord(b, t)
	}
	b.operand = operand(t)
	return ok
}

// stmtStart reads the first token of a statement of the body.
func (s *splitter) stmtStart(b *block, t token) bool {
	if t.kind == tIdent || t.kind == tWord && t.w == wNone {
		if isPunct(s.peek(), ':') { // a label
			s.next()
			b.stmt = true
		}
		return true
	}
	if t.kind != tWord {
		return true
	}
	top := b.top()
	switch t.w {
	case wBegin:
		if isWord(s.peek(), wNot) {
			s.next()
			if !isWord(s.next(), wAtomic) {
				return false
			}
		}
		b.stmt = true
		return b.push(fBegin)
	case wLoop, wRepeat:
		b.stmt = true
		return b.push(frameOf(t.w))
	case wIf, wCase, wWhile, wFor:
		b.header = true
		return b.push(frameOf(t.w))
	case wEnd:
		return s.end(b)
	case wWhen:
		b.header = true
		return top == fCase
	case wElseif:
		b.header = true
		return top == fIf
	case wUntil:
		b.header = true
		return top == fRepeat
	case wElse:
		b.stmt = true
		return top == fIf || top == fCase
	case wDeclare:
		b.handler = 1
	}
	return true
}

// bodyWord reads a word inside a statement of the body or a condition.
func (s *splitter) bodyWord(b *block, t token) bool {
	switch t.w {
	case wCase:
		return b.push(fCaseExpr)
	case wEnd:
		switch {
		case b.top() == fCaseExpr:
			if !b.operand {
				return false // "THEN end END": the first END may be a column
			}
			b.n--
		case b.header && b.top() == fRepeat:
			return s.end(b) // UNTIL ... END REPEAT
		}
		// Otherwise END is a name: MariaDB does not reserve it.
	case wThen:
		if b.header && b.depth == 0 && (b.top() == fIf || b.top() == fCase) {
			b.header, b.stmt = false, true
		}
	case wDo:
		if b.header && b.depth == 0 && (b.top() == fWhile || b.top() == fFor) {
			b.header, b.stmt = false, true
		}
	case wHandler:
		if b.handler == 1 {
			b.handler = 2
		}
	case wFor:
		if b.handler == 2 {
			b.handler = 3
		}
	}
	return true
}

// frameOf is the block a statement starting with w opens (and END w
// closes); fNone for other words.
func frameOf(w word) frame {
	switch w {
	case wIf:
		return fIf
	case wCase:
		return fCase
	case wLoop:
		return fLoop
	case wWhile:
		return fWhile
	case wRepeat:
		return fRepeat
	case wFor:
		return fFor
	}
	return fNone
}

// end closes the top block at an END in statement position.
func (s *splitter) end(b *block) bool {
	want := fBegin
	if p := s.peek(); p.kind == tWord && frameOf(p.w) != fNone {
		want = frameOf(p.w)
		s.next()
	}
	if b.top() != want {
		return false
	}
	b.n--
	b.header, b.closed = false, 1
	return true
}

// handlerCondition reads the conditions of DECLARE ... HANDLER FOR, after
// which the handler's statement starts.
func (s *splitter) handlerCondition(b *block, t token) bool {
	if b.handler == 4 {
		if isPunct(t, ',') {
			b.handler = 3
			return true
		}
		b.handler = 0
		return s.stmtStart(b, t)
	}
	switch {
	case isWord(t, wSQLState):
		if isWord(s.peek(), wValue) {
			s.next()
		}
		if s.next().kind != tString {
			return false
		}
	case isWord(t, wNot): // NOT FOUND
		if s.next().kind != tWord {
			return false
		}
	case t.kind != tWord && t.kind != tIdent && t.kind != tNumber:
		return false
	}
	b.handler = 4
	return true
}
