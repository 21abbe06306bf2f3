package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/testbed"
)

// env is everything the benchmark starts, all on 127.0.0.1 under one
// temporary directory: a one-primary MariaDB cluster (with two replicas
// when courier-rw runs), the relay and Courier in front of it, and, for
// the sharded subjects, a cluster of four shards (with a replica each when
// courier-sharded-rw runs) with sharding Couriers in front. With
// --baseline, every Courier has a twin running the baseline binary. Its
// owner calls close exactly once, also after a failed setup.
type env struct {
	dir       string
	cluster   *localcluster.Cluster // the main cluster: direct, relay, courier, courier-rw
	clusters  []string              // directories of every cluster started
	children  []*child              // relay and Couriers, in start order
	subjects  map[string]*subjectEnv
	bin       string     // Courier built from the working tree
	base      *baseline  // Courier built from --baseline; nil without
	worktrees []worktree // git worktrees added and not removed yet
}

// courierBin is the binary that serves subject: the baseline's for a
// twin.
func (e *env) courierBin(subject string) string {
	if _, ok := ofTwin(subject); ok {
		return e.base.bin
	}
	return e.bin
}

// subjectEnv is where sysbench connects for one subject and the processes
// that serve it.
type subjectEnv struct {
	port   int
	db     string // schema sysbench uses
	proxy  *child // nil for direct
	mysqld []int  // the mariadbd processes answering it: the primary, or every shard's
	// For a sharded subject: the shard primaries, of cluster shardsOf.
	shards   []localcluster.Instance
	shardsOf *localcluster.Cluster
	admin    string // Courier's admin HTTP address (host:port), "" when it has none
	// replicasOf, when not nil, is the cluster whose replicas the
	// subject's Courier reads from; they are waited for before each run.
	replicasOf *localcluster.Cluster
}

// begin checks that MariaDB is installed and makes the run's directory.
func (e *env) begin(ctx context.Context, prefix string, logw io.Writer) error {
	if err := localcluster.EnsureMariaDB(ctx, logw); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return err
	}
	e.dir = dir
	e.subjects = map[string]*subjectEnv{}
	return nil
}

// setup starts the main cluster, creates the sysbench account and schema,
// and starts the relay and the Couriers that o.Subjects asks for.
func (e *env) setup(ctx context.Context, o options, logw io.Writer) error {
	if err := e.begin(ctx, "courier-bench-", logw); err != nil {
		return err
	}
	if err := e.build(ctx, o, logw); err != nil {
		return err
	}
	replicas := 0
	if slices.Contains(o.Subjects, subjectCourierRW) {
		replicas = 2
	}
	fmt.Fprintf(logw, "bench: starting MariaDB (1 primary, %d replicas) in %s\n", replicas, e.dir)
	var err error
	if e.cluster, err = e.startCluster(ctx, "cluster", 1, replicas, logw); err != nil {
		return err
	}
	primary := e.cluster.Primary(0)
	e.subjects[subjectDirect] = &subjectEnv{port: primary.Port, db: sbDB, mysqld: []int{primary.PID}}
	if err := createSysbenchUser(ctx, e.cluster, primary, sbDB); err != nil {
		return err
	}
	if slices.Contains(o.Subjects, subjectRelay) {
		addr, port, err := freeAddr()
		if err != nil {
			return err
		}
		c, err := startRelay(ctx, e.dir, addr, primary.Addr)
		if err != nil {
			return err
		}
		e.children = append(e.children, c)
		e.subjects[subjectRelay] = &subjectEnv{port: port, db: sbDB, proxy: c, mysqld: []int{primary.PID}}
		fmt.Fprintf(logw, "bench: relay pid %d on %s -> %s\n", c.pid(), addr, primary.Addr)
	}
	if !slices.ContainsFunc(o.Subjects, isCourier) {
		return nil
	}
	for _, s := range o.Subjects {
		name, _ := ofTwin(s)
		if name != subjectCourier && name != subjectCourierRW {
			continue
		}
		set := backendSet{primary: primary.Addr}
		rw := name == subjectCourierRW
		if rw {
			for _, r := range e.cluster.Replicas(0) {
				set.replicas = append(set.replicas, r.Addr)
			}
		}
		cfg := func(listen string) string {
			return courierConfig(listen, "", e.cluster.Spec.User, e.cluster.Spec.Password, []backendSet{set}, "")
		}
		if err := e.startCourier(ctx, s, e.courierBin(s), cfg, []int{primary.PID}, logw); err != nil {
			return err
		}
		if rw {
			e.subjects[s].replicasOf = e.cluster
		}
	}
	if slices.ContainsFunc(o.Subjects, isSharded) {
		return e.setupSharded(ctx, o, logw)
	}
	return nil
}

// build compiles the Couriers the subjects need, before any server
// starts: the working tree's and, with --baseline, the baseline's.
func (e *env) build(ctx context.Context, o options, logw io.Writer) error {
	if !slices.ContainsFunc(o.Subjects, isCourier) {
		return nil
	}
	fmt.Fprintf(logw, "bench: building Courier from %s\n", o.Src)
	var err error
	if e.bin, err = buildCourier(ctx, o.Src, e.dir); err != nil {
		return err
	}
	if o.Baseline != "" {
		b, err := e.buildBaseline(ctx, o.Src, o.Baseline, logw)
		if err != nil {
			return err
		}
		e.base = &b
	}
	return nil
}

// startCluster starts a cluster of shards × (1 primary + replicas) on free
// ports in the work directory's subdirectory name.
func (e *env) startCluster(ctx context.Context, name string, shards, replicas int, logw io.Writer) (*localcluster.Cluster, error) {
	base, err := testbed.FreePorts(shards * (1 + replicas))
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(e.dir, name)
	e.clusters = append(e.clusters, dir)
	return localcluster.Up(ctx, localcluster.Spec{Dir: dir, Shards: shards, Replicas: replicas, BasePort: base}, logw)
}

// startCourier starts Courier for subject on a free port with the
// configuration cfg(listen) in front of the mariadbd processes mysqld.
func (e *env) startCourier(ctx context.Context, subject, bin string, cfg func(listen string) string, mysqld []int, logw io.Writer) error {
	addr, port, err := freeAddr()
	if err != nil {
		return err
	}
	c, err := startCourier(ctx, subject, bin, filepath.Join(e.dir, "subject-"+subject), addr, cfg(addr))
	if err != nil {
		return err
	}
	e.children = append(e.children, c)
	e.subjects[subject] = &subjectEnv{port: port, db: sbDB, proxy: c, mysqld: mysqld}
	fmt.Fprintf(logw, "bench: %s pid %d on %s (config and log in %s)\n", subject, c.pid(), addr, filepath.Dir(c.log))
	return nil
}

// freeAddr returns a free loopback address and its port.
func freeAddr() (string, int, error) {
	port, err := testbed.FreePorts(1)
	if err != nil {
		return "", 0, err
	}
	return "127.0.0.1:" + strconv.Itoa(port), port, nil
}

// createSysbenchUser creates sbtest/sbtest with all privileges and the
// schema db on inst, a primary of c, as the cluster's application user.
func createSysbenchUser(ctx context.Context, c *localcluster.Cluster, inst localcluster.Instance, db string) error {
	conn, err := sql.Open("mysql", c.DSN(inst, ""))
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, q := range []string{
		fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s'", sbUser, sbPassword),
		fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%'", sbUser),
		"CREATE DATABASE IF NOT EXISTS " + db,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create sysbench account on %s: %w", inst.Name, err)
		}
	}
	return nil
}

// serverVersion returns SELECT VERSION() of the main primary.
func (e *env) serverVersion(ctx context.Context) (string, error) {
	var v string
	err := querySubject(ctx, e.subjects[subjectDirect], "SELECT VERSION()", &v)
	return v, err
}

// check logs in to every subject as sysbench will and counts sbtest1's
// rows through it, so that a broken path fails before any measurement.
// Through a sharded subject the rows are counted as they stream in (a
// COUNT(*) over several shards needs a merge) and every shard must hold
// some of them.
func (e *env) check(ctx context.Context, subjects []string, tableSize int, logw io.Writer) error {
	for _, s := range subjects {
		se := e.subjects[s]
		var n int
		var err error
		if se.shards != nil {
			n, err = countRows(ctx, se, "SELECT id FROM sbtest1")
		} else {
			err = querySubject(ctx, se, "SELECT COUNT(*) FROM sbtest1", &n)
		}
		if err != nil {
			return fmt.Errorf("%s preflight (127.0.0.1:%d as %s): %w", s, se.port, sbUser, err)
		}
		if n != tableSize {
			return fmt.Errorf("%s preflight: sbtest1 has %d rows, want %d", s, n, tableSize)
		}
		if se.shards != nil {
			counts, err := shardCounts(ctx, se, "sbtest1")
			if err != nil {
				return fmt.Errorf("%s preflight: %w", s, err)
			}
			fmt.Fprintf(logw, "bench: %s: sbtest1 rows per shard %v\n", s, counts)
		}
	}
	return nil
}

// shardCounts returns the rows of table on each shard primary behind se,
// failing unless every shard holds some.
func shardCounts(ctx context.Context, se *subjectEnv, table string) ([]int, error) {
	var counts []int
	for _, p := range se.shards {
		db, err := sql.Open("mysql", se.shardsOf.DSN(p, se.db))
		if err != nil {
			return nil, err
		}
		var n int
		err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n)
		db.Close()
		if err != nil {
			return nil, fmt.Errorf("%s on %s: %w", table, p.Name, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("shard %s holds no rows of %s", p.Name, table)
		}
		counts = append(counts, n)
	}
	return counts, nil
}

// subjectDB opens a database handle for the sysbench user through se.
func subjectDB(se *subjectEnv) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = sbUser, sbPassword, se.db
	cfg.Net, cfg.Addr = "tcp", "127.0.0.1:"+strconv.Itoa(se.port)
	cfg.Timeout, cfg.ReadTimeout = 5*time.Second, 30*time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(conn), nil
}

// querySubject runs a one-row, one-column query as the sysbench user
// through se.
func querySubject(ctx context.Context, se *subjectEnv, q string, dst any) error {
	db, err := subjectDB(se)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.QueryRowContext(ctx, q).Scan(dst)
}

// countRows runs q through se and counts the rows it returns.
func countRows(ctx context.Context, se *subjectEnv, q string) (int, error) {
	db, err := subjectDB(se)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// close stops the Couriers and the relay, removes a git worktree still
// left, then (unless keep) stops the clusters and removes the work
// directory. It uses its own deadline so
// that it also runs after Ctrl-C.
func (e *env) close(keep bool, logw io.Writer) {
	for _, c := range slices.Backward(e.children) {
		c.stop(10 * time.Second)
	}
	for _, wt := range slices.Clone(e.worktrees) {
		if err := e.removeWorktree(wt); err != nil {
			fmt.Fprintf(logw, "bench: %v; remove it with: git -C %s worktree remove --force %s\n", err, wt.src, wt.dir)
		}
	}
	if e.dir == "" {
		return
	}
	if keep {
		fmt.Fprintf(logw, "bench: --keep: MariaDB still runs; work dir %s\n", e.dir)
		if se := e.subjects[subjectDirect]; se != nil {
			fmt.Fprintf(logw, "bench:   mariadb -h127.0.0.1 -P%d -u%s -p%s %s\n", se.port, sbUser, sbPassword, sbDB)
		}
		for _, dir := range e.clusters {
			fmt.Fprintf(logw, "bench:   stop it with: go run ./cmd/courierctl local down --dir %s\n", dir)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var failed []string
	for _, dir := range e.clusters {
		if err := localcluster.Down(ctx, dir, true); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", dir, err))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(logw, "bench: stopping MariaDB: %s (work dir %s kept)\n", strings.Join(failed, "; "), e.dir)
		return
	}
	if err := os.RemoveAll(e.dir); err != nil {
		fmt.Fprintf(logw, "bench: %v\n", err)
	}
}
