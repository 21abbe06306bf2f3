// Package engine executes plans. A plan is a tree of primitives (one per
// file: route.go, merge_sort.go, aggregate.go, ...), built by the planner
// in package router and shared by every execution of a statement of the
// same shape; an execution gets its values in a Bind and runs the tree's
// root against a Cursor, writing the client's answer to a ResultWriter.
//
// Where it sits: parser (shape and values) → router (plan) → engine
// (execute) → the proxy's cursor, which owns the backend connections. The
// engine does no I/O of its own: everything it asks of the world goes
// through the Cursor's few methods (run statements on clusters, stream
// their rows, read Courier's own tables, take ids from a sequence), so
// every primitive is tested against a recording fake that asserts the
// exact statements each cluster receives.
//
// Rows that only pass through (a single shard's reply, several shards'
// rows one after another) are relayed by the cursor as the servers sent
// them. Primitives that combine rows (merge-sort, aggregate, distinct,
// limit) read decoded text rows from the cursor's streams and compare them
// as MariaDB compares values of the column's type and collation.
//
// Concurrency: primitives are immutable and safe to share; one execution
// runs on the goroutine of its session, and the cursor runs a statement's
// targets at once where it sends to several.
package engine
