// Package topo maps keyspace ids to shards. Each shard owns one
// contiguous range of the 64-bit key space, named the way Vitess names
// them ("-80", "80-c0", "c0-": hexadecimal prefixes of the keyspace id,
// an empty side meaning the start or the end of the space). Splitting a
// shard replaces its range by two that cover it exactly, so no other
// shard's rows move.
//
// A Topology is immutable and safe to share; lookups are a binary search.
package topo
