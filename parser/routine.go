package parser

// routine reads a CREATE or ALTER statement: a stored procedure, function,
// trigger or event has a body that may be a compound statement.
func (s *splitter) routine(verb word) (int, bool, bool) {
	kind, ok := s.routineKind()
	switch {
	case !ok:
		return 0, false, false
	case kind == wNone || verb == wAlter && kind != wEvent:
		return s.simpleBody() // an END here would mean a body we did not see
	}
	var t token
	switch kind {
	case wProcedure:
		t, ok = s.procedureHeader()
	case wFunction:
		var udf bool
		t, udf, ok = s.functionHeader()
		if udf {
			return s.simpleBody()
		}
	case wTrigger:
		t, ok = s.triggerHeader()
	case wEvent:
		t, ok = s.eventHeader()
		if !ok && verb == wAlter { // ALTER EVENT without DO
			switch {
			case t.kind == tEOF:
				return t.start, false, true
			case t.kind == tSemicolon:
				return s.boundary(t)
			}
		}
	}
	if !ok || t.kind == tEOF || t.kind == tSemicolon || isWord(t, wEnd) {
		return 0, false, false
	}
	if t.kind == tWord && (t.w == wBegin || frameOf(t.w) != fNone) ||
		(t.kind == tWord || t.kind == tIdent) && isPunct(s.peek(), ':') {
		var b block
		if !s.stmtStart(&b, t) {
			return 0, false, false
		}
		return s.compound(&b)
	}
	return s.simpleBody()
}

// routineKind reads [OR REPLACE] [DEFINER = user] [AGGREGATE] and the
// object keyword after CREATE or ALTER: wProcedure, wFunction, wTrigger,
// wEvent, or wNone for other objects. It reports false for packages.
func (s *splitter) routineKind() (word, bool) {
	if isWord(s.peek(), wOr) {
		s.next()
		if !isWord(s.peek(), wReplace) {
			return wNone, true
		}
		s.next()
	}
	if isWord(s.peek(), wDefiner) {
		s.next()
		if !isPunct(s.peek(), '=') {
			return wNone, true
		}
		s.next()
		if u := s.peek(); u.kind != tWord && u.kind != tString && u.kind != tIdent {
			return wNone, true
		}
		s.next()
		switch p := s.peek(); {
		case p.kind == tUserVar: // 'user'@'host', user@host.example
			host := s.next()
			for p := s.peek(); p.start == host.end && p.kind != tEOF && p.kind != tSemicolon; p = s.peek() {
				host = s.next() // the server reads a host name with dots as one token
			}
		case isPunct(p, '('): // CURRENT_USER()
			s.next()
			if !isPunct(s.next(), ')') {
				return wNone, false
			}
		}
	}
	if isWord(s.peek(), wAggregate) {
		s.next()
	}
	switch p := s.peek(); {
	case p.kind != tWord:
	case p.w == wProcedure, p.w == wFunction, p.w == wTrigger, p.w == wEvent:
		s.next()
		return p.w, true
	case p.w == wPackage:
		return wNone, false
	}
	return wNone, true
}

// skipParens reads to the ')' that closes the '(' just read.
func (s *splitter) skipParens() bool {
	for depth := 1; depth > 0; {
		switch t := s.next(); {
		case t.kind == tEOF, t.kind == tSemicolon, isWord(t, wEnd):
			return false
		case isPunct(t, '('):
			depth++
		case isPunct(t, ')'):
			depth--
		}
	}
	return true
}

// name reads [IF NOT EXISTS] name[.name] and returns the token after it.
func (s *splitter) name() token {
	t := s.next()
	if isWord(t, wIf) {
		s.next() // NOT
		s.next() // EXISTS
		t = s.next()
	}
	if t.kind != tWord && t.kind != tIdent {
		return token{kind: tEOF}
	}
	if isPunct(s.peek(), '.') {
		s.next()
		s.next()
	}
	return s.next()
}

// procedureHeader reads a procedure's name, parameters and
// characteristics, and returns the first token of its body.
func (s *splitter) procedureHeader() (token, bool) {
	if !isPunct(s.name(), '(') || !s.skipParens() {
		return token{}, false
	}
	for {
		t := s.next()
		switch {
		case isWord(t, wComment):
			if s.next().kind != tString {
				return token{}, false
			}
		case t.kind == tWord && characteristic(t.w):
		default:
			return t, true
		}
	}
}

func characteristic(w word) bool {
	switch w {
	case wLanguage, wSQL, wNot, wDeterministic, wContains, wNo, wReads, wModifies, wData,
		wSecurity, wDefiner, wInvoker:
		return true
	}
	return false
}

// functionHeader reads a stored function's name, parameters, return type
// and characteristics, and returns the first token of its body; udf
// reports a loadable function (no parameter list), which has no body.
func (s *splitter) functionHeader() (t token, udf, ok bool) {
	if t := s.name(); !isPunct(t, '(') {
		return t, t.kind == tWord, t.kind == tWord
	}
	if !s.skipParens() || !isWord(s.next(), wReturns) {
		return token{}, false, false
	}
	prev := token{}
	for {
		t := s.next()
		switch {
		case t.kind == tEOF, t.kind == tSemicolon, isWord(t, wEnd):
			return t, false, false
		case isPunct(t, '('):
			if !s.skipParens() {
				return t, false, false
			}
		case t.kind == tWord && bodyStart(t.w) && !(t.w == wSet && (isWord(prev, wCharacter) || isPunct(s.peek(), '('))):
			return t, false, true
		case (t.kind == tWord || t.kind == tIdent) && isPunct(s.peek(), ':'):
			return t, false, true // a label
		}
		prev = t
	}
}

// bodyStart reports whether a routine body may start with w; none of
// these words belongs to a return type or a characteristic, except SET in
// CHARACTER SET and SET('a','b').
func bodyStart(w word) bool {
	switch w {
	case wBegin, wReturn, wIf, wCase, wLoop, wWhile, wRepeat, wFor, wSelect, wInsert,
		wUpdate, wDelete, wReplace, wCall, wDeclare, wDo, wSet, wWith, wValues, wLeave,
		wIterate, wOpen, wClose, wFetch, wSignal, wResignal, wGet:
		return true
	}
	return false
}

// triggerHeader reads to FOR EACH ROW [FOLLOWS|PRECEDES name] and returns
// the first token of the body.
func (s *splitter) triggerHeader() (token, bool) {
	for {
		t := s.next()
		switch {
		case t.kind == tEOF, t.kind == tSemicolon, isWord(t, wEnd):
			return t, false
		case isWord(t, wFor) && isWord(s.peek(), wEach):
			s.next()
			if !isWord(s.next(), wRow) {
				return t, false
			}
			if p := s.peek(); isWord(p, wFollows) || isWord(p, wPrecedes) {
				s.next()
				s.next()
			}
			return s.next(), true
		}
	}
}

// eventHeader reads to DO and returns the first token of the body; without
// a DO it returns the ';' or end that ended the statement.
func (s *splitter) eventHeader() (token, bool) {
	depth := 0
	for {
		t := s.next()
		switch {
		case t.kind == tEOF, t.kind == tSemicolon, isWord(t, wEnd):
			return t, false
		case isPunct(t, '('):
			depth++
		case isPunct(t, ')'):
			depth--
		case isWord(t, wDo) && depth == 0:
			return s.next(), true
		}
	}
}
