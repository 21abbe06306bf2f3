package clients

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/testbed"
)

// cluster is three clusters, each a primary with a GTID replica: the
// first two are Courier's shards, the third's primary is the one MariaDB
// the transcripts are compared with.
var cluster *localcluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(testbed.Main(m, 3, 1, func(c *localcluster.Cluster) { cluster = c }))
}

// schema is the delivery schema's tables the scenarios use, with the
// index table of orders' global index on user_id.
var schema = []string{
	`CREATE TABLE orders (
	  order_id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL, merchant_id BIGINT NOT NULL,
	  rider_id BIGINT NULL, city_id INT NOT NULL,
	  status ENUM('placed','accepted','picked_up','delivered','cancelled') NOT NULL,
	  total_cents INT NOT NULL, created_at DATETIME(3) NOT NULL, KEY idx_user (user_id)) ENGINE=InnoDB`,
	`CREATE TABLE order_items (
	  order_id BIGINT NOT NULL, line_no INT NOT NULL, item VARCHAR(100) NOT NULL, qty INT NOT NULL,
	  price_cents INT NOT NULL, PRIMARY KEY (order_id, line_no)) ENGINE=InnoDB`,
	`CREATE TABLE orders_by_user_id (user_id BIGINT NOT NULL, order_id BIGINT NOT NULL,
	  PRIMARY KEY (user_id, order_id)) ENGINE=InnoDB`,
}

// env is Courier over shards 0 and 1 and the single MariaDB (cluster 2),
// each with database db and the schema.
type env struct {
	t       *testing.T
	db      string
	courier *testbed.Courier
}

var (
	envOnce sync.Once
	cfg     *config.Config
	envErr  error
)

// newEnv starts Courier in front of the shards for the test, with the
// tables created (once for the package) on every shard and on the single
// server.
func newEnv(t *testing.T) *env {
	t.Helper()
	testbed.Require(t)
	envOnce.Do(func() {
		for i := range 3 {
			db, err := sql.Open("mysql", cluster.DSN(cluster.Primary(i), ""))
			if err != nil {
				envErr = err
				return
			}
			defer db.Close()
			for _, q := range append([]string{"DROP DATABASE IF EXISTS delivery", "CREATE DATABASE delivery", "USE delivery"}, schema...) {
				if i == 2 && strings.Contains(q, "orders_by_user_id") {
					continue // the single server has no index table
				}
				if _, err := db.Exec(q); err != nil {
					envErr = fmt.Errorf("s%d: %s: %w", i, q, err)
					return
				}
			}
		}
		var b strings.Builder
		b.WriteString("listen: 127.0.0.1:0\nadmin: \"\"\nusers: [{name: app, password: app}]\nclusters:\n")
		for i := range 2 {
			fmt.Fprintf(&b, "  - name: s%d\n    user: %s\n    password: %s\n    primary: {address: %q}\n    replicas: [{address: %q}]\n    replication: {check_interval: 200ms, warmup: 0s}\n",
				i, cluster.Spec.User, cluster.Spec.Password, cluster.Primary(i).Addr, cluster.Replicas(i)[0].Addr)
		}
		b.WriteString(`default_cluster: s0
sharding:
  shards: [{range: "-80", cluster: s0}, {range: "80-", cluster: s1}]
  tables:
    - {name: orders, key: order_id, indexes: [{column: user_id}]}
    - {name: order_items, key: order_id}
`)
		cfg, envErr = config.Parse([]byte(b.String()))
	})
	if envErr != nil {
		t.Fatal(envErr)
	}
	return &env{t: t, db: "delivery", courier: testbed.StartT(t, cfg)}
}

// courierDSN and directDSN are a go-sql-driver DSN through Courier and
// to the single server, with extra parameters.
func (e *env) courierDSN(params string) string {
	return e.courier.DSN("app", "app", e.db, params)
}

func (e *env) directDSN(params string) string {
	dsn := cluster.DSN(cluster.Primary(2), e.db)
	if params != "" {
		if strings.Contains(dsn, "?") {
			dsn += "&" + params
		} else {
			dsn += "?" + params
		}
	}
	return dsn
}

// compare runs scenario against Courier and the single server and
// checks the two transcripts are the same.
func compare(t *testing.T, scenario func(dsn string, tr *transcript) error, params string) {
	e := newEnv(t)
	var viaCourier, direct transcript
	if err := scenario(e.courierDSN(params), &viaCourier); err != nil {
		t.Fatalf("through Courier: %v\ntranscript so far:\n%s", err, viaCourier.String())
	}
	if err := scenario(e.directDSN(params), &direct); err != nil {
		t.Fatalf("on one MariaDB: %v\ntranscript so far:\n%s", err, direct.String())
	}
	if a, b := viaCourier.String(), direct.String(); a != b {
		t.Fatalf("the transcripts differ\nthrough Courier:\n%s\non one MariaDB:\n%s", a, b)
	}
	if len(viaCourier.lines) < 10 {
		t.Fatalf("a short transcript:\n%s", viaCourier.String())
	}
	if len(direct.refusals) > 0 {
		t.Fatalf("one MariaDB refused: %v", direct.refusals)
	}
	t.Logf("%d steps, the same through Courier and on one MariaDB", len(viaCourier.lines))
	for _, r := range viaCourier.refusals {
		t.Logf("refused by Courier, as documented: %s", r)
	}
}

// transcript is what a client saw, a line a step; refusals are the
// statements Courier answered with 1235 (a construct it does not run),
// which the scenario then writes another way, as an application would.
type transcript struct {
	mu       sync.Mutex
	lines    []string
	refusals []string
}

// refused records that a step was answered with err: a 1235 is a
// refusal the matrix records; any other error is the scenario's failure.
func (tr *transcript) refused(step string, err error) error {
	var me *mysql.MySQLError
	if err == nil {
		return nil
	}
	if !errors.As(err, &me) || me.Number != 1235 {
		return fmt.Errorf("%s: %w", step, err)
	}
	tr.mu.Lock()
	tr.refusals = append(tr.refusals, step+": "+me.Message)
	tr.mu.Unlock()
	return nil
}

func (tr *transcript) add(format string, args ...any) {
	tr.mu.Lock()
	tr.lines = append(tr.lines, fmt.Sprintf(format, args...))
	tr.mu.Unlock()
}

func (tr *transcript) String() string { return strings.Join(tr.lines, "\n") }
