// Package clients is the client matrix: the drivers and ORMs applications
// really use, run against Courier over two shards with replicas on the
// delivery schema and against one MariaDB holding the same data, scenario
// by scenario (connect with the client's defaults; create, read, update
// and delete by order_id; a read by user_id through the global index; a
// transaction of several statements by key; a multi-row insert; an
// aggregate across shards; an error, then the connection reused; the
// client's pool under concurrent workers). Each scenario writes a
// transcript of what the client saw, and the two transcripts must be the
// same. It is a package of its own because its tests need the ORMs as
// dependencies, which nothing else in Courier does; clients in other
// languages are scripts beside it (python/), run by its tests.
package clients
