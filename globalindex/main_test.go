package globalindex

import (
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/layout"
	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/router/vindex"
	"github.com/courier-proxy/courier/testbed"
)

// cluster is the package's four MariaDB primaries, one per shard, started
// once by TestMain when integration tests run.
var cluster *localcluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(testbed.Main(m, 4, 0, func(c *localcluster.Cluster) { cluster = c }))
}

// env is one test's schema on every shard, with the configuration that
// describes it.
type env struct {
	t      *testing.T
	cfg    *config.Config
	schema *router.Schema
	db     string
	shards []*sql.DB // by cluster index: s0..s3
}

// testYAML shards orders and order_items over four clusters; orders has a
// sharded non-unique index (user_id), an unsharded one on default_cluster
// (rider_id) and a unique string one (code); order_items has an index on
// sku although its key is not unique.
const testYAML = `
listen: 127.0.0.1:0
admin: ""
users: [{name: app, password: app}]
clusters:
  - {name: s0, user: %[1]s, password: %[2]s, primary: {address: "%[3]s"}}
  - {name: s1, user: %[1]s, password: %[2]s, primary: {address: "%[4]s"}}
  - {name: s2, user: %[1]s, password: %[2]s, primary: {address: "%[5]s"}}
  - {name: s3, user: %[1]s, password: %[2]s, primary: {address: "%[6]s"}}
default_cluster: s0
sharding:
  shards:
    - {range: "-40", cluster: s0}
    - {range: "40-80", cluster: s1}
    - {range: "80-c0", cluster: s2}
    - {range: "c0-", cluster: s3}
  tables:
    - name: orders
      key: order_id
      indexes:
        - {column: user_id}
        - {column: rider_id, sharded: false}
        - {column: code, unique: true, key_type: string}
    - name: order_items
      key: order_id
      indexes: [{column: sku, key_type: string}]
`

func newEnv(t *testing.T) *env {
	t.Helper()
	if cluster == nil {
		testbed.Require(t)
		t.Skip("no cluster")
	}
	cfg, err := config.Parse([]byte(fmt.Sprintf(testYAML, cluster.Spec.User, cluster.Spec.Password,
		cluster.Primary(0).Addr, cluster.Primary(1).Addr, cluster.Primary(2).Addr, cluster.Primary(3).Addr)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := layout.Schema(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, cfg: cfg, schema: s, db: "t_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))}
	for i := range 4 {
		admin := e.open(cluster.DSN(cluster.Primary(i), ""))
		e.exec(admin, "DROP DATABASE IF EXISTS "+e.db)
		e.exec(admin, "CREATE DATABASE "+e.db)
		e.shards = append(e.shards, e.open(cluster.DSN(cluster.Primary(i), e.db)))
	}
	for _, db := range e.shards {
		e.exec(db, "CREATE TABLE orders (order_id BIGINT NOT NULL PRIMARY KEY, user_id INT NULL, "+
			"rider_id BIGINT UNSIGNED NULL, code VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL, status VARCHAR(10))")
		e.exec(db, "CREATE TABLE order_items (order_id BIGINT NOT NULL, item_no INT NOT NULL, "+
			"sku VARCHAR(20) CHARACTER SET ascii COLLATE ascii_bin, PRIMARY KEY (order_id, item_no))")
	}
	return e
}

func (e *env) open(dsn string) *sql.DB {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	return db
}

func (e *env) exec(db *sql.DB, q string, args ...any) sql.Result {
	e.t.Helper()
	r, err := db.Exec(q, args...)
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return r
}

// shardOf is the index of the cluster (s0..s3) that owns value v of a
// column hashed as type kt, computed with the router's vindex and topology.
func (e *env) shardOf(kt vindex.KeyType, v vindex.Value) int {
	id, err := vindex.Hash{}.Map(kt, v)
	if err != nil {
		e.t.Fatal(err)
	}
	name := e.schema.Topo.Shard(id).Cluster
	return int(name[1] - '0')
}

// order is one row of orders; nil fields are NULL.
type order struct {
	id     int64
	user   *int64
	rider  *uint64
	code   *string
	status string
}

// orders makes n orders with a spread of values and some NULLs.
func orders(n int) []order {
	var out []order
	for i := int64(1); i <= int64(n); i++ {
		o := order{id: i * 7919 % 1000003, status: "placed"}
		if i%41 != 0 {
			u := i % 97
			o.user = &u
		}
		if i%3 != 0 {
			r := uint64(i % 13)
			o.rider = &r
		}
		if i%10 != 0 {
			c := fmt.Sprintf("C%06d", i)
			o.code = &c
		}
		out = append(out, o)
	}
	return out
}

// load inserts orders directly on the shards that own them.
func (e *env) load(rows []order) {
	e.t.Helper()
	byShard := map[int][]string{}
	for _, o := range rows {
		s := e.shardOf(vindex.Int, vindex.IntValue(o.id))
		byShard[s] = append(byShard[s], fmt.Sprintf("(%d, %s, %s, %s, '%s')", o.id, sqlNum(o.user), sqlNum(o.rider), sqlStr(o.code), o.status))
	}
	for s, vals := range byShard {
		for len(vals) > 0 {
			n := min(500, len(vals))
			e.exec(e.shards[s], "INSERT INTO orders (order_id, user_id, rider_id, code, status) VALUES "+strings.Join(vals[:n], ", "))
			vals = vals[n:]
		}
	}
}

func sqlNum[T int64 | uint64](p *T) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprint(*p)
}

func sqlStr(p *string) string {
	if p == nil {
		return "NULL"
	}
	return "'" + *p + "'"
}

// openIndex opens the index on table.column for the test.
func (e *env) openIndex(table, column string) *Index {
	e.t.Helper()
	x, err := Open(e.cfg, e.db, table, column)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { x.Close() })
	return x
}

// count runs a COUNT(*) query on a shard.
func (e *env) count(s int, q string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.shards[s].QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}
