// Package migrate moves tables' rows from one sharding layout to another:
// the plan (which tables move from which clusters to which, checked
// against the servers), the chunked copy with its checkpoints, the
// verification to zero differences, and the durable state of a migration
// in Courier's control schema on the default cluster, from which a
// stopped run resumes. It drives the Courier instances in front of the
// data through their admin API (write holds, the layout switch) and
// records each switched layout where every instance reads it when it
// starts or when a hold lapses.
//
// The online mode follows the sources' binlogs rather than having Courier
// write both layouts: the binlog sees every change, whoever made it
// (another instance, a client on a primary directly), in commit order,
// from any position after a restart; dual writes in the proxy would see
// only its own statements and need a distributed transaction to stay in
// step.
//
// It is its own package because none of this runs inside Courier's data
// path: courierctl wires it to the command line, and the proxy only
// serves the layout it is told to.
package migrate
