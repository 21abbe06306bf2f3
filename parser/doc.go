// Package parser reads client statements as the backend server will, so
// that Courier never routes, splits or plans a statement differently from
// how MariaDB runs it. It sits first in the pipeline: the proxy classifies
// every query here, splits multi-statement batches here, takes each
// statement's shape for the plan cache here, and hands the planner
// (package router) text that vitess's sqlparser reads correctly.
//
// Everything rests on one lexer (scan.go) that follows MariaDB 10.11's
// (sql_lex.cc) under a session's Mode (mode.go: NO_BACKSLASH_ESCAPES,
// ANSI_QUOTES, multi-byte client character sets, and the modes that change
// operators): where strings and quoted identifiers end; which comments are
// comments ("--" needs white space or a control character after it, "#"
// and "--" end at a newline or NUL); which executable comments run
// (/*!NNNNN and /*M!NNNNNN up to 10.11, except MySQL's 5.7-9.x versions
// without M!) and are read as code; and what it cannot be sure of (a
// backslash or backtick after a byte >= 0x80 under gbk/big5/sjis, whose
// meaning depends on the exact character set; a /*!1011xx comment, whose
// meaning depends on the exact release). It builds no tree and does not
// allocate.
//
//   - ClassifyMode (Classify under the default mode) returns a statement's
//     kind and the flags the router and session need (user variables,
//     locking reads, several statements...). It never fails; uncertainty
//     shows as FlagMulti, which sends the text to the primary.
//   - Split returns the statements of a multi-statement COM_QUERY where
//     the server's grammar ends them, compound statements (stored
//     routines, triggers, events, BEGIN NOT ATOMIC, IF, CASE, loops)
//     whole, and reports false whenever it cannot be certain.
//   - Shape.Normalize replaces a DML statement's values by ? so that text
//     and prepared executions of one shape share a cached plan, and
//     reports false whenever vitess might read the shape otherwise than
//     the server reads the statement.
//   - ForParse rewrites a statement into the quoting vitess understands.
//   - Parser parses SET and USE in full with sqlparser.
//
// The package imports only the standard library and vitess (sqlparser,
// sqltypes) and holds no mutable state: its functions are safe for
// concurrent use; a Shape is a reusable buffer for one goroutine.
//
// The tests check the readings against the real server:
// FuzzSplitServer runs generated batches under each quoting mode on a
// MariaDB and compares what it ran with Split's and ClassifyMode's
// verdicts; FuzzNormalize checks that shapes read as their statements.
package parser
