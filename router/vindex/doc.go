// Package vindex holds Courier's sharding functions.
//
// A sharding function maps the value of a table's sharding key (order_id)
// to a keyspace id: a position in the 64-bit key space. It never names a
// shard. Shards own contiguous ranges of that space (package
// router/topo), so splitting a shard in two moves only its own rows and
// touches no routing code.
//
// The mapping is persistent data layout: changing it would silently move
// rows to shards that do not hold them. Golden vectors in the tests pin
// every function; a change that breaks them is a data migration, not a
// refactor.
//
// Functions are pure and safe for concurrent use. The package imports only
// the standard library and xxhash.
package vindex
