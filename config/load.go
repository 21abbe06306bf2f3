package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// Defaults, applied by Parse to keys the file does not set.
const (
	defaultListen                = "127.0.0.1:3307"
	defaultAdmin                 = "127.0.0.1:9104"
	defaultMaxConnections        = 4096
	defaultMaxPacketSize         = 1 << 30
	defaultMaxPreparedStatements = 1024
	defaultMaxUnauthenticated    = 256
	defaultHandshakeTimeout      = 5 * time.Second
	defaultPacketTimeout         = 30 * time.Second
	defaultQueryTimeout          = 10 * time.Minute
	defaultAddressFailures       = 10
	defaultUserFailures          = 100
	defaultThrottleWindow        = time.Minute
	defaultThrottleBlock         = time.Minute
	defaultIdleClientTimeout     = 8 * time.Hour
	defaultDDLTimeout            = 24 * time.Hour
	defaultAccess                = "ddl"
	defaultPlanCache             = 64 << 20
	defaultMergeMemory           = 256 << 20
	defaultLogLevel              = "info"
	defaultLogFormat             = "json"
	defaultSlowQuery             = time.Second
	defaultWeight                = 1
	defaultPoolMaxOpen           = 256
	defaultPoolMaxIdle           = 64
	defaultPoolIdleTimeout       = 5 * time.Minute
	defaultPoolConnectTimeout    = 2 * time.Second
	defaultPoolWaitTimeout       = 5 * time.Second
	defaultConsistency           = "causal"
	defaultReads                 = "replicas"
	defaultMaxReplicaLag         = 5 * time.Second
	defaultFallback              = "primary"
	defaultCheckInterval         = time.Second
	defaultWarmup                = 30 * time.Second
	defaultCausalWait            = 200 * time.Millisecond
)

// Load reads the YAML file at path and returns it parsed and validated.
// Every problem in the returned error is prefixed with path.
//
// Environment variables override the file's settings that are not in a
// list: COURIER_ and the key's path in upper case with "_" for "." —
// COURIER_LISTEN, COURIER_ADMIN, COURIER_ADMIN_TOKEN,
// COURIER_LIMITS_MAX_CONNECTIONS, COURIER_LOG_LEVEL, ... (users, clusters
// and the sharding tables come from the file).
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err // *fs.PathError already names the file
	}
	c, err := parse(data, os.LookupEnv)
	if err != nil {
		return nil, prefixEach(path, err)
	}
	return c, nil
}

// Parse decodes YAML, applies defaults and validates. The error joins
// (errors.Join) every problem found, one per line, each naming its key.
// If some value cannot be decoded at all, only decoding problems and unknown
// keys are reported, because validating half-decoded values would mislead.
func Parse(data []byte) (*Config, error) { return parse(data, nil) }

// parse is Parse with the environment's overrides read by env (nil:
// none).
func parse(data []byte, env func(string) (string, bool)) (*Config, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, errors.Join(fmt.Errorf("invalid YAML: %w", err))
	}

	problems := unknownKeys(v.AllSettings())
	if env != nil {
		problems = append(problems, envOverrides(v, reflect.TypeFor[Config](), "", env)...)
	}

	// Sizes may be written with a unit ("64MiB"); turn them into bytes
	// before decoding so the struct keeps plain ints.
	for _, sizeKey := range []string{"limits.max_packet_size", "limits.plan_cache", "limits.merge_memory"} {
		if s, ok := v.Get(sizeKey).(string); ok {
			n, err := parseSize(s)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %w", sizeKey, err))
				n = defaultMaxPacketSize // keep the decoder from reporting it twice
			}
			v.Set(sizeKey, n)
		}
	}

	var c Config
	var md mapstructure.Metadata
	err := v.Unmarshal(&c, func(dc *mapstructure.DecoderConfig) {
		dc.Metadata = &md
		// Unknown keys are reported by unknownKeys above with their full
		// path and a suggestion; ErrorUnused would name only the parent
		// and stop the decoder from recording which keys were set.
		dc.ErrorUnused = false
		dc.WeaklyTypedInput = false // `password: 0123` must not become "83"
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			checkDurationHook,
			mapstructure.StringToTimeDurationHookFunc(),
			checkIntHook,
			checkListHook,
		)
	})
	if err != nil {
		problems = append(problems, decodeProblems(err)...)
		return nil, errors.Join(problems...)
	}

	set := make(map[string]bool, len(md.Keys))
	for _, k := range md.Keys {
		set[k] = true
	}
	c.applyDefaults(set)

	if err := c.Validate(); err != nil {
		problems = append(problems, unjoin(err)...)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return &c, nil
}

// envOverrides sets in v every key of t (a struct; its paths under
// prefix) outside a list whose environment variable env has: COURIER_
// and the path in upper case, "_" for ".". Values are read as the key's
// type.
func envOverrides(v *viper.Viper, t reflect.Type, prefix string, env func(string) (string, bool)) []error {
	var problems []error
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		if tag == "" || strings.Contains(tag, ",") {
			continue
		}
		path := strings.TrimPrefix(prefix+"."+tag, ".")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != durationType {
			problems = append(problems, envOverrides(v, ft, path, env)...)
			continue
		}
		if ft.Kind() == reflect.Slice {
			continue
		}
		name := "COURIER_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
		s, ok := env(name)
		if !ok {
			continue
		}
		var val any = s
		var err error
		switch ft.Kind() {
		case reflect.Int:
			if path == "limits.max_packet_size" || path == "limits.plan_cache" || path == "limits.merge_memory" {
				break // sizes may say "64MiB"
			}
			val, err = strconv.Atoi(s)
		case reflect.Bool:
			val, err = strconv.ParseBool(s)
		case reflect.Float64:
			val, err = strconv.ParseFloat(s, 64)
		}
		if err != nil {
			problems = append(problems, fmt.Errorf("%s (from $%s): %q is not a %s", path, name, s, ft.Kind()))
			continue
		}
		v.Set(path, val)
	}
	return problems
}

// applyDefaults fills in every key absent from set, the full key paths
// ("clusters[0].pool.max_idle") the file gave a value. Presence, not zero,
// decides, so `slow_query: 0`, `weight: 0` and `admin: ""` keep their meaning.
func (c *Config) applyDefaults(set map[string]bool) {
	def(set, "listen", &c.Listen, defaultListen)
	def(set, "admin", &c.Admin, defaultAdmin)
	if strings.EqualFold(c.Admin, "off") {
		c.Admin = ""
	}

	def(set, "limits.max_connections", &c.Limits.MaxConnections, defaultMaxConnections)
	def(set, "limits.max_packet_size", &c.Limits.MaxPacketSize, defaultMaxPacketSize)
	def(set, "limits.max_prepared_statements", &c.Limits.MaxPreparedStatements, defaultMaxPreparedStatements)
	def(set, "limits.max_unauthenticated", &c.Limits.MaxUnauthenticated, defaultMaxUnauthenticated)
	def(set, "limits.handshake_timeout", &c.Limits.HandshakeTimeout, defaultHandshakeTimeout)
	def(set, "limits.packet_timeout", &c.Limits.PacketTimeout, defaultPacketTimeout)
	def(set, "limits.query_timeout", &c.Limits.QueryTimeout, defaultQueryTimeout)
	def(set, "limits.idle_client_timeout", &c.Limits.IdleClientTimeout, defaultIdleClientTimeout)
	def(set, "limits.drain_timeout", &c.Limits.DrainTimeout, 30*time.Second)
	def(set, "limits.ddl_timeout", &c.Limits.DDLTimeout, defaultDDLTimeout)
	def(set, "limits.plan_cache", &c.Limits.PlanCache, defaultPlanCache)
	def(set, "limits.merge_memory", &c.Limits.MergeMemory, defaultMergeMemory)

	def(set, "login_throttle.address_failures", &c.LoginThrottle.AddressFailures, defaultAddressFailures)
	def(set, "login_throttle.user_failures", &c.LoginThrottle.UserFailures, defaultUserFailures)
	def(set, "login_throttle.window", &c.LoginThrottle.Window, defaultThrottleWindow)
	def(set, "login_throttle.block", &c.LoginThrottle.Block, defaultThrottleBlock)

	def(set, "consistency", &c.Consistency, defaultConsistency)
	def(set, "causal_scope", &c.CausalScope, "user")
	def(set, "log.level", &c.Log.Level, defaultLogLevel)
	def(set, "log.format", &c.Log.Format, defaultLogFormat)
	for i := range c.Users {
		if c.Users[i].Access == "" {
			c.Users[i].Access = defaultAccess
		}
	}
	def(set, "log.slow_query", &c.Log.SlowQuery, defaultSlowQuery)
	c.Log.Level = strings.ToLower(c.Log.Level)
	c.Log.Format = strings.ToLower(c.Log.Format)
	c.clusterDefaults(set)
	c.shardingDefaults(set)
	c.classDefaults(set)
}

// classDefaults fills in the classes' and users' rate keys that are absent.
func (c *Config) classDefaults(set map[string]bool) {
	for i := range c.Classes {
		cl := &c.Classes[i]
		p := fmt.Sprintf("classes[%d]", i)
		def(set, p+".queue", &cl.Queue, 1000)
		def(set, p+".queue_timeout", &cl.QueueTimeout, time.Second)
		def(set, p+".pool_max", &cl.PoolMax, 1.0)
	}
	for i := range c.Users {
		if r := &c.Users[i].Rate; r.Burst == 0 && r.Limit > 0 {
			r.Burst = max(1, int(r.Limit))
		}
	}
	for i := range c.RateLimits {
		if r := &c.RateLimits[i]; r.Burst == 0 && r.Limit > 0 {
			r.Burst = max(1, int(r.Limit))
		}
	}
}

// clusterDefaults fills in the clusters' absent keys (see applyDefaults).
func (c *Config) clusterDefaults(set map[string]bool) {
	for i := range c.Clusters {
		cl := &c.Clusters[i]
		p := fmt.Sprintf("clusters[%d]", i)
		def(set, p+".pool.max_open", &cl.Pool.MaxOpen, defaultPoolMaxOpen)
		def(set, p+".pool.max_idle", &cl.Pool.MaxIdle, defaultPoolMaxIdle)
		def(set, p+".pool.idle_timeout", &cl.Pool.IdleTimeout, defaultPoolIdleTimeout)
		def(set, p+".pool.connect_timeout", &cl.Pool.ConnectTimeout, defaultPoolConnectTimeout)
		def(set, p+".pool.wait_timeout", &cl.Pool.WaitTimeout, defaultPoolWaitTimeout)
		def(set, p+".breaker.open_for", &cl.Breaker.OpenFor, 5*time.Second)

		def(set, p+".primary.weight", &cl.Primary.Weight, defaultWeight)
		def(set, p+".replication.reads", &cl.Replication.Reads, defaultReads)
		def(set, p+".replication.max_replica_lag", &cl.Replication.MaxReplicaLag, defaultMaxReplicaLag)
		def(set, p+".replication.fallback", &cl.Replication.Fallback, defaultFallback)
		def(set, p+".replication.check_interval", &cl.Replication.CheckInterval, defaultCheckInterval)
		def(set, p+".replication.warmup", &cl.Replication.Warmup, defaultWarmup)
		def(set, p+".replication.heartbeat", &cl.Replication.Heartbeat, true)
		def(set, p+".replication.causal_wait", &cl.Replication.CausalWait, defaultCausalWait)
		if cl.Primary.Name == "" && cl.Name != "" {
			cl.Primary.Name = cl.Name + "-primary"
		}
		for j := range cl.Replicas {
			r := &cl.Replicas[j]
			def(set, fmt.Sprintf("%s.replicas[%d].weight", p, j), &r.Weight, defaultWeight)
			if r.Name == "" && cl.Name != "" {
				r.Name = fmt.Sprintf("%s-replica%d", cl.Name, j+1)
			}
		}
	}
}

// shardingDefaults fills in the sharding section's absent keys.
func (c *Config) shardingDefaults(set map[string]bool) {
	if sh := c.Sharding; sh != nil {
		def(set, "sharding.multi_shard_transactions", &sh.MultiShardTransactions, "reject")
		def(set, "sharding.max_merge_rows", &sh.MaxMergeRows, 1_000_000)
		def(set, "sharding.sequence_block", &sh.SequenceBlock, 1000)
		for i := range sh.Tables {
			t := &sh.Tables[i]
			p := fmt.Sprintf("sharding.tables[%d]", i)
			def(set, p+".type", &t.Type, "sharded")
			def(set, p+".key_type", &t.KeyType, "int")
			def(set, p+".function", &t.Function, "hash")
			for j := range t.Indexes {
				ix := &t.Indexes[j]
				q := fmt.Sprintf("%s.indexes[%d]", p, j)
				def(set, q+".table", &ix.Table, strings.ToLower(t.Name+"_by_"+ix.Column))
				def(set, q+".key_type", &ix.KeyType, "int")
				def(set, q+".sharded", &ix.Sharded, true)
			}
		}
	}
	if c.DefaultCluster == "" && len(c.Clusters) == 1 {
		c.DefaultCluster = c.Clusters[0].Name
	}
}

// def sets *dst to v unless the file set key.
func def[T any](set map[string]bool, key string, dst *T, v T) {
	if !set[key] {
		*dst = v
	}
}

// unjoin returns the errors inside an errors.Join, or err itself.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// prefixEach puts path in front of every joined problem, so each line of the
// message names the file.
func prefixEach(path string, err error) error {
	errs := unjoin(err)
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = fmt.Errorf("%s: %w", path, e)
	}
	return errors.Join(out...)
}
