// Package parser is Courier's thin layer over vitess's sqlparser.
//
// It answers the questions the proxy asks about every statement: what kind
// it is (Classify) and whether it leaves state on the backend connection
// that ran it (user variables, locks, temporary tables, diagnostics). The
// classification is a single allocation-free pass over the bytes of the
// query that understands quoting and comments but builds no tree: it runs
// for every query on the hot path. Statements whose effect the proxy must
// know exactly (SET, USE) are parsed in full with sqlparser.
//
// The package imports only the standard library and sqlparser, holds no
// mutable state, and is safe for concurrent use.
package parser
