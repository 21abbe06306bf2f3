// Package backend holds Courier's connections to MariaDB/MySQL servers.
//
// A Conn is one authenticated client connection to one server instance. It
// remembers the session state that was applied to it (schema, session
// variables, multi-statement option) and the statements prepared on it, so
// that a proxy session can borrow any pooled Conn and bring it to its own
// state with the fewest round trips (Sync). A Pool holds the Conns of one
// instance: bounded open and idle counts, idle expiry, a wait bound when
// every connection is busy, and a health flag kept by a background checker.
//
// Ownership: a Conn is used by one goroutine at a time, the session that
// borrowed it; the Pool's methods are safe for concurrent use. The Pool's
// checker goroutine is owned by the Pool and stops on Close.
package backend
