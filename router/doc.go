// Package router decides where statements run. It is a pure planner: a
// function of the statement (as the parser classified it) and a snapshot of
// the session's routing-relevant state, with no I/O, so every rule is
// tested without a server. The proxy executes the decision: it picks the
// replica (health, weights, warm-up), waits for causal consistency and
// falls back to the primary when needed.
//
// Today it decides between a cluster's primary and its replicas
// (read/write splitting); sharding plans will join it here.
//
// Imports: parser only (never proxy, net or a driver).
package router
