// Package router decides where statements run. It is a pure planner: a
// function of the statement (as the parser classified it) and a snapshot of
// the session's routing-relevant state, with no I/O, so every rule is
// tested without a server. The proxy executes the decision: it picks the
// replica (health, weights, warm-up), waits for causal consistency and
// falls back to the primary when needed.
//
// It decides between a cluster's primary and its replicas (read/write
// splitting, rwsplit.go), and plans statements over a sharded schema
// (planner.go): route by key, split IN lists and multi-row INSERTs per
// shard, keys from sequences, scatter, reference, metadata and DDL routes,
// and error 1235 for what cannot be answered correctly. A SELECT that
// reaches several shards is rewritten for a merge (merge.go: hidden sort
// and group columns, AVG as SUM and COUNT, LIMIT pushed down) that the
// proxy runs. Reads by a column with a global index get a lookup
// (lookup.go), writes the index entries they need. Templates (template.go)
// route repeated statements without parsing them again.
//
// The schema (schema.go) holds each table's layout and its global indexes
// (index.go): lookup tables from a secondary column to the sharding key,
// registered in the schema as tables of their own. SchemaFromConfig
// builds it from the configuration's sharding section.
//
// Imports: parser, config and sqlerr only (never proxy, net or a driver).
package router
