// Package globalindex builds, checks and repairs global index tables, the
// lookup tables that map a secondary column of a sharded table (user_id of
// orders) to its sharding key (order_id), so that Courier can route
// WHERE user_id = ? to the shards that own the rows instead of all of them.
//
// Courier keeps an index current as it serves writes: it writes an entry
// before the row commits and removes it only after the row's delete
// commits, so a crash leaves orphan entries, never missing ones. This
// package handles what that cannot: indexing the rows that existed before
// the index (Backfill), checking an index against its table (Verify) and
// fixing it (Repair), all online, while Courier serves traffic. It is the
// engine of "courierctl index create|backfill|verify|repair".
//
// It sits outside the data path: it reads the configuration, builds the
// same router.Schema as the proxy, and talks to the primary of each
// cluster directly with go-sql-driver/mysql, never through Courier. Reads
// go in chunks in key order (one query per chunk), lookups in IN lists of
// a few hundred values, writes in multi-row INSERT IGNORE and DELETE
// statements grouped by index cluster, so no work is one round trip per
// row. Each data (or index) cluster is scanned by its own goroutine; the
// first error cancels the others. Backfill checkpoints each data
// cluster's progress in a table on the default cluster
// (config.IndexProgressTable) and resumes from it.
//
// An Index is safe for concurrent use; each call owns the goroutines it
// starts and waits for them before it returns.
package globalindex
