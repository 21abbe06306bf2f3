package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"
)

const examplePath = "../testdata/courier.example.yaml"

// baseYAML is the smallest useful file: one user, one cluster with a replica.
const baseYAML = `
users:
  - {name: app, password: app}
clusters:
  - name: main
    user: courier
    password: courier
    primary: {address: "127.0.0.1:3406"}
    replicas:
      - {address: "127.0.0.1:3407"}
`

func mustParse(t *testing.T, yaml string) *Config {
	t.Helper()
	c, err := Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// checkProblems asserts that err holds exactly len(want) problems and that
// each want substring (a key path plus some wording) is in its own problem.
func checkProblems(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error:\n%v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error; want problems %q", want)
	}
	got := unjoin(err)
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(got), len(want), err)
	}
	used := make([]bool, len(got))
next:
	for _, w := range want {
		for i, g := range got {
			if !used[i] && strings.Contains(g.Error(), w) {
				used[i] = true
				continue next
			}
		}
		t.Errorf("no problem contains %q in:\n%v", w, err)
	}
}

func TestExampleFile(t *testing.T) {
	c, err := Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Listen:         "127.0.0.1:3307",
		Admin:          "127.0.0.1:9104",
		AuthPlugin:     "mysql_native_password",
		Consistency:    "causal",
		CausalScope:    "user",
		DefaultCluster: "main",
		Limits: Limits{
			MaxConnections:        4096,
			MaxUnauthenticated:    256,
			MaxPacketSize:         64 << 20,
			MaxPreparedStatements: 1024,
			HandshakeTimeout:      5 * time.Second,
			PacketTimeout:         30 * time.Second,
			QueryTimeout:          10 * time.Minute,
			DDLTimeout:            24 * time.Hour,
			PlanCache:             64 << 20,
			MergeMemory:           256 << 20,
			IdleClientTimeout:     8 * time.Hour,
			DrainTimeout:          30 * time.Second,
		},
		LoginThrottle: testThrottle,
		Log:           Log{Level: "info", Format: "console", SlowQuery: time.Second},
		Users:         []User{{Name: "app", Password: "app", Schemas: []string{"delivery"}, AllowHints: true, Access: "ddl", Class: "critical"}},
		Classes:       []Class{{Name: "critical", Queue: 1000, QueueTimeout: time.Second, PoolReserved: 0.5, PoolMax: 1}},
		RateLimits:    []ShapeRate{{Digest: "SELECT COUNT(*) FROM orders WHERE status = ?", Limit: 50, Burst: 10}},
		Clusters: []Cluster{{
			Name:     "main",
			User:     "courier",
			Password: "courier",
			Pool: Pool{
				MaxOpen:        256,
				MaxIdle:        64,
				IdleTimeout:    5 * time.Minute,
				ConnectTimeout: 2 * time.Second,
				WaitTimeout:    5 * time.Second,
			},
			Primary: Backend{Name: "main-primary", Address: "127.0.0.1:3406", Weight: 1},
			Replicas: []Backend{
				{Name: "main-replica1", Address: "127.0.0.1:3407", Weight: 1},
				{Name: "main-replica2", Address: "127.0.0.1:3408", Weight: 1},
			},
			Replication: testReplication,
			Breaker:     Breaker{OpenFor: 5 * time.Second},
		}},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("example parsed as\n%+v\nwant\n%+v", c, want)
	}
}

// TestExampleFileShowsEveryKey keeps the example complete as keys are added.
func TestExampleFileShowsEveryKey(t *testing.T) {
	v := viper.New()
	v.SetConfigFile(examplePath)
	if err := v.ReadInConfig(); err != nil {
		t.Fatal(err)
	}
	skip := map[string]bool{
		"clusters[0].primary.weight": true, // a replica setting
		"users[0].password_hash":     true, // shown commented out: one of password or password_hash
		"sharding":                   true, // optional: testdata/courier.sharded.yaml shows it
	}
	var walk func(m map[string]any, typ reflect.Type, path string)
	walk = func(m map[string]any, typ reflect.Type, path string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			key := f.Tag.Get("mapstructure")
			p := strings.TrimPrefix(path+"."+key, ".")
			val, ok := m[key]
			if !ok {
				if !skip[p] {
					t.Errorf("example file lacks key %q", p)
				}
				continue
			}
			switch {
			case f.Type.Kind() == reflect.Struct:
				sub, _ := val.(map[string]any)
				walk(sub, f.Type, p)
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				list, _ := val.([]any)
				if len(list) == 0 {
					t.Errorf("example file has no item under %q", p)
					continue
				}
				first, _ := list[0].(map[string]any)
				walk(first, f.Type.Elem(), p+"[0]")
			}
		}
	}
	walk(v.AllSettings(), reflect.TypeFor[Config](), "")
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, baseYAML)
	want := &Config{
		Listen:         "127.0.0.1:3307",
		Admin:          "127.0.0.1:9104",
		ServerVersion:  "",
		DefaultCluster: "main",
		Consistency:    "causal",
		CausalScope:    "user",
		Limits: Limits{
			MaxConnections:        4096,
			MaxUnauthenticated:    256,
			MaxPacketSize:         1 << 30,
			MaxPreparedStatements: 1024,
			HandshakeTimeout:      5 * time.Second,
			PacketTimeout:         30 * time.Second,
			QueryTimeout:          10 * time.Minute,
			DDLTimeout:            24 * time.Hour,
			PlanCache:             64 << 20,
			MergeMemory:           256 << 20,
			IdleClientTimeout:     8 * time.Hour,
			DrainTimeout:          30 * time.Second,
		},
		LoginThrottle: testThrottle,
		Log:           Log{Level: "info", Format: "json", SlowQuery: time.Second},
		Users:         []User{{Name: "app", Password: "app", Access: "ddl"}},
		Clusters: []Cluster{{
			Name:     "main",
			User:     "courier",
			Password: "courier",
			Pool: Pool{
				MaxOpen:        256,
				MaxIdle:        64,
				IdleTimeout:    5 * time.Minute,
				ConnectTimeout: 2 * time.Second,
				QueryTimeout:   0,
				WaitTimeout:    5 * time.Second,
			},
			Primary:     Backend{Name: "main-primary", Address: "127.0.0.1:3406", Weight: 1},
			Replicas:    []Backend{{Name: "main-replica1", Address: "127.0.0.1:3407", Weight: 1}},
			Replication: testReplication,
			Breaker:     Breaker{OpenFor: 5 * time.Second},
		}},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got\n%+v\nwant\n%+v", c, want)
	}
}

// TestExplicitValues checks that a value the file sets wins over the
// default, including zeros and empty strings that mean something.
func TestExplicitValues(t *testing.T) {
	tests := []struct {
		name  string
		extra string // YAML appended to baseYAML's top level
		check func(*Config) any
		want  any
	}{
		{"admin empty disables", `admin: ""`, func(c *Config) any { return c.Admin }, ""},
		{"admin off disables", `admin: "off"`, func(c *Config) any { return c.Admin }, ""},
		{"admin address", `admin: ":9999"`, func(c *Config) any { return c.Admin }, ":9999"},
		{"slow_query zero disables", "log: {slow_query: 0}", func(c *Config) any { return c.Log.SlowQuery }, time.Duration(0)},
		{"slow_query null is default", "log: {slow_query: }", func(c *Config) any { return c.Log.SlowQuery }, time.Second},
		{"log level upper case", "log: {level: DEBUG}", func(c *Config) any { return c.Log.Level }, "debug"},
		{"packet size bytes", "limits: {max_packet_size: 4096}", func(c *Config) any { return c.Limits.MaxPacketSize }, 4096},
		{"packet size MiB", "limits: {max_packet_size: 16MiB}", func(c *Config) any { return c.Limits.MaxPacketSize }, 16 << 20},
		{"packet size M", `limits: {max_packet_size: "512K"}`, func(c *Config) any { return c.Limits.MaxPacketSize }, 512 << 10},
		{"prepared statements zero", "limits: {max_prepared_statements: 0}", func(c *Config) any { return c.Limits.MaxPreparedStatements }, 0},
		{"idle client timeout zero", "limits: {idle_client_timeout: 0s}", func(c *Config) any { return c.Limits.IdleClientTimeout }, time.Duration(0)},
		{"query timeout", "limits: {query_timeout: 1m30s}", func(c *Config) any { return c.Limits.QueryTimeout }, 90 * time.Second},
		{"query timeout zero means none", "limits: {query_timeout: 0s}", func(c *Config) any { return c.Limits.QueryTimeout }, time.Duration(0)},
		{"unauthenticated", "limits: {max_unauthenticated: 16}", func(c *Config) any { return c.Limits.MaxUnauthenticated }, 16},
		{"packet timeout", "limits: {packet_timeout: 5s}", func(c *Config) any { return c.Limits.PacketTimeout }, 5 * time.Second},
		{"throttle off", "login_throttle: {address_failures: 0, user_failures: 0}", func(c *Config) any { return c.LoginThrottle },
			LoginThrottle{Window: time.Minute, Block: time.Minute}},
		{"throttle", "login_throttle: {address_failures: 3, user_failures: 20, window: 10s, block: 5m}", func(c *Config) any { return c.LoginThrottle },
			LoginThrottle{AddressFailures: 3, UserFailures: 20, Window: 10 * time.Second, Block: 5 * time.Minute}},
		{"server version", `server_version: "8.0.36-courier"`, func(c *Config) any { return c.ServerVersion }, "8.0.36-courier"},
		{"tls", "tls: {cert: c.pem, key: k.pem, require: true}", func(c *Config) any { return c.TLS }, TLS{Cert: "c.pem", Key: "k.pem", Require: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, baseYAML+tt.extra+"\n")
			if got := tt.check(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestExplicitClusterValues(t *testing.T) {
	c := mustParse(t, `
users: [{name: app, password_hash: "*5BCB3E6AC345B435C7C2E6B7949A04CE6F6563D3", schemas: [a, b]}]
clusters:
  - name: main
    user: courier
    pool: {max_open: 8, max_idle: 0, idle_timeout: 0, wait_timeout: 0s, query_timeout: 3s}
    primary: {name: db1, address: "[::1]:3306", weight: 0}
    replicas:
      - {address: "db2.example:3306", weight: 0}
      - {name: db3.example, address: "db3.example:3306", weight: 3}
`)
	cl := c.Cluster("main")
	wantPool := Pool{MaxOpen: 8, MaxIdle: 0, IdleTimeout: 0, ConnectTimeout: 2 * time.Second, QueryTimeout: 3 * time.Second, WaitTimeout: 0}
	if cl.Pool != wantPool {
		t.Errorf("pool = %+v, want %+v", cl.Pool, wantPool)
	}
	wantBackends := []Backend{
		{Name: "db1", Address: "[::1]:3306", Weight: 0},
		{Name: "main-replica1", Address: "db2.example:3306", Weight: 0},
		{Name: "db3.example", Address: "db3.example:3306", Weight: 3},
	}
	if got := append([]Backend{cl.Primary}, cl.Replicas...); !reflect.DeepEqual(got, wantBackends) {
		t.Errorf("backends = %+v, want %+v", got, wantBackends)
	}
	if u := c.User("app"); u.PasswordHash == "" || u.Password != "" || !reflect.DeepEqual(u.Schemas, []string{"a", "b"}) {
		t.Errorf("user = %+v", u)
	}
}

func TestLookup(t *testing.T) {
	c := mustParse(t, baseYAML)
	if cl := c.Cluster("main"); cl == nil || cl.Name != "main" {
		t.Errorf("Cluster(main) = %v", cl)
	}
	if cl := c.Cluster("Main"); cl != nil {
		t.Errorf("Cluster(Main) = %v, want nil", cl)
	}
	if u := c.User("app"); u == nil || u.Name != "app" {
		t.Errorf("User(app) = %v", u)
	}
	if u := c.User("nobody"); u != nil {
		t.Errorf("User(nobody) = %v, want nil", u)
	}
	if c.Cluster("main") != &c.Clusters[0] {
		t.Error("Cluster must point into the snapshot")
	}
}

var testThrottle = LoginThrottle{AddressFailures: 10, UserFailures: 100, Window: time.Minute, Block: time.Minute}

var testReplication = Replication{Reads: "replicas", MaxReplicaLag: 5 * time.Second, Fallback: "primary",
	CheckInterval: time.Second, Warmup: 30 * time.Second, Heartbeat: true, CausalWait: 200 * time.Millisecond}

// TestValidate breaks one rule at a time in an otherwise valid config.
func TestValidate(t *testing.T) {
	second := Cluster{
		Name: "other", User: "u", Pool: Pool{MaxOpen: 1, ConnectTimeout: time.Second},
		Primary:     Backend{Name: "other-primary", Address: "10.0.0.1:3306", Weight: 1},
		Replication: testReplication,
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // substrings, one per expected problem
	}{
		{"valid", func(*Config) {}, nil},
		{"listen missing port", func(c *Config) { c.Listen = "127.0.0.1" },
			[]string{`listen: "127.0.0.1" is not host:port (missing port)`}},
		{"listen empty", func(c *Config) { c.Listen = "" }, []string{"listen: required"}},
		{"listen any interface and port", func(c *Config) { c.Listen = ":0" }, nil},
		{"admin named port", func(c *Config) { c.Admin = "localhost:http" }, []string{`admin: "localhost:http" has port "http"`}},
		{"admin off", func(c *Config) { c.Admin = "off" }, nil},
		{"server version", func(c *Config) { c.ServerVersion = "courier" }, []string{"server_version:"}},
		{"consistency", func(c *Config) { c.Consistency = "strong" }, []string{`consistency: "strong" is not a mode`}},
		{"user consistency", func(c *Config) { c.Users[0].Consistency = "x" }, []string{"users[0].consistency:"}},
		{"fallback", func(c *Config) { c.Clusters[0].Replication.Fallback = "none" }, []string{"clusters[0].replication.fallback:"}},
		{"reads", func(c *Config) { c.Clusters[0].Replication.Reads = "any" }, []string{"clusters[0].replication.reads:"}},
		{"lag", func(c *Config) { c.Clusters[0].Replication.MaxReplicaLag = 0 }, []string{"clusters[0].replication.max_replica_lag:"}},
		{"tls cert without key", func(c *Config) { c.TLS.Cert = "c.pem" }, []string{"tls.key: missing"}},
		{"tls key without cert", func(c *Config) { c.TLS.Key = "k.pem" }, []string{"tls.cert: missing"}},
		{"tls require without files", func(c *Config) { c.TLS.Require = true }, []string{"tls.require: needs tls.cert"}},
		{"max connections", func(c *Config) { c.Limits.MaxConnections = 0 }, []string{"limits.max_connections:"}},
		{"packet size small", func(c *Config) { c.Limits.MaxPacketSize = 100 }, []string{"limits.max_packet_size:"}},
		{"packet size large", func(c *Config) { c.Limits.MaxPacketSize = 2 << 30 }, []string{"limits.max_packet_size:"}},
		{"prepared statements", func(c *Config) { c.Limits.MaxPreparedStatements = -1 }, []string{"limits.max_prepared_statements:"}},
		{"handshake timeout zero", func(c *Config) { c.Limits.HandshakeTimeout = 0 }, []string{"limits.handshake_timeout:"}},
		{"unauthenticated zero", func(c *Config) { c.Limits.MaxUnauthenticated = 0 }, []string{"limits.max_unauthenticated: 0; must be at least 1"}},
		{"packet timeout zero", func(c *Config) { c.Limits.PacketTimeout = 0 }, []string{"limits.packet_timeout:"}},
		{"address failures negative", func(c *Config) { c.LoginThrottle.AddressFailures = -1 }, []string{"login_throttle.address_failures: -1"}},
		{"user failures negative", func(c *Config) { c.LoginThrottle.UserFailures = -1 }, []string{"login_throttle.user_failures: -1"}},
		{"throttle window zero", func(c *Config) { c.LoginThrottle.Window = 0 }, []string{"login_throttle.window:"}},
		{"throttle block zero", func(c *Config) { c.LoginThrottle.Block = 0 }, []string{"login_throttle.block:"}},
		{"query timeout negative", func(c *Config) { c.Limits.QueryTimeout = -time.Second }, []string{"limits.query_timeout: -1s is negative"}},
		{"idle client timeout negative", func(c *Config) { c.Limits.IdleClientTimeout = -1 }, []string{"limits.idle_client_timeout:"}},
		{"log level", func(c *Config) { c.Log.Level = "verbose" }, []string{`log.level: "verbose" is not a level`}},
		{"log format", func(c *Config) { c.Log.Format = "text" }, []string{`log.format: "text"`}},
		{"slow query negative", func(c *Config) { c.Log.SlowQuery = -time.Second }, []string{"log.slow_query:"}},
		{"no users", func(c *Config) { c.Users = nil }, []string{"users: none defined"}},
		{"user without name", func(c *Config) { c.Users[0].Name = "" }, []string{"users[0].name: required"}},
		{"duplicate user", func(c *Config) { c.Users = append(c.Users, c.Users[0]) }, []string{`users[1].name: "app" is also users[0]`}},
		{"password and hash", func(c *Config) { c.Users[0].PasswordHash = "*5BCB3E6AC345B435C7C2E6B7949A04CE6F6563D3" },
			[]string{"users[0]: set exactly one of password or password_hash"}},
		{"no password", func(c *Config) { c.Users[0].Password = "" }, []string{"users[0]: set exactly one of password or password_hash"}},
		{"hash lower case", func(c *Config) {
			c.Users[0].Password, c.Users[0].PasswordHash = "", "*5bcb3e6ac345b435c7c2e6b7949a04ce6f6563d3"
		}, []string{"users[0].password_hash: must be"}},
		{"hash without star", func(c *Config) {
			c.Users[0].Password, c.Users[0].PasswordHash = "", "5BCB3E6AC345B435C7C2E6B7949A04CE6F6563D3"
		}, []string{"users[0].password_hash:"}},
		{"empty schema", func(c *Config) { c.Users[0].Schemas = []string{"a", ""} }, []string{"users[0].schemas[1]: empty"}},
		{"schema twice", func(c *Config) { c.Users[0].Schemas = []string{"a", "a"} }, []string{`users[0].schemas[1]: "a" is listed twice`}},
		{"no clusters", func(c *Config) { c.Clusters = nil }, []string{"clusters: none defined"}},
		{"cluster without name", func(c *Config) { c.Clusters[0].Name, c.DefaultCluster = "", "" },
			[]string{"clusters[0].name: required", "default_cluster: required"}},
		{"cluster name characters", func(c *Config) { c.Clusters[0].Name, c.DefaultCluster = "main db", "main db" },
			[]string{`clusters[0].name: "main db" may use only`}},
		{"duplicate cluster", func(c *Config) {
			dup := second
			dup.Name = "main"
			c.Clusters = append(c.Clusters, dup)
		}, []string{`clusters[1].name: "main" is also clusters[0]`}},
		{"cluster without user", func(c *Config) { c.Clusters[0].User = "" }, []string{"clusters[0].user: required"}},
		{"missing primary", func(c *Config) { c.Clusters[0].Primary.Address = "" }, []string{"clusters[0].primary.address: missing"}},
		{"primary missing port", func(c *Config) { c.Clusters[0].Primary.Address = "127.0.0.1" },
			[]string{`clusters[0].primary.address: "127.0.0.1" is not host:port (missing port)`}},
		{"primary port zero", func(c *Config) { c.Clusters[0].Primary.Address = "127.0.0.1:0" },
			[]string{`clusters[0].primary.address: "127.0.0.1:0" has port "0"; use a number from 1 to 65535`}},
		{"replica port too large", func(c *Config) { c.Clusters[0].Replicas[0].Address = "h:65536" },
			[]string{"clusters[0].replicas[0].address:"}},
		{"replica without host", func(c *Config) { c.Clusters[0].Replicas[0].Address = ":3306" },
			[]string{`clusters[0].replicas[0].address: ":3306" has no host`}},
		{"replica unbracketed ipv6", func(c *Config) { c.Clusters[0].Replicas[0].Address = "::1:3306" },
			[]string{`clusters[0].replicas[0].address: "::1:3306" is not host:port (too many colons)`}},
		{"replica without address", func(c *Config) { c.Clusters[0].Replicas[0].Address = "" },
			[]string{"clusters[0].replicas[0].address: required"}},
		{"replica same address as primary", func(c *Config) { c.Clusters[0].Replicas[0].Address = "127.0.0.1:3406" },
			[]string{`clusters[0].replicas[0].address: "127.0.0.1:3406" is also clusters[0].primary`}},
		{"replica negative weight", func(c *Config) { c.Clusters[0].Replicas[0].Weight = -1 },
			[]string{"clusters[0].replicas[0].weight:"}},
		{"backend name characters", func(c *Config) { c.Clusters[0].Replicas[0].Name = "a b" },
			[]string{"clusters[0].replicas[0].name:"}},
		{"backend name used in another cluster", func(c *Config) {
			other := second
			other.Replicas = []Backend{{Name: "main-replica1", Address: "10.0.0.2:3306", Weight: 1}}
			c.Clusters = append(c.Clusters, other)
		}, []string{`clusters[1].replicas[0].name: "main-replica1" is also clusters[0].replicas[0]`}},
		{"max_open zero", func(c *Config) { c.Clusters[0].Pool.MaxOpen = 0 }, []string{"clusters[0].pool.max_open:"}},
		{"max_idle above max_open", func(c *Config) { c.Clusters[0].Pool.MaxIdle = 300 },
			[]string{"clusters[0].pool.max_idle: 300 is more than max_open 256"}},
		{"max_idle negative", func(c *Config) { c.Clusters[0].Pool.MaxIdle = -1 }, []string{"clusters[0].pool.max_idle:"}},
		{"pool idle timeout negative", func(c *Config) { c.Clusters[0].Pool.IdleTimeout = -1 }, []string{"clusters[0].pool.idle_timeout:"}},
		{"pool connect timeout zero", func(c *Config) { c.Clusters[0].Pool.ConnectTimeout = 0 }, []string{"clusters[0].pool.connect_timeout:"}},
		{"pool query timeout negative", func(c *Config) { c.Clusters[0].Pool.QueryTimeout = -1 }, []string{"clusters[0].pool.query_timeout:"}},
		{"pool wait timeout negative", func(c *Config) { c.Clusters[0].Pool.WaitTimeout = -1 }, []string{"clusters[0].pool.wait_timeout:"}},
		{"default cluster unknown", func(c *Config) { c.DefaultCluster = "nope" }, []string{`default_cluster: "nope" is not a cluster`}},
		{"default cluster needed", func(c *Config) {
			c.Clusters = append(c.Clusters, second)
			c.DefaultCluster = ""
		}, []string{`default_cluster: required with 2 clusters; set it to one of "main", "other"`}},
		{"default cluster second", func(c *Config) {
			c.Clusters = append(c.Clusters, second)
			c.DefaultCluster = "other"
		}, nil},
		{"everything at once", func(c *Config) {
			c.Listen = "nope"
			c.Log.Level = "loud"
			c.Users[0].Password = ""
			c.Clusters[0].Primary.Address = "127.0.0.1"
			c.Clusters[0].Pool.MaxIdle = 1000
		}, []string{"listen:", "log.level:", "users[0]:", "clusters[0].primary.address:", "clusters[0].pool.max_idle:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, baseYAML)
			tt.mutate(c)
			checkProblems(t, c.Validate(), tt.want)
		})
	}
}

// TestParseProblems covers what only the file can get wrong: unknown keys,
// types, units and values that defaults then judge.
func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown top-level key", baseYAML + "bogus: 1\n", []string{`unknown key "bogus"; keys allowed here: listen,`}},
		{"misspelt top-level key", baseYAML + "listn: ':1'\n", []string{`unknown key "listn"; did you mean "listen"?`}},
		{"misspelt nested key", baseYAML + "limits: {max_conections: 5}\n",
			[]string{`unknown key "limits.max_conections"; did you mean "max_connections"?`}},
		{"misspelt key in list item", `
users: [{name: app, password: app}]
clusters:
  - name: main
    user: courier
    primry: {address: "127.0.0.1:3406"}
`, []string{`unknown key "clusters[0].primry"; did you mean "primary"?`, "clusters[0].primary.address: missing"}},
		{"unknown key in replica", baseYAML + "      - {address: 'h:1', wieght: 2}\n",
			[]string{`unknown key "clusters[0].replicas[1].wieght"`}},
		{"duration without unit", baseYAML + "limits: {handshake_timeout: 10}\n",
			[]string{`limits.handshake_timeout: 10 has no unit; write a duration like "10s"`}},
		{"bad duration", baseYAML + "log: {slow_query: soon}\n", []string{`log.slow_query: "soon" is not a duration`}},
		{"negative duration", baseYAML + "limits: {query_timeout: -5s}\n", []string{"limits.query_timeout: -5s is negative"}},
		{"bad size", baseYAML + "limits: {max_packet_size: 64XB}\n", []string{`limits.max_packet_size: "64XB" is not a size`}},
		{"size too small", baseYAML + "limits: {max_packet_size: 1}\n", []string{"limits.max_packet_size: 1 bytes"}},
		{"fraction for int", baseYAML + "limits: {max_connections: 1.5}\n", []string{"limits.max_connections: 1.5 is not a whole number"}},
		{"text for int", baseYAML + "limits: {max_connections: many}\n", []string{"limits.max_connections: expected a whole number, got text"}},
		{"number for password", `
users: [{name: app, password: 1234}]
clusters: [{name: main, user: courier, primary: {address: "h:1"}}]
`, []string{"users[0].password: expected text, got a number; put the value in quotes"}},
		{"scalar for list", `
users: [{name: app, password: app, schemas: delivery}]
clusters: [{name: main, user: courier, primary: {address: "h:1"}}]
`, []string{"users[0].schemas: expected a list, got text; write it as [delivery]"}},
		{"mapping for list", `
users: {name: app, password: app}
clusters: [{name: main, user: courier, primary: {address: "h:1"}}]
`, []string{"users: expected a list, got a mapping"}},
		{"type errors and unknown keys together", baseYAML + "limits: {max_connections: x}\nlisn: 1\n",
			[]string{"limits.max_connections:", `unknown key "lisn"`}},
		{"two clusters need default_cluster", baseYAML + `  - {name: other, user: u, primary: {address: "h:1"}}` + "\n",
			[]string{"default_cluster: required with 2 clusters"}},
		{"default_cluster names no cluster", baseYAML + "default_cluster: mian\n", []string{`default_cluster: "mian" is not a cluster`}},
		{"max_idle above max_open", `
users: [{name: app, password: app}]
clusters: [{name: main, user: courier, primary: {address: "h:1"}, pool: {max_open: 10}}]
`, []string{"clusters[0].pool.max_idle: 64 is more than max_open 10"}},
		{"explicit empty listen", baseYAML + "listen: ''\n", []string{"listen: required"}},
		{"explicit zero weight is fine", baseYAML + "      - {address: 'h:1', weight: 0}\n", nil},
		{"duplicate default backend name", baseYAML + "      - {name: main-primary, address: 'h:1'}\n",
			[]string{`clusters[0].replicas[1].name: "main-primary" is also clusters[0].primary`}},
		{"empty file", "", []string{"users: none defined", "clusters: none defined"}},
		{"invalid YAML", "users: [\n", []string{"invalid YAML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml))
			checkProblems(t, err, tt.want)
			if err != nil && c != nil {
				t.Error("Parse returned a config with an error")
			}
		})
	}
}

func TestParseNeverEchoesPasswords(t *testing.T) {
	_, err := Parse([]byte(`
users: [{name: app, password: 987654321}]
clusters: [{name: main, user: courier, password: [s3cret], primary: {address: "h:1"}}]
`))
	if err == nil {
		t.Fatal("want errors")
	}
	for _, secret := range []string{"987654321", "s3cret"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows a password:\n%v", err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(baseYAML+"listen: nope\nlog: {level: loud}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(bad)
	checkProblems(t, err, []string{bad + ": listen:", bad + ": log.level:"})

	missing := filepath.Join(dir, "missing.yaml")
	_, err = Load(missing)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(missing) = %v; want fs.ErrNotExist naming the file", err)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"1024", 1024, true},
		{"64MiB", 64 << 20, true},
		{"64M", 64 << 20, true},
		{"64 mb", 64 << 20, true},
		{"512KiB", 512 << 10, true},
		{"1GiB", 1 << 30, true},
		{"1g", 1 << 30, true},
		{"10B", 10, true},
		{"", 0, false},
		{"MiB", 0, false},
		{"1.5GiB", 0, false},
		{"-1", 0, false},
		{"64XB", 0, false},
		{"99999999999999999999GiB", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("parseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestShardedExample(t *testing.T) {
	c, err := Load("../testdata/courier.sharded.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sh := c.Sharding
	if sh == nil || len(sh.Shards) != 2 || len(sh.Tables) != 3 || !sh.ScatterWrites {
		t.Fatalf("sharding section: %+v", sh)
	}
	if tb := sh.Tables[0]; tb.Name != "orders" || tb.Type != "sharded" || tb.Key != "order_id" ||
		tb.KeyType != "int" || tb.Function != "hash" {
		t.Fatalf("orders: %+v", tb)
	}
	wantIdx := []GlobalIndex{
		{Column: "user_id", Table: "orders_by_user_id", KeyType: "int", Sharded: true},
		{Column: "rider_id", Table: "orders_by_rider_id", KeyType: "int", Sharded: true},
		{Column: "merchant_id", Table: "orders_by_merchant_id", KeyType: "int", Sharded: true},
	}
	if got := sh.Tables[0].Indexes; !reflect.DeepEqual(got, wantIdx) {
		t.Fatalf("orders indexes: %+v", got)
	}
	if sh.Tables[2].Type != "reference" {
		t.Fatalf("cities: %+v", sh.Tables[2])
	}
}

func TestShardingValidation(t *testing.T) {
	base := `
users: [{name: app, password: app}]
clusters:
  - {name: s0, user: u, password: p, primary: {address: "127.0.0.1:1"}}
  - {name: s1, user: u, password: p, primary: {address: "127.0.0.1:2"}}
default_cluster: s0
sharding:
`
	tests := map[string]string{
		"gap":                       "  shards: [{range: \"-40\", cluster: s0}, {range: \"80-\", cluster: s1}]",
		"bad range":                 "  shards: [{range: \"zz\", cluster: s0}]",
		"bad cluster":               "  shards: [{range: \"-\", cluster: nope}]",
		"no key":                    "  shards: [{range: \"-\", cluster: s0}]\n  tables: [{name: orders}]",
		"bad type":                  "  shards: [{range: \"-\", cluster: s0}]\n  tables: [{name: orders, key: id, type: weird}]",
		"bad func":                  "  shards: [{range: \"-\", cluster: s0}]\n  tables: [{name: orders, key: id, function: md5}]",
		"unsharded without cluster": "  tables: [{name: payments, type: unsharded}]",
		"unsharded on no cluster":   "  tables: [{name: payments, type: unsharded, cluster: nope}]",
		"unsharded with a key":      "  tables: [{name: payments, type: unsharded, cluster: s1, key: id}]",
		"sharded on a cluster":      "  shards: [{range: \"-\", cluster: s0}]\n  tables: [{name: orders, key: id, cluster: s1}]",
		"no shards for a sharded":   "  tables: [{name: payments, type: unsharded, cluster: s1}, {name: orders, key: id}]",
		"unsharded with a sequence": "  tables: [{name: payments, type: unsharded, cluster: s1, sequence: seq}]",
		"unsharded with an index":   "  tables: [{name: payments, type: unsharded, cluster: s1, indexes: [{column: user_id}]}]",
		"a sequence moved":          "  shards: [{range: \"-\", cluster: s0}]\n  tables: [{name: orders, key: id, sequence: seq}, {name: seq, type: unsharded, cluster: s1}]",
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse([]byte(base + body)); err == nil || !strings.Contains(err.Error(), "sharding.") {
				t.Fatalf("got %v", err)
			}
		})
	}
	if _, err := Parse([]byte(base + "  shards: [{range: \"-80\", cluster: s0}, {range: \"80-\", cluster: s1}]\n  tables: [{name: orders, key: order_id}]")); err != nil {
		t.Fatal(err)
	}
	// A vertical split alone needs no shards.
	c, err := Parse([]byte(base + "  tables: [{name: payments, type: unsharded, cluster: s1}]"))
	if err != nil {
		t.Fatal(err)
	}
	if tb := c.Sharding.Tables[0]; tb.Type != "unsharded" || tb.Cluster != "s1" {
		t.Fatalf("payments: %+v", tb)
	}
}

// TestEnvironment: COURIER_ variables override the file's settings
// outside lists, read as the keys' types; a bad value is named with its
// variable.
func TestEnvironment(t *testing.T) {
	env := map[string]string{
		"COURIER_LISTEN":                 "0.0.0.0:3307",
		"COURIER_ADMIN":                  "0.0.0.0:9104",
		"COURIER_LIMITS_MAX_CONNECTIONS": "77",
		"COURIER_LIMITS_PLAN_CACHE":      "8MiB",
		"COURIER_LIMITS_QUERY_TIMEOUT":   "9s",
		"COURIER_TLS_REQUIRE":            "false",
		"COURIER_USERS_0_NAME":           "ignored: lists come from the file",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, err := parse([]byte(baseYAML), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:3307" || c.Admin != "0.0.0.0:9104" || c.Limits.MaxConnections != 77 ||
		c.Limits.PlanCache != 8<<20 || c.Limits.QueryTimeout != 9*time.Second || c.Users[0].Name != "app" {
		t.Fatalf("%+v", c)
	}
	env["COURIER_LIMITS_MAX_CONNECTIONS"] = "many"
	if _, err := parse([]byte(baseYAML), lookup); err == nil || !strings.Contains(err.Error(), "limits.max_connections (from $COURIER_LIMITS_MAX_CONNECTIONS)") {
		t.Fatalf("a bad value: %v", err)
	}
}
