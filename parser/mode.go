package parser

import "strings"

// Mode is what of a session's sql_mode and character set changes how its
// statements are read: where strings and quoted identifiers end, and what
// a backslash means. Scanning, splitting, normalising and parsing all take
// the session's Mode, so that Courier reads a statement as the server
// will.
type Mode uint8

// Mode bits.
const (
	// NoBackslashEscapes: sql_mode NO_BACKSLASH_ESCAPES; a backslash in a
	// string is an ordinary character.
	NoBackslashEscapes Mode = 1 << iota
	// AnsiQuotes: sql_mode ANSI_QUOTES; "x" is an identifier, not a string.
	AnsiQuotes
	// MultibyteEscapes: the client character set has multi-byte
	// characters whose later bytes may be 0x5C (a backslash) or other
	// ASCII bytes (big5, cp932, gbk, gb18030, sjis): a lead byte and its
	// trail are one character, never an escape.
	MultibyteEscapes
	// PipesAsConcat: sql_mode PIPES_AS_CONCAT; || concatenates instead of
	// meaning OR.
	PipesAsConcat
	// HighNotPrecedence: sql_mode HIGH_NOT_PRECEDENCE; a prefix NOT binds
	// tighter than comparisons (NOT a BETWEEN b AND c is (NOT a) BETWEEN ...).
	HighNotPrecedence
	// Oracle: sql_mode ORACLE; the server reads PL/SQL-style blocks
	// (BEGIN ... END, DECLARE ... BEGIN ... END) with another grammar, which
	// Split and Normalize do not attempt.
	Oracle
)

// ModeOf reads the Mode from a session's sql_mode value and client
// character set name (as @@sql_mode and @@character_set_client report
// them; either may be empty for the server's default).
func ModeOf(sqlMode, charset string) Mode {
	var m Mode
	for _, f := range strings.Split(strings.ToUpper(strings.Trim(sqlMode, "'\"")), ",") {
		switch strings.TrimSpace(f) {
		case "NO_BACKSLASH_ESCAPES":
			m |= NoBackslashEscapes
		case "ANSI_QUOTES":
			m |= AnsiQuotes
		case "PIPES_AS_CONCAT":
			m |= PipesAsConcat
		case "HIGH_NOT_PRECEDENCE":
			m |= HighNotPrecedence
		case "ANSI", "DB2", "MAXDB", "MSSQL", "POSTGRESQL":
			m |= AnsiQuotes | PipesAsConcat // combination modes
		case "ORACLE":
			m |= AnsiQuotes | PipesAsConcat | Oracle
		}
	}
	switch strings.ToLower(strings.Trim(charset, "'\"")) {
	case "big5", "cp932", "gbk", "gb18030", "sjis":
		m |= MultibyteEscapes
	}
	return m
}

// Has reports whether all bits of want are set.
func (m Mode) Has(want Mode) bool { return m&want == want }
