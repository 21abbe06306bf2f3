package config

import "time"

// Config is one validated snapshot of Courier's configuration. Values
// returned by Load and Parse have defaults applied and have passed Validate;
// treat them as read-only, since they are shared by every connection that
// started under them.
type Config struct {
	// Listen is the MySQL protocol address clients connect to.
	// Default "127.0.0.1:3307".
	Listen string `mapstructure:"listen"`
	// Admin is the admin HTTP address (metrics, health). Default
	// "127.0.0.1:9104"; "" or "off" in the file disables it, and Parse
	// normalises both to "".
	Admin string `mapstructure:"admin"`
	// AdminToken, when set, is the bearer token the admin API's write
	// calls (layout switch, write holds) require. Unset, they are served
	// to loopback clients only.
	AdminToken string `mapstructure:"admin_token"`
	// ServerVersion is the version string sent to clients in the handshake.
	// Default "": the proxy then reports the primary's version.
	ServerVersion string `mapstructure:"server_version"`
	// AuthPlugin is the authentication plugin Courier offers first:
	// mysql_native_password (default) or caching_sha2_password. Clients
	// may answer with the other; both are always accepted.
	AuthPlugin string `mapstructure:"auth_plugin"`
	// Consistency is the default read consistency of sessions: "causal"
	// (read your own writes, the default), "eventual" (any healthy
	// replica) or "primary" (all reads on the primary).
	Consistency string `mapstructure:"consistency"`
	// CausalScope is whose writes a causal read must see: "user" (the
	// default: those of every session of the same user on this instance,
	// as an application's connection pool needs) or "session" (the
	// session's own only: fewer waits on replicas when one user writes
	// from many connections, but a pool may read back stale rows).
	CausalScope string `mapstructure:"causal_scope"`
	// DefaultCluster names the cluster that unrouted statements go to.
	// Parse fills it in when there is exactly one cluster.
	DefaultCluster string `mapstructure:"default_cluster"`

	TLS           TLS           `mapstructure:"tls"`
	Limits        Limits        `mapstructure:"limits"`
	LoginThrottle LoginThrottle `mapstructure:"login_throttle"`
	Log           Log           `mapstructure:"log"`

	// Users are the accounts clients log in to Courier with; at least one.
	Users []User `mapstructure:"users"`
	// RateLimits bound statements of given shapes, whoever sends them.
	RateLimits []ShapeRate `mapstructure:"rate_limits"`
	// Classes are classes of traffic users belong to (users[].class),
	// each with its own concurrency limit and share of every backend
	// pool. Users without a class are in none: no limit of a class
	// applies to them, and they may use what the classes leave.
	Classes []Class `mapstructure:"classes"`
	// Clusters are the backend MySQL clusters; at least one.
	Clusters []Cluster `mapstructure:"clusters"`
	// Sharding splits tables across clusters; absent means no sharding.
	Sharding *Sharding `mapstructure:"sharding"`
}

// Sharding describes a sharded keyspace: the shards (key ranges, each held
// by a cluster) and how each table is laid out. Tables not listed are
// unsharded and live on the default cluster; an unsharded table may be
// placed on another cluster (a vertical split). Shards may be left out
// when every table listed is unsharded.
type Sharding struct {
	Shards []Shard      `mapstructure:"shards"`
	Tables []ShardTable `mapstructure:"tables"`
	// ScatterWrites lets UPDATE and DELETE without the sharding key run on
	// every shard. Default false: they are refused with error 1235.
	ScatterWrites bool `mapstructure:"scatter_writes"`
	// MultiShardTransactions is what happens when a transaction writes on
	// a second shard: "reject" (default: error 1235, the transaction stays
	// usable; it may read on every shard) or "best_effort" (each shard
	// commits in turn; a failure part-way leaves earlier shards committed).
	MultiShardTransactions string `mapstructure:"multi_shard_transactions"`
	// MaxMergeRows bounds the rows a multi-shard SELECT may hold in the
	// proxy while merging (groups, DISTINCT values). Default 1000000;
	// past it the query fails with error 1041.
	MaxMergeRows int `mapstructure:"max_merge_rows"`
	// SequenceBlock is how many ids Courier reserves from a sequence table
	// at a time (default 1000). Ids of a block not used before a restart
	// are skipped, never reused.
	SequenceBlock int `mapstructure:"sequence_block"`
}

// Shard is one key range of the key space and the cluster that holds it.
type Shard struct {
	// Range is a Vitess-style key range: "-80", "80-", "40-80".
	Range   string `mapstructure:"range"`
	Cluster string `mapstructure:"cluster"`
}

// ShardTable is the layout of one logical table.
type ShardTable struct {
	Name string `mapstructure:"name"`
	// Type is "sharded" (default), "reference" (copied to every shard) or
	// "unsharded" (whole on Cluster).
	Type string `mapstructure:"type"`
	// Cluster is the cluster an unsharded table lives on; required for
	// them, and only for them.
	Cluster string `mapstructure:"cluster"`
	// Key is the sharding key column (sharded tables).
	Key string `mapstructure:"key"`
	// KeyType is "int" (default), "uint" or "string".
	KeyType string `mapstructure:"key_type"`
	// Function is "hash" (default), "mod" or "range".
	Function string `mapstructure:"function"`
	// Sequence names the table an INSERT that leaves out the key (or
	// gives it NULL) takes key values from: an unsharded table on the
	// default cluster, in the inserted table's database, created on first
	// use. Empty: such INSERTs are refused.
	Sequence string `mapstructure:"sequence"`
	// Indexes are global indexes of a sharded table: lookup tables that map
	// a secondary column to the sharding key, so queries by that column
	// reach only the shards that hold the rows.
	Indexes []GlobalIndex `mapstructure:"indexes"`
}

// GlobalIndex is one global index of a sharded table. Its index table holds
// one entry (column value, sharding key) per row whose column is not NULL;
// see router.GlobalIndex for the layout.
type GlobalIndex struct {
	// Column is the indexed column; it must not be the table's key.
	Column string `mapstructure:"column"`
	// Table is the index table's name, unique among all tables listed.
	// Default "<table>_by_<column>", in lower case.
	Table string `mapstructure:"table"`
	// Unique says a column value belongs to at most one row. Default false.
	Unique bool `mapstructure:"unique"`
	// KeyType is the indexed column's type: "int" (default), "uint" or
	// "string"; it decides how index entries are hashed to shards.
	KeyType string `mapstructure:"key_type"`
	// Sharded puts the index table on the shards, split by the indexed
	// column with the hash function, so a lookup reads one shard. Default
	// true; false keeps it whole on default_cluster.
	Sharded bool `mapstructure:"sharded"`
}

// TLS configures TLS between clients and Courier. The files are read by the
// proxy at startup, not by this package.
type TLS struct {
	// Cert and Key are PEM files; set both or neither.
	Cert string `mapstructure:"cert"`
	Key  string `mapstructure:"key"`
	// Require refuses clients that do not switch to TLS. It needs Cert and Key.
	Require bool `mapstructure:"require"`
}

// Limits bounds what clients may use.
type Limits struct {
	// MaxConnections caps logged-in client sessions; a login past it is
	// refused with error 1040. Sockets still in the handshake do not
	// count (MaxUnauthenticated bounds them). Default 4096.
	MaxConnections int `mapstructure:"max_connections"`
	// MaxUnauthenticated caps sockets greeted and in their handshake at a
	// time; more wait ungreeted for a place, and a greeted socket that
	// stays silent gives way to them (see the proxy's door). Default 256.
	MaxUnauthenticated int `mapstructure:"max_unauthenticated"`
	// MaxPacketSize is the largest packet accepted from a client, in bytes.
	// The file may also say "64MiB". Default 1 GiB, the MySQL maximum.
	MaxPacketSize int `mapstructure:"max_packet_size"`
	// MaxPreparedStatements caps prepared statements per client connection;
	// 0 refuses them all. Default 1024.
	MaxPreparedStatements int `mapstructure:"max_prepared_statements"`
	// HandshakeTimeout bounds connect-to-authenticated. Default 5s; must be > 0.
	HandshakeTimeout time.Duration `mapstructure:"handshake_timeout"`
	// PacketTimeout bounds, after login, how long the rest of a packet
	// may take once its first byte has arrived (each physical packet of
	// at most 16 MiB); the connection is then closed. Default 30s; must
	// be > 0.
	PacketTimeout time.Duration `mapstructure:"packet_timeout"`
	// QueryTimeout bounds each statement; 0 means none. Default 10m.
	QueryTimeout time.Duration `mapstructure:"query_timeout"`
	// DDLTimeout bounds each DDL statement (CREATE, ALTER, DROP, ...),
	// which may run long on every shard at once; 0 means none. Default 24h.
	DDLTimeout time.Duration `mapstructure:"ddl_timeout"`
	// PlanCache bounds the memory the plan cache holds, in bytes ("64MiB"
	// works too). Default 64 MiB.
	PlanCache int `mapstructure:"plan_cache"`
	// MergeMemory bounds the rows all statements together may hold in the
	// proxy while merging shards' results (groups, distinct values,
	// sorted rows), in bytes ("256MiB" works too); a statement past it
	// fails with error 1041. Default 256 MiB.
	MergeMemory int `mapstructure:"merge_memory"`
	// IdleClientTimeout closes clients idle between statements this long;
	// 0 means never. Default 8h.
	IdleClientTimeout time.Duration `mapstructure:"idle_client_timeout"`
	// DrainTimeout bounds a graceful stop (SIGTERM or SIGINT): Courier
	// stops accepting clients, closes sessions as they fall idle outside
	// a transaction, and closes the rest when this passes. Default 30s.
	DrainTimeout time.Duration `mapstructure:"drain_timeout"`
}

// LoginThrottle refuses logins for a while from a client address, or for a
// user name, that failed to log in too often: after AddressFailures (or
// UserFailures) failed logins within Window of the first, further logins
// are refused for Block without looking at the password.
type LoginThrottle struct {
	// AddressFailures is how many failed logins from one client address
	// block it (error 1129); 0 turns address blocking off. Default 10.
	AddressFailures int `mapstructure:"address_failures"`
	// UserFailures is how many failed logins for one configured user
	// name, from any address, block that user (error 4150); 0 turns user
	// blocking off. Default 100.
	UserFailures int `mapstructure:"user_failures"`
	// Window is the time failures are counted over, from the first.
	// Default 1m; must be > 0.
	Window time.Duration `mapstructure:"window"`
	// Block is how long a blocked address or user is refused. Default 1m;
	// must be > 0.
	Block time.Duration `mapstructure:"block"`
}

// Log configures the root logger built by cmd.
type Log struct {
	// Level is debug, info, warn or error. Default info.
	Level string `mapstructure:"level"`
	// Format is json or console. Default json.
	Format string `mapstructure:"format"`
	// SlowQuery logs statements that take at least this long; 0 disables.
	// Default 1s.
	SlowQuery time.Duration `mapstructure:"slow_query"`
}

// User is an account that clients authenticate as.
type User struct {
	// Name is the MySQL user name; unique, case-sensitive.
	Name string `mapstructure:"name"`
	// Password is the plain-text password. Exactly one of Password and
	// PasswordHash is set; empty passwords are not supported.
	Password string `mapstructure:"password"`
	// PasswordHash is a mysql_native_password hash: "*" followed by 40
	// upper-case hex digits, as stored in mysql.user.
	PasswordHash string `mapstructure:"password_hash"`
	// Schemas lists the schemas the user may use; empty means all.
	Schemas []string `mapstructure:"schemas"`
	// Consistency is the user's default read consistency; empty takes the
	// top-level consistency.
	Consistency string `mapstructure:"consistency"`
	// AllowHints lets the user's queries choose primary or replica with
	// /* courier:primary */ and /* courier:replica */ comments.
	AllowHints bool `mapstructure:"allow_hints"`
	// Access is what the account may do, each level including the ones
	// before it: read_only (SELECT, SHOW), read_write (INSERT, UPDATE,
	// DELETE, CALL, LOCK TABLES, LOAD DATA), ddl (CREATE, ALTER, DROP,
	// TRUNCATE, RENAME of tables) or admin (administering the servers
	// through Courier: SET GLOBAL, CREATE and DROP DATABASE, KILL of
	// backend threads, users and grants, LOAD_FILE and INTO OUTFILE; and
	// reaching Courier's own tables — global index tables, sequences, the
	// heartbeat — and the servers' system schemas mysql,
	// performance_schema and sys). Default ddl, what accounts could do
	// before levels existed, short of administering the servers.
	Access string `mapstructure:"access"`
	// Class names the user's class of traffic (classes[].name); empty:
	// none.
	Class string `mapstructure:"class"`
	// Rate bounds the statements the user's sessions together may start
	// per second on this instance.
	Rate Rate `mapstructure:"rate"`
}

// Rate is a token bucket: Limit statements a second on average, Burst at
// once; a statement past it waits up to Wait for its turn, then fails
// with error 1226. Limit 0 (the default) is no bound.
type Rate struct {
	Limit float64 `mapstructure:"limit"`
	// Burst defaults to Limit (at least 1).
	Burst int `mapstructure:"burst"`
	// Wait defaults to 0: a statement over the rate fails at once.
	Wait time.Duration `mapstructure:"wait"`
}

// ShapeRate is a rate limit on the statements of one shape: their text
// with values replaced by ?, as courierctl top and /digests show it.
type ShapeRate struct {
	Digest string `mapstructure:"digest"`
	// Limit, Burst and Wait are as in Rate.
	Limit float64       `mapstructure:"limit"`
	Burst int           `mapstructure:"burst"`
	Wait  time.Duration `mapstructure:"wait"`
}

// Rate is the shape's limit as a Rate.
func (s ShapeRate) Rate() Rate { return Rate{Limit: s.Limit, Burst: s.Burst, Wait: s.Wait} }

// Class is a class of traffic (for example critical, normal, batch). Its
// limits hold on each Courier instance.
type Class struct {
	// Name is unique; users name it in users[].class.
	Name string `mapstructure:"name"`
	// MaxConcurrency is how many of the class's statements may run at
	// once; 0 (the default) is no limit.
	MaxConcurrency int `mapstructure:"max_concurrency"`
	// Queue is how many more may wait for a place (default 1000), each
	// for at most QueueTimeout (default 1s); past either, the statement
	// fails with error 1226 and the connection stays usable.
	Queue        int           `mapstructure:"queue"`
	QueueTimeout time.Duration `mapstructure:"queue_timeout"`
	// PoolReserved is the fraction of every backend pool's max_open kept
	// for this class: other classes never take those connections.
	// Default 0. The reserved fractions together are at most 1.
	PoolReserved float64 `mapstructure:"pool_reserved"`
	// PoolMax is the fraction of every backend pool's max_open the class
	// may use at once. Default 1.
	PoolMax float64 `mapstructure:"pool_max"`
	// QueryTimeout bounds each of its statements in place of
	// limits.query_timeout; 0 (the default) keeps that one.
	QueryTimeout time.Duration `mapstructure:"query_timeout"`
	// ShedAbove sheds the class's load: while more statements than this
	// run in Courier (all classes together), its new ones fail at once
	// with error 1226. Give the least important classes the lowest
	// thresholds. 0 (the default) never sheds.
	ShedAbove int `mapstructure:"shed_above"`
	// Consolidate lets the class's identical reads share one execution:
	// a text SELECT in autocommit that arrives while the same one runs,
	// in the same session state, gets that one's answer (from a session
	// with no write of its own to read back). Default false.
	Consolidate bool `mapstructure:"consolidate"`
}

// Cluster is one primary with its replicas, reached with one set of backend
// credentials.
type Cluster struct {
	// Name is unique and matches [A-Za-z0-9_-]+.
	Name string `mapstructure:"name"`
	// User and Password are the credentials Courier logs in to the backends with.
	User     string `mapstructure:"user"`
	Password string `mapstructure:"password"`
	// Pool sizes the connection pool kept to each backend instance.
	Pool Pool `mapstructure:"pool"`
	// Primary takes writes; required.
	Primary Backend `mapstructure:"primary"`
	// Replicas serve reads, chosen by Weight.
	Replicas []Backend `mapstructure:"replicas"`
	// Replication configures read/write splitting over the replicas.
	Replication Replication `mapstructure:"replication"`
	// Breaker is the circuit breaker of each of the cluster's servers.
	Breaker Breaker `mapstructure:"breaker"`
}

// Breaker is a server's circuit breaker: after Failures consecutive
// failures (statements whose connection broke or timed out, failed
// dials) statements for that server fail at once with error 2003; the
// first of Courier's health checks to reach the server after OpenFor
// closes it (no client statement is the probe). Reads move to another
// replica, or the primary, as for a replica out of rotation.
type Breaker struct {
	// Failures is how many consecutive failures open it; 0 (the
	// default) is no breaker.
	Failures int `mapstructure:"failures"`
	// OpenFor is how long it stays open at least. Default 5s.
	OpenFor time.Duration `mapstructure:"open_for"`
}

// Replication configures how reads use a cluster's replicas.
type Replication struct {
	// Reads is "replicas" (default): autocommit reads go to healthy
	// replicas; or "primary": everything goes to the primary.
	Reads string `mapstructure:"reads"`
	// MaxReplicaLag takes a replica out of rotation when it lags more.
	// Default 5s.
	MaxReplicaLag time.Duration `mapstructure:"max_replica_lag"`
	// Fallback when no replica is usable: "primary" (default) sends reads
	// to the primary; "error" fails them with a clear error.
	Fallback string `mapstructure:"fallback"`
	// CheckInterval is how often replicas are checked. Default 1s.
	CheckInterval time.Duration `mapstructure:"check_interval"`
	// Warmup is how long a replica that returns to rotation takes to
	// ramp up to its full share of reads; 0 disables. Default 30s.
	Warmup time.Duration `mapstructure:"warmup"`
	// Heartbeat makes Courier write a timestamp on the primary every
	// check interval (table courier_heartbeat.heartbeat) and read it on the
	// replicas, for a lag measure finer than Seconds_Behind_Master.
	// Default true.
	Heartbeat bool `mapstructure:"heartbeat"`
	// CausalWait bounds how long a causal read waits for a replica to
	// apply the session's last write before it goes to the primary; 0
	// never waits: a read whose replica is not known (from its last
	// check) to have applied the write goes to the primary at once.
	// Default 200ms.
	CausalWait time.Duration `mapstructure:"causal_wait"`
}

// Backend is one MySQL server instance.
type Backend struct {
	// Name is unique across the whole file and matches [A-Za-z0-9_.-]+.
	// Default "<cluster>-primary" or "<cluster>-replica<N>" (N from 1).
	Name string `mapstructure:"name"`
	// Address is host:port with a port from 1 to 65535.
	Address string `mapstructure:"address"`
	// Weight is the share of reads a replica gets relative to its siblings;
	// 0 drains it. Default 1.
	Weight int `mapstructure:"weight"`
}

// Pool configures the connection pool to ONE backend instance.
type Pool struct {
	// MaxOpen caps connections to the instance. Default 256.
	MaxOpen int `mapstructure:"max_open"`
	// MaxIdle caps idle connections kept; at most MaxOpen. Default 64.
	MaxIdle int `mapstructure:"max_idle"`
	// MinIdle is how many connections Courier opens to the instance
	// before it starts serving (a warm-up), and keeps open through idle
	// expiry; at most MaxIdle. Default 0.
	MinIdle int `mapstructure:"min_idle"`
	// IdleTimeout closes connections idle this long; 0 means never. Default 5m.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	// ConnectTimeout bounds dialling and authenticating. Default 2s; must be > 0.
	ConnectTimeout time.Duration `mapstructure:"connect_timeout"`
	// QueryTimeout bounds statements on this cluster; 0 (the default)
	// inherits Limits.QueryTimeout.
	QueryTimeout time.Duration `mapstructure:"query_timeout"`
	// WaitTimeout is how long a client waits for a free connection once
	// MaxOpen is reached; 0 fails at once. Default 5s.
	WaitTimeout time.Duration `mapstructure:"wait_timeout"`
}

// Cluster returns the cluster with the given name, or nil if there is none.
func (c *Config) Cluster(name string) *Cluster {
	for i := range c.Clusters {
		if c.Clusters[i].Name == name {
			return &c.Clusters[i]
		}
	}
	return nil
}

// User returns the user with the given name, or nil if there is none.
func (c *Config) User(name string) *User {
	for i := range c.Users {
		if c.Users[i].Name == name {
			return &c.Users[i]
		}
	}
	return nil
}
