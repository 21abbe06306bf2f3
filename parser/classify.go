package parser

// Kind is the kind of a statement, from its leading keywords.
type Kind uint8

// Statement kinds.
const (
	KindOther Kind = iota
	KindSelect
	KindInsert
	KindUpdate
	KindDelete
	KindReplace
	KindSet
	KindSetTransaction // SET TRANSACTION ... (next transaction only)
	KindUse
	KindBegin // BEGIN, START TRANSACTION
	KindCommit
	KindRollback
	KindSavepoint // SAVEPOINT, RELEASE SAVEPOINT, ROLLBACK TO
	KindShow
	KindExplain // EXPLAIN, DESCRIBE, DESC
	KindDDL     // CREATE, ALTER, DROP, TRUNCATE, RENAME
	KindLock    // LOCK TABLES, UNLOCK TABLES, FLUSH ... WITH READ LOCK
	KindPrepare // PREPARE, EXECUTE, DEALLOCATE PREPARE (SQL-level statements)
	KindCall
	KindDo
	KindLoad
	KindKill
	KindHandler
	KindXA
	KindEmpty // nothing but white space and comments
)

var kindNames = [...]string{"other", "select", "insert", "update", "delete", "replace", "set",
	"set_transaction", "use", "begin", "commit", "rollback", "savepoint", "show", "explain",
	"ddl", "lock", "prepare", "call", "do", "load", "kill", "handler", "xa", "empty"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Flags are properties of a statement found anywhere in its text.
type Flags uint32

// Statement flags.
const (
	// FlagUserVar: a user variable (@name) is read or written.
	FlagUserVar Flags = 1 << iota
	// FlagLastInsertID: LAST_INSERT_ID(), @@identity or @@last_insert_id.
	FlagLastInsertID
	// FlagDiagnostics: reads what the previous statement left on the
	// connection: FOUND_ROWS(), ROW_COUNT(), SHOW WARNINGS/ERRORS,
	// @@warning_count, @@error_count.
	FlagDiagnostics
	// FlagCalcFoundRows: SQL_CALC_FOUND_ROWS.
	FlagCalcFoundRows
	// FlagLockFunc: GET_LOCK and the other named-lock functions.
	FlagLockFunc
	// FlagTemporary: the TEMPORARY keyword (temporary tables).
	FlagTemporary
	// FlagMulti: more than one statement.
	FlagMulti
	// FlagLockingRead: FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE.
	FlagLockingRead
	// FlagExecComment: a /*! or /*M! comment, whose content MySQL runs.
	FlagExecComment
	// FlagSysVar: a system variable (@@name) is read.
	FlagSysVar
	// FlagSideEffect: something a replica must not run for the primary:
	// sequence functions (NEXTVAL, SETVAL, LASTVAL, NEXT/PREVIOUS VALUE
	// FOR) and SELECT ... INTO OUTFILE/DUMPFILE.
	FlagSideEffect
	// Routing hints in a comment: /* courier:primary */,
	// /* courier:replica */, /* courier:consistency=causal|eventual|primary */.
	FlagHintPrimary
	FlagHintReplica
	FlagHintCausal
	FlagHintEventual
)

// Has reports whether all of want are set.
func (f Flags) Has(want Flags) bool { return f&want == want }

// Info is what Classify learns about a statement.
type Info struct {
	Kind  Kind
	Flags Flags
}

// Classify scans a query once and returns its kind and flags. It never
// fails: text it does not understand is KindOther, which the proxy treats
// conservatively.
func Classify(sql []byte) Info {
	var info Info
	s := scanner{src: sql}
	var words [3]word // the leading words of the current statement
	nwords := 0
	prev := word(0)
	statements := 0
	sawToken := false
	for {
		tok, w := s.next()
		switch tok {
		case tokEOF:
			if statements == 0 && !sawToken {
				info.Kind = KindEmpty
			} else if statements == 0 {
				info.Kind = kindOf(words[:nwords])
			}
			if s.execComment {
				info.Flags |= FlagExecComment
			}
			info.Flags |= s.hints
			return info
		case tokSemicolon:
			if sawToken {
				if statements == 0 {
					info.Kind = kindOf(words[:nwords])
				}
				statements++
				nwords = 0
				sawToken = false
			}
			continue
		case tokUserVar:
			info.Flags |= FlagUserVar
		case tokSysVar:
			info.Flags |= FlagSysVar
			switch w {
			case wIdentity, wLastInsertID:
				info.Flags |= FlagLastInsertID
			case wWarningCount, wErrorCount:
				info.Flags |= FlagDiagnostics
			}
		case tokWord:
			if nwords < len(words) {
				words[nwords] = w
				nwords++
			}
			switch w {
			case wLastInsertID:
				info.Flags |= FlagLastInsertID
			case wFoundRows, wRowCount:
				info.Flags |= FlagDiagnostics
			case wWarnings, wErrors:
				if nwords >= 2 && words[0] == wShow {
					info.Flags |= FlagDiagnostics
				}
			case wSQLCalcFoundRows:
				info.Flags |= FlagCalcFoundRows
			case wGetLock, wReleaseLock, wReleaseAllLocks, wIsUsedLock, wIsFreeLock:
				info.Flags |= FlagLockFunc
			case wTemporary:
				info.Flags |= FlagTemporary
			case wNextval, wSetval, wLastval, wOutfile, wDumpfile:
				info.Flags |= FlagSideEffect
			case wValue:
				if prev == wNext || prev == wPrevious {
					info.Flags |= FlagSideEffect
				}
			case wUpdate:
				if prev == wFor {
					info.Flags |= FlagLockingRead
				}
			case wShare:
				if prev == wFor || prev == wIn {
					info.Flags |= FlagLockingRead
				}
			}
		}
		if tok != tokSemicolon {
			if statements > 0 && !sawToken {
				info.Flags |= FlagMulti
			}
			sawToken = true
		}
		prev = w
	}
}

func kindOf(ws []word) Kind {
	if len(ws) == 0 {
		return KindOther
	}
	second := word(0)
	if len(ws) > 1 {
		second = ws[1]
	}
	switch ws[0] {
	case wSelect, wWith, wValues, wTable:
		return KindSelect
	case wInsert:
		return KindInsert
	case wUpdate:
		return KindUpdate
	case wDelete:
		return KindDelete
	case wReplace:
		return KindReplace
	case wSet:
		if second == wTransaction {
			return KindSetTransaction // next transaction only
		}
		return KindSet
	case wUse:
		return KindUse
	case wBegin:
		if second == wNotAtomic {
			return KindOther
		}
		return KindBegin
	case wStart:
		if second == wTransaction {
			return KindBegin
		}
	case wCommit:
		return KindCommit
	case wRollback:
		if second == wTo || (second == wWork && len(ws) > 2 && ws[2] == wTo) {
			return KindSavepoint
		}
		return KindRollback
	case wSavepoint, wRelease:
		return KindSavepoint
	case wShow:
		return KindShow
	case wExplain, wDescribe, wDesc:
		return KindExplain
	case wCreate, wAlter, wDrop, wTruncate, wRename:
		return KindDDL
	case wLock, wUnlock:
		return KindLock
	case wFlush:
		return KindLock
	case wPrepare, wExecute, wDeallocate:
		return KindPrepare
	case wCall:
		return KindCall
	case wDo:
		return KindDo
	case wLoad:
		return KindLoad
	case wKill:
		return KindKill
	case wHandler:
		return KindHandler
	case wXA:
		return KindXA
	}
	return KindOther
}
