package parser

// word is a keyword or function name the scanner recognises; wNone is any
// other identifier.
type word uint8

const (
	wNone word = iota
	// Statement kinds and session state (Classify).
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
	wNot
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
	// Compound statements (Split).
	wAtomic
	wEnd
	wIf
	wCase
	wLoop
	wWhile
	wRepeat
	wWhen
	wThen
	wElse
	wElseif
	wUntil
	wDeclare
	wProcedure
	wFunction
	wTrigger
	wEvent
	wPackage
	wReturns
	wEach
	wRow
	wFollows
	wPrecedes
	wSQLState
	wComment
	wLanguage
	wSQL
	wDeterministic
	wContains
	wNo
	wReads
	wModifies
	wData
	wSecurity
	wDefiner
	wInvoker
	wCharacter
	wReturn
	wLeave
	wIterate
	wOpen
	wClose
	wFetch
	wSignal
	wResignal
	wGet
	wAggregate
	wExists
	// Value positions (Normalize).
	wWhere
	wAnd
	wOr
	wXor
	wOn
	wLike
	wRegexp
	wRlike
	wBetween
	wInterval
	wDiv
	wMod
	wLimit
	wOffset
	wHaving
	wDistinct
	wAll
	wBinary
	wOrder
	wGroup
	wBy
	wPartition
	wUnion
	wExcept
	wIntersect
	wInto
	wWindow
	wTypeParen // a type or function whose parenthesised numbers are not values
	wRefused   // a construct Normalize does not rewrite
)

var words = map[string]word{
	"select": wSelect, "with": wWith, "values": wValues, "table": wTable,
	"insert": wInsert, "update": wUpdate, "delete": wDelete, "replace": wReplace,
	"set": wSet, "transaction": wTransaction, "session": wSession, "global": wGlobal,
	"local": wLocal, "use": wUse, "begin": wBegin, "not": wNot, "start": wStart,
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
	"outfile": wOutfile, "dumpfile": wDumpfile, "next": wNext, "previous": wPrevious,
	"value": wValue,

	"atomic": wAtomic, "end": wEnd, "if": wIf, "case": wCase, "loop": wLoop,
	"while": wWhile, "repeat": wRepeat, "when": wWhen, "then": wThen, "else": wElse,
	"elseif": wElseif, "until": wUntil, "declare": wDeclare, "procedure": wProcedure,
	"function": wFunction, "trigger": wTrigger, "event": wEvent, "package": wPackage,
	"returns": wReturns, "each": wEach, "row": wRow, "follows": wFollows,
	"precedes": wPrecedes, "sqlstate": wSQLState, "comment": wComment,
	"language": wLanguage, "sql": wSQL, "deterministic": wDeterministic,
	"contains": wContains, "no": wNo, "reads": wReads, "modifies": wModifies,
	"data": wData, "security": wSecurity, "definer": wDefiner, "invoker": wInvoker,
	"character": wCharacter, "return": wReturn, "leave": wLeave, "iterate": wIterate,
	"open": wOpen, "close": wClose, "fetch": wFetch, "signal": wSignal,
	"resignal": wResignal, "get": wGet, "aggregate": wAggregate, "exists": wExists,

	"where": wWhere, "and": wAnd, "or": wOr, "xor": wXor, "on": wOn, "like": wLike,
	"regexp": wRegexp, "rlike": wRlike, "between": wBetween, "interval": wInterval,
	"div": wDiv, "mod": wMod, "limit": wLimit, "offset": wOffset, "having": wHaving,
	"distinct": wDistinct, "all": wAll, "binary": wBinary, "order": wOrder,
	"group": wGroup, "by": wBy, "partition": wPartition, "union": wUnion,
	"except": wExcept, "intersect": wIntersect, "into": wInto, "window": wWindow,

	// Types, whose (n) or (m,d) are widths, and functions whose argument
	// must be a literal fractional-seconds precision.
	"char": wTypeParen, "varchar": wTypeParen, "nchar": wTypeParen,
	"nvarchar": wTypeParen, "varbinary": wTypeParen, "decimal": wTypeParen,
	"dec": wTypeParen, "numeric": wTypeParen, "fixed": wTypeParen, "float": wTypeParen,
	"double": wTypeParen, "real": wTypeParen, "datetime": wTypeParen, "time": wTypeParen,
	"timestamp": wTypeParen, "date": wTypeParen, "year": wTypeParen, "int": wTypeParen,
	"integer": wTypeParen, "tinyint": wTypeParen, "smallint": wTypeParen,
	"mediumint": wTypeParen, "bigint": wTypeParen, "bit": wTypeParen, "text": wTypeParen,
	"blob": wTypeParen, "now": wTypeParen, "current_timestamp": wTypeParen,
	"current_time": wTypeParen, "curtime": wTypeParen, "sysdate": wTypeParen,
	"utc_time": wTypeParen, "utc_timestamp": wTypeParen, "localtime": wTypeParen,
	"localtimestamp": wTypeParen,

	// Literal-only arguments and clauses Normalize leaves to the planner.
	"json_table": wRefused, "weight_string": wRefused, "analyse": wRefused,
	"preceding": wRefused, "following": wRefused,
}

const longestWord = len("sql_calc_found_rows")

// wordTable is words as an open-addressed hash table, which lookup
// reads without lowering the name into a buffer or hashing it twice.
var wordTable = func() (t [1024]struct {
	name string
	w    word
}) {
	for name, w := range words {
		i := wordHash([]byte(name))
		for t[i].name != "" {
			i = (i + 1) % uint32(len(t))
		}
		t[i].name, t[i].w = name, w
	}
	return t
}()

// wordHash hashes a name case-insensitively into wordTable.
func wordHash(b []byte) uint32 {
	h := uint32(len(b))
	for _, c := range b {
		h = h*31 + uint32(c|0x20)
	}
	return (h * 2654435761) >> 22
}

// lookup returns the word spelt b in any case, or wNone.
func lookup(b []byte) word {
	if len(b) > longestWord {
		return wNone
	}
	for i := wordHash(b); ; i = (i + 1) % uint32(len(wordTable)) {
		e := &wordTable[i]
		if e.name == "" {
			return wNone
		}
		if len(e.name) == len(b) && equalFold(b, e.name) {
			return e.w
		}
	}
}

// equalFold reports whether b is name (lower case) in any case.
func equalFold(b []byte, name string) bool {
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// valueBefore reports whether a literal after w is a value (w is an
// operator-like keyword after which an expression starts).
func valueBefore(w word) bool {
	switch w {
	case wSelect, wWhere, wAnd, wOr, wXor, wNot, wOn, wValues, wValue, wLike, wRegexp,
		wRlike, wBetween, wWhen, wThen, wElse, wCase, wInterval, wDiv, wMod, wLimit,
		wOffset, wHaving, wDistinct, wAll, wBinary:
		return true
	}
	return false
}

// endsOrderBy reports whether w ends an ORDER BY or GROUP BY list at its
// own parenthesis depth.
func endsOrderBy(w word) bool {
	switch w {
	case wLimit, wHaving, wWindow, wUnion, wExcept, wIntersect, wInto, wFor, wLock,
		wOffset, wFetch, wSelect, wWhere, wOn, wSet, wValues:
		return true
	}
	return false
}
