package config

import (
	"errors"
	"fmt"
	"github.com/courier-proxy/courier/router/topo"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	clusterNameRE  = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	backendNameRE  = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	passwordHashRE = regexp.MustCompile(`^\*[0-9A-F]{40}$`)
	// identRE is what Courier accepts as a table or column name it writes
	// into SQL itself (index tables and their columns): no quoting needed.
	identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]{0,63}$`)
)

// AccessLevels are the users' access levels, each including the ones
// before it.
var AccessLevels = []string{"read_only", "read_write", "ddl", "admin"}

// IndexProgressTable is the table on default_cluster where
// "courierctl index backfill" keeps its checkpoints; no index table may
// take its name.
const IndexProgressTable = "courier_index_progress"

// ControlSchema is the database on default_cluster where "courierctl
// migrate" keeps the state of migrations, and LayoutsTable the table in
// it of every layout a migration switched to: Courier serves the newest
// one, in place of its file's sharding section, when it starts and when
// a write hold lapses.
const (
	ControlSchema = "courier_control"
	LayoutsTable  = ControlSchema + ".layouts"
)

// problems collects validation failures, each prefixed by the key path.
type problems []error

func (p *problems) add(path, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// Validate checks c as it stands (Parse has already applied defaults) and
// returns every problem at once, joined with errors.Join, one per line, each
// starting with the key path, e.g. `users[0]: set exactly one of password or
// password_hash`. It does no I/O: TLS files are read by the proxy at startup.
func (c *Config) Validate() error {
	var p problems

	if c.Listen == "" {
		p.add("listen", "required; set the client address, e.g. %q", defaultListen)
	} else if msg := checkAddr(c.Listen, true); msg != "" {
		p.add("listen", "%s", msg)
	}
	if c.Admin != "" && !strings.EqualFold(c.Admin, "off") {
		if msg := checkAddr(c.Admin, true); msg != "" {
			p.add("admin", "%s; or use \"off\" to disable the admin server", msg)
		}
	}
	switch c.AuthPlugin {
	case "", "mysql_native_password", "caching_sha2_password":
	default:
		p.add("auth_plugin", "%q is not supported; use mysql_native_password or caching_sha2_password", c.AuthPlugin)
	}
	if !slices.Contains(consistencies, c.Consistency) {
		p.add("consistency", "%q is not a mode; use eventual, causal or primary", c.Consistency)
	}
	if c.CausalScope != "user" && c.CausalScope != "session" {
		p.add("causal_scope", "%q is not a scope; use user or session", c.CausalScope)
	}
	for i, u := range c.Users {
		if !slices.Contains(AccessLevels, u.Access) {
			p.add(fmt.Sprintf("users[%d].access", i), "%q is not a level; use read_only, read_write, ddl or admin", u.Access)
		}
		if u.Consistency != "" && !slices.Contains(consistencies, u.Consistency) {
			p.add(fmt.Sprintf("users[%d].consistency", i), "%q is not a mode; use eventual, causal or primary, or leave it empty", u.Consistency)
		}
	}
	if v := c.ServerVersion; v != "" && (v[0] < '0' || v[0] > '9' || strings.ContainsAny(v, "\x00\r\n")) {
		p.add("server_version", "%q must start with a MySQL version number, e.g. \"8.0.36-courier\" (clients parse it), or be left empty to use the primary's", v)
	}

	c.TLS.validate(&p)
	c.Limits.validate(&p)
	c.LoginThrottle.validate(&p)
	c.Log.validate(&p)
	c.validateUsers(&p)
	c.validateClusters(&p)
	c.validateSharding(&p)
	c.validateClasses(&p)

	if len(c.Clusters) > 0 {
		names := make([]string, len(c.Clusters))
		for i, cl := range c.Clusters {
			names[i] = strconv.Quote(cl.Name)
		}
		switch {
		case c.DefaultCluster == "":
			p.add("default_cluster", "required with %d clusters; set it to one of %s", len(c.Clusters), strings.Join(names, ", "))
		case c.Cluster(c.DefaultCluster) == nil:
			p.add("default_cluster", "%q is not a cluster in this file; use one of %s", c.DefaultCluster, strings.Join(names, ", "))
		}
	}
	return errors.Join(p...)
}

func (t *TLS) validate(p *problems) {
	switch {
	case t.Cert != "" && t.Key == "":
		p.add("tls.key", "missing while tls.cert is set; set both PEM files or neither")
	case t.Key != "" && t.Cert == "":
		p.add("tls.cert", "missing while tls.key is set; set both PEM files or neither")
	case t.Require && t.Cert == "":
		p.add("tls.require", "needs tls.cert and tls.key; set them or set require to false")
	}
}

func (l *Limits) validate(p *problems) {
	if l.MaxConnections < 1 {
		p.add("limits.max_connections", "%d; must be at least 1", l.MaxConnections)
	}
	if l.MaxUnauthenticated < 1 {
		p.add("limits.max_unauthenticated", "%d; must be at least 1", l.MaxUnauthenticated)
	}
	if l.MaxPacketSize < 1<<10 || l.MaxPacketSize > 1<<30 {
		p.add("limits.max_packet_size", "%d bytes; must be from 1KiB to 1GiB (1024 to 1073741824), as in MySQL", l.MaxPacketSize)
	}
	if l.MaxPreparedStatements < 0 {
		p.add("limits.max_prepared_statements", "%d; must be 0 (refuse prepared statements) or more", l.MaxPreparedStatements)
	}
	positive(p, "limits.handshake_timeout", l.HandshakeTimeout)
	positive(p, "limits.packet_timeout", l.PacketTimeout)
	notNegative(p, "limits.query_timeout", l.QueryTimeout, "no timeout")
	notNegative(p, "limits.idle_client_timeout", l.IdleClientTimeout, "never")
	notNegative(p, "limits.drain_timeout", l.DrainTimeout, "close at once")
	notNegative(p, "limits.ddl_timeout", l.DDLTimeout, "no timeout")
	if l.PlanCache < 1<<20 {
		p.add("limits.plan_cache", "%d bytes; must be at least 1MiB", l.PlanCache)
	}
	if l.MergeMemory < 1<<20 {
		p.add("limits.merge_memory", "%d bytes; must be at least 1MiB", l.MergeMemory)
	}
}

func (t *LoginThrottle) validate(p *problems) {
	if t.AddressFailures < 0 {
		p.add("login_throttle.address_failures", "%d; must be 0 (never block an address) or more", t.AddressFailures)
	}
	if t.UserFailures < 0 {
		p.add("login_throttle.user_failures", "%d; must be 0 (never block a user) or more", t.UserFailures)
	}
	positive(p, "login_throttle.window", t.Window)
	positive(p, "login_throttle.block", t.Block)
}

func (l *Log) validate(p *problems) {
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, l.Level) {
		p.add("log.level", "%q is not a level; use debug, info, warn or error", l.Level)
	}
	if l.Format != "json" && l.Format != "console" {
		p.add("log.format", "%q is not a format; use json or console", l.Format)
	}
	notNegative(p, "log.slow_query", l.SlowQuery, "off")
}

func (c *Config) validateUsers(p *problems) {
	if len(c.Users) == 0 {
		p.add("users", "none defined; add at least one user with a name and a password")
	}
	seen := make(map[string]int)
	for i, u := range c.Users {
		path := fmt.Sprintf("users[%d]", i)
		switch j, dup := seen[u.Name]; {
		case u.Name == "":
			p.add(path+".name", "required")
		case dup:
			p.add(path+".name", "%q is also users[%d]; user names must be unique", u.Name, j)
		default:
			seen[u.Name] = i
		}
		switch {
		case (u.Password == "") == (u.PasswordHash == ""):
			p.add(path, "set exactly one of password or password_hash")
		case u.PasswordHash != "" && !passwordHashRE.MatchString(u.PasswordHash):
			p.add(path+".password_hash", "must be \"*\" and 40 upper-case hex digits, as in mysql.user; "+
				"compute it with SELECT CONCAT('*', UPPER(SHA1(UNHEX(SHA1('secret')))))")
		}
		for j, s := range u.Schemas {
			if s == "" {
				p.add(fmt.Sprintf("%s.schemas[%d]", path, j), "empty schema name; remove it (an empty list allows all schemas)")
			} else if slices.Index(u.Schemas, s) < j {
				p.add(fmt.Sprintf("%s.schemas[%d]", path, j), "%q is listed twice", s)
			}
		}
	}
}

func (c *Config) validateClusters(p *problems) {
	if len(c.Clusters) == 0 {
		p.add("clusters", "none defined; add a cluster with a name, user, password and primary address")
	}
	clusters := make(map[string]int)
	backends := make(map[string]string) // backend name → its path
	for i := range c.Clusters {
		cl := &c.Clusters[i]
		path := fmt.Sprintf("clusters[%d]", i)
		switch j, dup := clusters[cl.Name]; {
		case cl.Name == "":
			p.add(path+".name", "required")
		case !clusterNameRE.MatchString(cl.Name):
			p.add(path+".name", "%q may use only letters, digits, '_' and '-'", cl.Name)
		case dup:
			p.add(path+".name", "%q is also clusters[%d]; cluster names must be unique", cl.Name, j)
		default:
			clusters[cl.Name] = i
		}
		if cl.User == "" {
			p.add(path+".user", "required; the MySQL account Courier logs in to this cluster's servers with")
		}
		cl.Pool.validate(p, path+".pool")
		cl.Replication.validate(p, path+".replication")
		if cl.Breaker.Failures < 0 {
			p.add(path+".breaker.failures", "must not be negative (0: no breaker)")
		}
		if cl.Breaker.Failures > 0 {
			positive(p, path+".breaker.open_for", cl.Breaker.OpenFor)
		}

		addrs := make(map[string]string) // address → path, within the cluster
		if cl.Primary.Address == "" {
			p.add(path+".primary.address", "missing; every cluster needs a primary with an address like \"10.0.0.1:3306\"")
		}
		cl.Primary.validate(p, path+".primary", backends, addrs)
		for j := range cl.Replicas {
			r := &cl.Replicas[j]
			rpath := fmt.Sprintf("%s.replicas[%d]", path, j)
			if r.Address == "" {
				p.add(rpath+".address", "required; set the replica's host:port")
			}
			r.validate(p, rpath, backends, addrs)
		}
	}
}

// Consistency modes.
var consistencies = []string{"eventual", "causal", "primary"}

func (r *Replication) validate(p *problems, path string) {
	if r.Reads != "replicas" && r.Reads != "primary" {
		p.add(path+".reads", "%q is not a choice; use replicas or primary", r.Reads)
	}
	if r.Fallback != "primary" && r.Fallback != "error" {
		p.add(path+".fallback", "%q is not a choice; use primary or error", r.Fallback)
	}
	if r.MaxReplicaLag <= 0 {
		p.add(path+".max_replica_lag", "%s; must be > 0", r.MaxReplicaLag)
	}
	if r.CheckInterval <= 0 {
		p.add(path+".check_interval", "%s; must be > 0", r.CheckInterval)
	}
	if r.Warmup < 0 {
		p.add(path+".warmup", "%s; must be 0 (no warm-up) or more", r.Warmup)
	}
	if r.CausalWait < 0 {
		p.add(path+".causal_wait", "%s; must be 0 (never wait: read from the primary) or more", r.CausalWait)
	}
}

func (b *Backend) validate(p *problems, path string, names, addrs map[string]string) {
	switch other, dup := names[b.Name]; {
	case b.Name == "":
		p.add(path+".name", "required")
	case !backendNameRE.MatchString(b.Name):
		p.add(path+".name", "%q may use only letters, digits, '_', '.' and '-'", b.Name)
	case dup:
		p.add(path+".name", "%q is also %s; backend names must be unique in the file", b.Name, other)
	default:
		names[b.Name] = path
	}
	if b.Address != "" {
		if msg := checkAddr(b.Address, false); msg != "" {
			p.add(path+".address", "%s", msg)
		} else if other, dup := addrs[b.Address]; dup {
			p.add(path+".address", "%q is also %s; list each server once per cluster", b.Address, other)
		} else {
			addrs[b.Address] = path
		}
	}
	if b.Weight < 0 {
		p.add(path+".weight", "%d; must be 0 (drained) or more", b.Weight)
	}
}

func (pl *Pool) validate(p *problems, path string) {
	if pl.MaxOpen < 1 {
		p.add(path+".max_open", "%d; must be at least 1", pl.MaxOpen)
	}
	switch {
	case pl.MaxIdle < 0:
		p.add(path+".max_idle", "%d; must be 0 or more", pl.MaxIdle)
	case pl.MaxOpen >= 1 && pl.MaxIdle > pl.MaxOpen:
		p.add(path+".max_idle", "%d is more than max_open %d; lower max_idle or raise max_open", pl.MaxIdle, pl.MaxOpen)
	}
	if pl.MinIdle < 0 || pl.MinIdle > max(pl.MaxIdle, 0) {
		p.add(path+".min_idle", "%d; must be from 0 to max_idle (%d)", pl.MinIdle, pl.MaxIdle)
	}
	notNegative(p, path+".idle_timeout", pl.IdleTimeout, "never")
	positive(p, path+".connect_timeout", pl.ConnectTimeout)
	notNegative(p, path+".query_timeout", pl.QueryTimeout, "inherit limits.query_timeout")
	notNegative(p, path+".wait_timeout", pl.WaitTimeout, "fail at once")
}

func notNegative(p *problems, path string, d time.Duration, zero string) {
	if d < 0 {
		p.add(path, "%v is negative; use 0 (%s) or a positive duration like \"30s\"", d, zero)
	}
}

func positive(p *problems, path string, d time.Duration) {
	if d <= 0 {
		p.add(path, "%v; must be a positive duration like \"5s\"", d)
	}
}

// checkAddr says what is wrong with a host:port address, or returns "".
// A listening address may omit the host (all interfaces) and use port 0
// (any free port); a backend address needs both.
func checkAddr(addr string, listening bool) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		why := "not host:port"
		var ae *net.AddrError
		if errors.As(err, &ae) {
			why = strings.TrimSuffix(ae.Err, " in address")
		}
		return fmt.Sprintf("%q is not host:port (%s); write it like \"127.0.0.1:3306\" or \"[::1]:3306\"", addr, why)
	}
	if host == "" && !listening {
		return fmt.Sprintf("%q has no host; write it like \"127.0.0.1:3306\"", addr)
	}
	n, err := strconv.Atoi(port)
	lo := 1
	if listening {
		lo = 0
	}
	if err != nil || n < lo || n > 65535 {
		return fmt.Sprintf("%q has port %q; use a number from %d to 65535", addr, port, lo)
	}
	return ""
}

func (c *Config) validateSharding(p *problems) {
	sh := c.Sharding
	if sh == nil {
		return
	}
	if len(sh.Shards) == 0 && !allUnsharded(sh.Tables) {
		p.add("sharding.shards", "none defined; list key ranges and their clusters, e.g. {range: \"-80\", cluster: s0}")
	}
	var ranges []topo.Shard
	for i, s := range sh.Shards {
		path := fmt.Sprintf("sharding.shards[%d]", i)
		r, err := topo.ParseKeyRange(s.Range)
		if err != nil {
			p.add(path+".range", "%v", err)
		}
		if c.Cluster(s.Cluster) == nil {
			p.add(path+".cluster", "%q is not a cluster in this file", s.Cluster)
		}
		ranges = append(ranges, topo.Shard{Name: s.Range, Range: r})
	}
	if len(ranges) > 0 {
		if _, err := topo.New(ranges); err != nil {
			p.add("sharding.shards", "%v; the ranges must cover the key space exactly once", err)
		}
	}
	if !slices.Contains([]string{"reject", "best_effort"}, sh.MultiShardTransactions) {
		p.add("sharding.multi_shard_transactions", "%q is not a policy; use reject or best_effort", sh.MultiShardTransactions)
	}
	if sh.MaxMergeRows < 1 {
		p.add("sharding.max_merge_rows", "must be at least 1")
	}
	if sh.SequenceBlock < 1 {
		p.add("sharding.sequence_block", "must be at least 1")
	}
	c.validateShardTables(p)
	for i, t := range sh.Tables {
		if t.Type != "unsharded" || t.Cluster == c.DefaultCluster {
			continue
		}
		for _, o := range sh.Tables {
			if o.Sequence != "" && strings.EqualFold(o.Sequence, t.Name) {
				p.add(fmt.Sprintf("sharding.tables[%d].cluster", i), "%q is the sequence of %s: sequences live on default_cluster", t.Name, o.Name)
			}
		}
	}
	c.validateIndexes(p)
}

// validateShardTables checks each table of the sharding section.
func (c *Config) validateShardTables(p *problems) {
	names := map[string]bool{}
	for i, t := range c.Sharding.Tables {
		path := fmt.Sprintf("sharding.tables[%d]", i)
		if t.Name == "" {
			p.add(path+".name", "required")
		} else if names[strings.ToLower(t.Name)] {
			p.add(path+".name", "%q is listed twice", t.Name)
		}
		names[strings.ToLower(t.Name)] = true
		switch t.Type {
		case "sharded":
			if t.Key == "" {
				p.add(path+".key", "required for a sharded table: the column rows are placed by")
			}
		case "reference":
		case "unsharded":
			if t.Cluster == "" {
				p.add(path+".cluster", "required for an unsharded table: the cluster it lives on")
			} else if c.Cluster(t.Cluster) == nil {
				p.add(path+".cluster", "%q is not a cluster in this file", t.Cluster)
			}
			if t.Key != "" {
				p.add(path+".key", "an unsharded table has no sharding key; leave it out")
			}
		default:
			p.add(path+".type", "%q is not a table type; use sharded, reference or unsharded", t.Type)
		}
		if t.Type != "sharded" && t.Sequence != "" {
			p.add(path+".sequence", "only a sharded table takes keys from a sequence")
		}
		if t.Type != "unsharded" && t.Cluster != "" {
			p.add(path+".cluster", "only an unsharded table is placed on one cluster; a %s table lives on the shards", t.Type)
		}
		if !slices.Contains([]string{"int", "uint", "string"}, t.KeyType) {
			p.add(path+".key_type", "%q is not a key type; use int, uint or string", t.KeyType)
		}
		if !slices.Contains([]string{"hash", "mod", "range"}, t.Function) {
			p.add(path+".function", "%q is not a sharding function; use hash, mod or range", t.Function)
		}
	}
}

// allUnsharded reports whether every table listed (at least one) is
// unsharded: such a section needs no shards.
func allUnsharded(tables []ShardTable) bool {
	for _, t := range tables {
		if t.Type != "unsharded" {
			return false
		}
	}
	return len(tables) > 0
}

// validateIndexes checks the global indexes of every table: on sharded
// tables only, a real column other than the key, each column indexed once
// per table, and index table names that clash with nothing else listed.
func (c *Config) validateIndexes(p *problems) {
	sh := c.Sharding
	listed := map[string]string{} // lower-case table name → path
	for i, t := range sh.Tables {
		if n := strings.ToLower(t.Name); n != "" && listed[n] == "" {
			listed[n] = fmt.Sprintf("sharding.tables[%d]", i)
		}
	}
	listed[IndexProgressTable] = "the table courierctl keeps backfill checkpoints in"
	for i, t := range sh.Tables {
		tpath := fmt.Sprintf("sharding.tables[%d]", i)
		if len(t.Indexes) > 0 && t.Type != "sharded" {
			p.add(tpath+".indexes", "only sharded tables have global indexes; %q is %s", t.Name, t.Type)
			continue
		}
		columns := map[string]int{}
		for j, ix := range t.Indexes {
			path := fmt.Sprintf("%s.indexes[%d]", tpath, j)
			col := strings.ToLower(ix.Column)
			switch k, dup := columns[col]; {
			case ix.Column == "":
				p.add(path+".column", "required: the column the index maps to %s", orKey(t.Key))
			case !identRE.MatchString(ix.Column):
				p.add(path+".column", "%q is not a plain column name (letters, digits, '_', '$')", ix.Column)
			case t.Key != "" && col == strings.ToLower(t.Key):
				p.add(path+".column", "%q is the sharding key; queries by it already reach one shard", ix.Column)
			case dup:
				p.add(path+".column", "%q is also indexed by %s.indexes[%d]; index a column once", ix.Column, tpath, k)
			default:
				columns[col] = j
			}
			tbl := strings.ToLower(ix.Table)
			switch other := listed[tbl]; {
			case ix.Table == "":
				p.add(path+".table", "empty; leave the key out for %q or name the index table", strings.ToLower(t.Name+"_by_"+ix.Column))
			case !identRE.MatchString(ix.Table):
				p.add(path+".table", "%q is not a plain table name (letters, digits, '_', '$'; at most 64)", ix.Table)
			case other != "":
				p.add(path+".table", "%q is also %s; an index table needs a name of its own", ix.Table, other)
			default:
				listed[tbl] = path + ".table"
			}
			if !slices.Contains([]string{"int", "uint", "string"}, ix.KeyType) {
				p.add(path+".key_type", "%q is not a column type; use int, uint or string", ix.KeyType)
			}
		}
	}
}

// orKey names a table's key for messages.
func orKey(key string) string {
	if key == "" {
		return "the sharding key"
	}
	return key
}

// validateClasses checks the classes of traffic and the users' classes
// and rates.
func (c *Config) validateClasses(p *problems) {
	names := map[string]int{}
	reserved := 0.0
	for i, cl := range c.Classes {
		path := fmt.Sprintf("classes[%d]", i)
		switch j, dup := names[cl.Name]; {
		case cl.Name == "":
			p.add(path+".name", "required")
		case dup:
			p.add(path+".name", "%q is also classes[%d]; class names must be unique", cl.Name, j)
		default:
			names[cl.Name] = i
		}
		if cl.MaxConcurrency < 0 {
			p.add(path+".max_concurrency", "must not be negative (0: no limit)")
		}
		if cl.Queue < 0 {
			p.add(path+".queue", "must not be negative (0: no statement waits)")
		}
		notNegative(p, path+".queue_timeout", cl.QueueTimeout, "no wait")
		notNegative(p, path+".query_timeout", cl.QueryTimeout, "limits.query_timeout")
		if cl.ShedAbove < 0 {
			p.add(path+".shed_above", "must not be negative (0: never shed)")
		}
		if cl.PoolReserved < 0 || cl.PoolReserved > 1 {
			p.add(path+".pool_reserved", "%v is not a fraction from 0 to 1", cl.PoolReserved)
		}
		if cl.PoolMax <= 0 || cl.PoolMax > 1 {
			p.add(path+".pool_max", "%v is not a fraction above 0, at most 1", cl.PoolMax)
		} else if cl.PoolReserved > cl.PoolMax {
			p.add(path+".pool_reserved", "%v is more than pool_max %v", cl.PoolReserved, cl.PoolMax)
		}
		reserved += cl.PoolReserved
	}
	if reserved > 1+1e-9 {
		p.add("classes", "the pool_reserved fractions add up to %.2f; together they may reserve at most the whole pool (1)", reserved)
	}
	for i, u := range c.Users {
		path := fmt.Sprintf("users[%d]", i)
		if _, ok := names[u.Class]; u.Class != "" && !ok {
			p.add(path+".class", "%q is not a class in this file", u.Class)
		}
		if u.Rate.Limit < 0 {
			p.add(path+".rate.limit", "must not be negative (0: no bound)")
		}
		if u.Rate.Burst < 0 {
			p.add(path+".rate.burst", "must not be negative")
		}
		notNegative(p, path+".rate.wait", u.Rate.Wait, "no wait")
	}
	shapes := map[string]int{}
	for i, r := range c.RateLimits {
		path := fmt.Sprintf("rate_limits[%d]", i)
		switch j, dup := shapes[r.Digest]; {
		case r.Digest == "":
			p.add(path+".digest", "required: a statement shape as /digests and courierctl top show it")
		case dup:
			p.add(path+".digest", "is also rate_limits[%d]'s", j)
		default:
			shapes[r.Digest] = i
		}
		if r.Limit <= 0 {
			p.add(path+".limit", "must be above 0 (statements a second)")
		}
		if r.Burst < 0 {
			p.add(path+".burst", "must not be negative")
		}
		notNegative(p, path+".wait", r.Wait, "no wait")
	}
}
