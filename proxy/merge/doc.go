// Package merge combines the rows of a SELECT that ran on several shards
// into the result one server holding all the rows would return: a
// streaming k-way merge for ORDER BY, LIMIT and OFFSET applied globally,
// aggregates folded from per-shard partial results (COUNT, SUM, MIN, MAX,
// AVG from SUM and COUNT), GROUP BY, HAVING and DISTINCT.
//
// It is separate from the session code because it is pure: decoded text
// rows in, rows out, comparing values the way MariaDB does for the
// column's type and collation. Everything here is tested without a
// server; the proxy feeds it rows read from the shards' connections.
//
// What it cannot compare exactly (a collation it does not implement, a SET
// column as a sort key) is refused before any row is sent, with error
// 1235, never answered approximately.
package merge
