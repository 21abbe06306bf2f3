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

// String returns the kind's name.
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

// Classify is ClassifyMode under the default mode.
func Classify(sql []byte) Info { return ClassifyMode(sql, 0) }

// ClassifyMode scans a query once, reading quotes, escapes and comments as
// the server does under mode, and returns its kind and flags. It never
// fails: text it does not understand is KindOther, which the proxy treats
// conservatively, and text whose statement boundaries depend on what mode
// does not say (the exact multi-byte character set, the exact 10.11
// release for a /*!1011xx comment) gets FlagMulti.
func ClassifyMode(sql []byte, mode Mode) Info {
	lo, hi := trimQuery(sql)
	l := lexer{src: sql[:hi], pos: lo, mode: mode}
	var c classifier
	for {
		t := l.next()
		if t.kind == tEOF {
			break
		}
		c.add(t, mode)
	}
	info := c.info
	switch {
	case c.statements == 0 && !c.sawToken:
		info.Kind = KindEmpty
	case c.statements == 0:
		info.Kind = c.kind(mode)
	}
	if l.exec {
		info.Flags |= FlagExecComment
	}
	if l.uncertain {
		info.Flags |= FlagMulti
	}
	info.Flags |= l.hints
	return info
}

// classifier accumulates what the tokens of a query say.
type classifier struct {
	info       Info
	words      [3]word // the leading words of the current statement
	nwords     int
	ntokens    int // tokens of the current statement
	prev       word
	statements int
	sawToken   bool
}

func (c *classifier) kind(mode Mode) Kind {
	k := kindOf(c.words[:c.nwords])
	if k == KindBegin && mode.Has(Oracle) && c.ntokens > 1 && c.words[1] != wWork {
		return KindOther // under sql_mode=ORACLE, BEGIN ... END is a block
	}
	return k
}

func (c *classifier) add(t *token, mode Mode) {
	if t.kind == tSemicolon {
		if c.sawToken {
			if c.statements == 0 {
				c.info.Kind = c.kind(mode)
			}
			c.statements++
			c.nwords, c.ntokens = 0, 0
			c.sawToken = false
		}
		return
	}
	if c.statements > 0 && !c.sawToken {
		c.info.Flags |= FlagMulti
	}
	c.sawToken = true
	c.ntokens++
	w := t.w
	switch t.kind {
	case tUserVar:
		c.info.Flags |= FlagUserVar
	case tSysVar:
		c.info.Flags |= FlagSysVar
		switch w {
		case wIdentity, wLastInsertID:
			c.info.Flags |= FlagLastInsertID
		case wWarningCount, wErrorCount:
			c.info.Flags |= FlagDiagnostics
		}
		w = wNone
	case tWord:
		if c.nwords < len(c.words) {
			c.words[c.nwords] = w
			c.nwords++
		}
		c.info.Flags |= c.wordFlags(w)
	}
	c.prev = w
}

func (c *classifier) wordFlags(w word) Flags {
	switch w {
	case wLastInsertID:
		return FlagLastInsertID
	case wFoundRows, wRowCount:
		return FlagDiagnostics
	case wWarnings, wErrors:
		if c.nwords >= 2 && c.words[0] == wShow {
			return FlagDiagnostics
		}
	case wSQLCalcFoundRows:
		return FlagCalcFoundRows
	case wGetLock, wReleaseLock, wReleaseAllLocks, wIsUsedLock, wIsFreeLock:
		return FlagLockFunc
	case wTemporary:
		return FlagTemporary
	case wNextval, wSetval, wLastval, wOutfile, wDumpfile:
		return FlagSideEffect
	case wValue:
		if c.prev == wNext || c.prev == wPrevious {
			return FlagSideEffect
		}
	case wUpdate:
		if c.prev == wFor {
			return FlagLockingRead
		}
	case wShare:
		if c.prev == wFor || c.prev == wIn {
			return FlagLockingRead
		}
	}
	return 0
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
		if second == wNot { // BEGIN NOT ATOMIC
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
