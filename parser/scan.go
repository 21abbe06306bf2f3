package parser

import "bytes"

// word is a keyword or function name the classifier recognises; 0 is any
// other identifier.
type word uint8

const (
	wNone word = iota
	wSelect
	wWith
	wValues
	wTable
	wInsert
	wUpdate
	wDelete
	wReplace
	wSet
	wTransaction
	wSession
	wGlobal
	wLocal
	wUse
	wBegin
	wNotAtomic
	wStart
	wCommit
	wRollback
	wTo
	wWork
	wSavepoint
	wRelease
	wShow
	wExplain
	wDescribe
	wDesc
	wCreate
	wAlter
	wDrop
	wTruncate
	wRename
	wLock
	wUnlock
	wFlush
	wPrepare
	wExecute
	wDeallocate
	wCall
	wDo
	wLoad
	wKill
	wHandler
	wXA
	wLastInsertID
	wIdentity
	wFoundRows
	wRowCount
	wWarnings
	wErrors
	wWarningCount
	wErrorCount
	wSQLCalcFoundRows
	wGetLock
	wReleaseLock
	wReleaseAllLocks
	wIsUsedLock
	wIsFreeLock
	wTemporary
	wFor
	wIn
	wShare
	wNextval
	wSetval
	wLastval
	wOutfile
	wDumpfile
	wNext
	wPrevious
	wValue
)

var words = map[string]word{
	"select": wSelect, "with": wWith, "values": wValues, "table": wTable,
	"insert": wInsert, "update": wUpdate, "delete": wDelete, "replace": wReplace,
	"set": wSet, "transaction": wTransaction, "session": wSession, "global": wGlobal,
	"local": wLocal, "use": wUse, "begin": wBegin, "not": wNotAtomic, "start": wStart,
	"commit": wCommit, "rollback": wRollback, "to": wTo, "work": wWork,
	"savepoint": wSavepoint, "release": wRelease, "show": wShow, "explain": wExplain,
	"describe": wDescribe, "desc": wDesc, "create": wCreate, "alter": wAlter,
	"drop": wDrop, "truncate": wTruncate, "rename": wRename, "lock": wLock,
	"unlock": wUnlock, "flush": wFlush, "prepare": wPrepare, "execute": wExecute,
	"deallocate": wDeallocate, "call": wCall, "do": wDo, "load": wLoad, "kill": wKill,
	"handler": wHandler, "xa": wXA, "last_insert_id": wLastInsertID,
	"identity": wIdentity, "found_rows": wFoundRows, "row_count": wRowCount,
	"warnings": wWarnings, "errors": wErrors, "warning_count": wWarningCount,
	"error_count": wErrorCount, "sql_calc_found_rows": wSQLCalcFoundRows,
	"get_lock": wGetLock, "release_lock": wReleaseLock,
	"release_all_locks": wReleaseAllLocks, "is_used_lock": wIsUsedLock,
	"is_free_lock": wIsFreeLock, "temporary": wTemporary, "for": wFor, "in": wIn,
	"share": wShare, "nextval": wNextval, "setval": wSetval, "lastval": wLastval,
	"outfile": wOutfile, "dumpfile": wDumpfile, "next": wNext, "previous": wPrevious, "value": wValue,
}

const longestWord = len("sql_calc_found_rows")

type token uint8

const (
	tokEOF token = iota
	tokWord
	tokUserVar
	tokSysVar
	tokSemicolon
	tokOther
)

// scanner splits SQL into the few token classes the classifier needs. It
// skips strings, quoted identifiers and comments, and scans the content of
// executable comments (/*! ... */, /*M! ... */) as code, as MySQL does.
type scanner struct {
	src         []byte
	pos         int
	execDepth   int // open executable comments
	execComment bool
	hints       Flags // routing hints found in comments
	lower       [longestWord]byte
}

func isIdent(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '$' || c >= 0x80
}

func (s *scanner) next() (token, word) {
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			s.pos++
		case c == '#':
			s.skipLine()
		case c == '-' && s.peek(1) == '-' && (s.pos+2 >= len(s.src) || s.src[s.pos+2] <= ' '):
			s.skipLine()
		case c == '/' && s.peek(1) == '*':
			s.comment()
		case c == '*' && s.peek(1) == '/' && s.execDepth > 0:
			s.execDepth--
			s.pos += 2
		case c == '\'' || c == '"' || c == '`':
			s.skipQuoted(c)
			return tokOther, wNone
		case c == ';':
			s.pos++
			return tokSemicolon, wNone
		case c == '@':
			return s.variable()
		case isIdent(c):
			if c >= '0' && c <= '9' {
				s.skipIdent()
				return tokOther, wNone
			}
			return tokWord, s.word()
		default:
			s.pos++
			return tokOther, wNone
		}
	}
	return tokEOF, wNone
}

func (s *scanner) peek(k int) byte {
	if s.pos+k < len(s.src) {
		return s.src[s.pos+k]
	}
	return 0
}

func (s *scanner) skipLine() {
	for s.pos < len(s.src) && s.src[s.pos] != '\n' {
		s.pos++
	}
}

func (s *scanner) comment() {
	// s.src[s.pos:] starts with "/*".
	if s.peek(2) == '!' || (s.peek(2) == 'M' && s.peek(3) == '!') {
		s.execComment = true
		s.execDepth++
		s.pos += 3
		if s.src[s.pos-1] == 'M' {
			s.pos++
		}
		for s.pos < len(s.src) && s.src[s.pos] >= '0' && s.src[s.pos] <= '9' {
			s.pos++ // version number
		}
		return
	}
	s.pos += 2
	start := s.pos
	for s.pos+1 < len(s.src) && !(s.src[s.pos] == '*' && s.src[s.pos+1] == '/') {
		s.pos++
	}
	s.hints |= hint(s.src[start:min(s.pos, len(s.src))])
	s.pos = min(s.pos+2, len(s.src))
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

func (s *scanner) skipQuoted(q byte) {
	s.pos++
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == '\\' && q != '`':
			s.pos += 2
		case c == q:
			if s.peek(1) == q { // doubled quote
				s.pos += 2
				continue
			}
			s.pos++
			return
		default:
			s.pos++
		}
	}
	s.pos = len(s.src)
}

func (s *scanner) skipIdent() {
	for s.pos < len(s.src) && isIdent(s.src[s.pos]) {
		s.pos++
	}
}

func (s *scanner) word() word {
	start := s.pos
	s.skipIdent()
	n := s.pos - start
	if n > longestWord {
		return wNone
	}
	for i := 0; i < n; i++ {
		c := s.src[start+i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		s.lower[i] = c
	}
	return words[string(s.lower[:n])]
}

func (s *scanner) variable() (token, word) {
	s.pos++ // '@'
	if s.peek(0) != '@' {
		if c := s.peek(0); c == '\'' || c == '"' || c == '`' {
			s.skipQuoted(c)
		} else {
			s.skipIdent()
		}
		return tokUserVar, wNone
	}
	s.pos++ // second '@'
	w := s.word()
	if (w == wSession || w == wGlobal || w == wLocal) && s.peek(0) == '.' {
		s.pos++
		w = s.word()
	}
	return tokSysVar, w
}
