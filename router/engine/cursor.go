package engine

import (
	"context"

	"github.com/courier-proxy/courier/parser"
)

// Cursor is how primitives touch the world: the proxy implements it for
// one session (its backend connections, transaction branches, read/write
// split and causal reads), tests with a recording fake. Primitives never
// see a connection; they name clusters and statement texts.
//
// A Cursor is used by one statement at a time. Methods that take several
// targets run them at once (a goroutine or an in-flight request per
// target) and return or stream their results in the targets' order.
type Cursor interface {
	// Exec runs a statement that returns no rows (a write, DDL) on every
	// target's primary, within the session's transaction when it has one,
	// and returns each target's outcome. The first error stops the ones
	// not started and is returned naming its cluster.
	Exec(ctx context.Context, targets []Target) ([]Result, error)
	// Stream runs a statement on every target and writes the results to w
	// as one result, as one server would answer it: a single target's
	// reply as it comes (rows or OK), several targets' rows one target
	// after another under the first target's column definitions. A read
	// (read=true) may go to a replica where the routing rules allow.
	Stream(ctx context.Context, targets []Target, read bool, w ResultWriter) error
	// Open runs a read on every target and returns one stream of decoded
	// text rows per target, in the targets' order, for primitives that
	// combine rows (merge, aggregate). Whatever a stream still holds when
	// the statement ends is drained or discarded by the cursor.
	Open(ctx context.Context, targets []Target) ([]RowStream, error)
	// Internal runs a statement of Courier's own (a global index read or
	// entry, a catalog read) on the primary of cluster, outside the
	// session's transaction and committed at once, and returns its rows
	// (nil for statements without rows).
	Internal(ctx context.Context, cluster int, sql string) ([]Row, error)
	// NextIDs reserves n consecutive ids of sequence seq and returns the
	// first.
	NextIDs(ctx context.Context, seq *Sequence, n int) (int64, error)
	// Session describes the session the statement runs for.
	Session() *Session
}

// Target is one cluster's part of a statement.
type Target struct {
	// Cluster is an index into the schema's clusters (Schema.Clusters).
	Cluster int
	// SQL is the text the cluster runs; "" runs the client's statement
	// as it came (its text, or its prepared execution with the client's
	// parameters), which the cursor relays without decoding.
	SQL string
}

// Result is what a statement without rows returned.
type Result struct {
	Affected uint64
	InsertID uint64
	Warnings uint16
}

// RowStream is one target's rows, read as they arrive.
type RowStream interface {
	// Fields are the result's column definitions.
	Fields() []Column
	// Next returns the next row, valid until the next call, or nil at
	// the end. A target's own error (an ERR packet) is returned as an
	// *sqlerr.Error carrying the server's code, state and message.
	Next() (Row, error)
	// Warnings is the warning count of the result, once Next returned nil.
	Warnings() uint16
}

// Sequence is a table of Courier's that hands out keys for INSERTs that
// leave them out: a one-row table on the default cluster.
type Sequence struct {
	// Table is the sequence table, qualified with its database when the
	// statement named one ("" database: the session's).
	DB, Table string
	// Source is the sharded table the keys are for, and Key its key
	// column: a new sequence starts after the largest key Source holds.
	Source, Key string
}

// Session is what primitives need to know of the session a statement runs
// for.
type Session struct {
	// Mode is how the session's server reads SQL; rendered statements
	// follow it.
	Mode parser.Mode
	// Charset is the client character set's name (character_set_client),
	// used to render strings safely under parser.MultibyteEscapes.
	Charset string
	// DB is the session's current database.
	DB string
	// MaxRows bounds the rows one statement may hold in the proxy while
	// combining results (groups, distinct values, sorted rows).
	MaxRows int
	// Budget bounds the bytes of rows all statements together hold in
	// the proxy; nil for no bound.
	Budget *RowBudget
	// GroupConcatMaxLen is the session's group_concat_max_len.
	GroupConcatMaxLen int
	// Statement is the client's statement as it came (the prepared
	// statement's text for an execution), for column names taken from it.
	Statement []byte
	// Held are the clusters where the session holds a connection (its
	// transaction's branches, a pinned connection): a statement any shard
	// can answer goes to one of them.
	Held []int
	// Stats is what the execution did, filled in by primitives, for
	// metrics.
	Stats Stats
}

// Stats describe one execution for metrics.
type Stats struct {
	// Route is how a statement on sharded tables found its shards: "key",
	// "lookup" (a global index) or "scatter"; "" for others.
	Route string
	// Shards is how many shards it reached.
	Shards int
	// Index is the global index read (table.column), LookupKeys the
	// sharding keys the read returned.
	Index      string
	LookupKeys int
}
