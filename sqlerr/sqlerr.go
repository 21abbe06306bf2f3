package sqlerr

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// MySQL error numbers Courier produces itself.
const (
	ErrAccessDenied       = 1045 // 28000
	ErrDBAccessDenied     = 1044 // 42000
	ErrBadDB              = 1049 // 42000
	ErrTooManyConnections = 1040 // 08004
	ErrHandshake          = 1043 // 08S01
	ErrUnknownCommand     = 1047 // 08S01
	ErrNoDB               = 1046 // 3D000
	ErrParse              = 1064 // 42000
	ErrUnknown            = 1105 // HY000
	ErrNetPacketTooLarge  = 1153 // 08S01
	ErrNetReadError       = 1158 // 08S01
	ErrNotSupported       = 1235 // 42000
	ErrUnknownStmtHandler = 1243 // HY000
	ErrQueryInterrupted   = 1317 // 70100
	ErrTooManyStatements  = 1461 // 42000: max_prepared_stmt_count reached
	ErrMalformedPacket    = 1835 // HY000
	ErrBackendUnavailable = 2013 // HY000: lost connection / backend gone
	ErrCannotConnect      = 2003 // HY000: a backend cannot be reached
	ErrLockWaitTimeout    = 1205 // HY000
	ErrNoSuchTable        = 1146 // 42S02
	ErrTableDefChanged    = 1412 // HY000: a transaction's table changed under it
	ErrWrongArguments     = 1210 // HY000
	ErrUnknownSystemVar   = 1193 // HY000
	ErrWrongValueForVar   = 1231 // 42000
	ErrDupEntry           = 1062 // 23000
	ErrHostIsBlocked      = 1129 // HY000: too many failed logins from a client address
	ErrNetReadInterrupted = 1159 // 08S01: timeout reading a client's packet
	ErrUserIsBlocked      = 4150 // HY000: too many failed logins for a user (MariaDB)
	ErrUserLimitReached   = 1226 // 42000: a user's resource limit (rate, class concurrency)
	ErrReadOnly           = 1290 // HY000: the server runs with --read-only
)

// Error is a MySQL error with its number, SQLSTATE and message.
type Error struct {
	Num     uint16
	State   string
	Message string
	cause   error
}

// New returns an error with the given number; the SQLSTATE is the one MySQL
// uses for that number (HY000 when the number has no specific state).
// A message longer than MaxMessage bytes (the server's own bound) is cut
// there, so that no error echoes a long statement back.
func New(num uint16, format string, args ...any) *Error {
	return &Error{Num: num, State: StateOf(num), Message: clip(fmt.Sprintf(format, args...))}
}

// MaxMessage is the longest error message sent, in bytes (MySQL's
// MYSQL_ERRMSG_SIZE).
const MaxMessage = 512

func clip(m string) string {
	if len(m) <= MaxMessage {
		return m
	}
	cut := MaxMessage - len("...")
	for cut > 0 && !utf8.RuneStart(m[cut]) {
		cut--
	}
	return m[:cut] + "..."
}

// Wrap is New with an underlying cause kept for errors.Is/As and logs; the
// cause is not shown to the client.
func Wrap(cause error, num uint16, format string, args ...any) *Error {
	e := New(num, format, args...)
	e.cause = cause
	return e
}

// StateOf returns the SQLSTATE MySQL uses for num, from go-mysql's copy
// of the server's table (HY000 for numbers without a specific state).
func StateOf(num uint16) string {
	if s, ok := mysql.MySQLState[num]; ok {
		return s
	}
	return "HY000"
}

func (e *Error) Error() string {
	return fmt.Sprintf("ERROR %d (%s): %s", e.Num, e.State, e.Message)
}

// Unwrap returns the cause given to Wrap, if any.
func (e *Error) Unwrap() error { return e.cause }

// From returns err as an *Error. An uncoded error becomes 1105/HY000 and the
// second result is false so that the caller can log it as a bug.
func From(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return &Error{Num: ErrUnknown, State: "HY000", Message: clip(err.Error()), cause: err}, false
}

// NotSupported is the 1235 error for SQL that Courier cannot answer
// correctly; what names the construct and hint says what to do instead.
func NotSupported(what, hint string) *Error {
	if hint != "" {
		return New(ErrNotSupported, "Courier does not support %s; %s", what, hint)
	}
	return New(ErrNotSupported, "Courier does not support %s", what)
}
