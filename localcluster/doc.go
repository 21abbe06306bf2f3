// Package localcluster starts, inspects and stops a local MariaDB topology:
// S shards, each one primary plus R replicas, as real mariadbd processes on
// 127.0.0.1 ports with real GTID replication from each primary to its
// replicas.
//
// # Where it sits
//
// This is test, demo and benchmark infrastructure, not part of Courier's data
// path: the proxy never imports it. Integration tests, the benchmark harness
// and `courierctl local up|down|status` use it so that no test depends on a
// server the machine happens to run. It starts real servers, writes real
// files and needs Debian's mariadb-server (see EnsureMariaDB).
//
// # Layout and lifecycle
//
// Everything lives under Spec.Dir: one directory per instance
// (Dir/s0-primary/{data,error.log,mysqld.out,mysqld.sock,mysqld.pid}) and the
// state file Dir/cluster.json, which records the spec and the PID of every
// process started. Instance k, in the order s0-primary, s0-replica1...,
// s1-primary, ..., listens on BasePort+k and has server_id = its port.
//
// Up makes a data-directory template with mariadb-install-db once per
// mariadbd version (cached under os.TempDir()), copies it for each new
// instance, starts all instances in parallel (detached in their own process
// group, so they outlive the caller), creates the application and `repl`
// users on each primary with binary logging on (replicas receive them through
// replication, keeping GTID strict mode intact), and points each replica at
// its primary with MASTER_USE_GTID=slave_pos. It returns when every instance
// accepts the application user and every replica's slave threads run. Up is
// idempotent per Dir: live instances are reused, dead ones restarted from
// their data dirs.
//
// Each instance gets a private --tmpdir (Dir/<name>/tmp): a starting mariadbd
// deletes every #sql* file in its tmpdir, so servers sharing /tmp would delete
// each other's on-disk temporary tables. cluster.json holds the application
// password (mode 0600): this is for local, throw-away topologies only.
//
// Down, Kill and Restart act only on PIDs recorded in the state file, and
// only after checking /proc that the PID is still a mariadbd serving that
// instance's data dir. Up, Down and Restart serialise on a flock of
// Dir/.lock, so concurrent callers (even in different processes) are safe;
// Load, Status and Kill only read the state file, which is replaced
// atomically.
//
// # Goroutines
//
// Each process started is reaped by one goroutine (cmd.Wait) that ends when
// the process exits; Up and Status fan out one goroutine per instance and
// wait for them before returning. Nothing else runs in the background, and
// the package has no global state. Setup connects as root over each
// instance's unix socket (unix_socket authentication); Linux only.
//
// # Debugging
//
// Errors from a server that failed to start include the tail of its
// error.log. `courierctl local status` shows each instance's replication
// threads, lag and GTID position.
package localcluster
