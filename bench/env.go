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
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/testbed"
)

// env is everything the benchmark starts: a one-primary MariaDB cluster,
// the relay and Courier, all on 127.0.0.1, under one temporary directory.
// Its owner calls close exactly once, also after a failed setup.
type env struct {
	dir       string
	cluster   *localcluster.Cluster
	relay     *child
	courier   *child
	courierRW *child
	ports     map[string]int // subject → port sysbench connects to
}

// setup starts the cluster, creates the sysbench account and schema, and
// starts the relay and Courier when o.Subjects asks for them.
func (e *env) setup(ctx context.Context, o options, logw io.Writer) error {
	if err := localcluster.EnsureMariaDB(ctx, logw); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "courier-bench-")
	if err != nil {
		return err
	}
	e.dir = dir
	e.ports = map[string]int{}
	var base int
	replicas := 0
	if slices.Contains(o.Subjects, subjectCourierRW) {
		replicas = 2
	}
	if base, err = testbed.FreePorts(1 + replicas); err != nil {
		return err
	}
	fmt.Fprintf(logw, "bench: starting MariaDB (1 primary, %d replicas) in %s\n", replicas, dir)
	e.cluster, err = localcluster.Up(ctx, localcluster.Spec{Dir: filepath.Join(dir, "cluster"), Shards: 1,
		Replicas: replicas, BasePort: base}, logw)
	if err != nil {
		return err
	}
	primary := e.cluster.Primary(0)
	e.ports[subjectDirect] = primary.Port
	if err := e.createSysbenchUser(ctx); err != nil {
		return err
	}
	proxyBase, err := testbed.FreePorts(3)
	if err != nil {
		return err
	}
	if slices.Contains(o.Subjects, subjectRelay) {
		addr := "127.0.0.1:" + strconv.Itoa(proxyBase)
		if e.relay, err = startRelay(ctx, dir, addr, primary.Addr); err != nil {
			return err
		}
		e.ports[subjectRelay] = proxyBase
		fmt.Fprintf(logw, "bench: relay pid %d on %s -> %s\n", e.relay.pid(), addr, primary.Addr)
	}
	if !slices.Contains(o.Subjects, subjectCourier) && !slices.Contains(o.Subjects, subjectCourierRW) {
		return nil
	}
	fmt.Fprintf(logw, "bench: building Courier from %s\n", o.Src)
	bin, err := buildCourier(ctx, o.Src, dir)
	if err != nil {
		return err
	}
	for i, s := range []string{subjectCourier, subjectCourierRW} {
		if !slices.Contains(o.Subjects, s) {
			continue
		}
		var replicaAddrs []string
		if s == subjectCourierRW {
			for _, r := range e.cluster.Replicas(0) {
				replicaAddrs = append(replicaAddrs, r.Addr)
			}
		}
		addr := "127.0.0.1:" + strconv.Itoa(proxyBase+1+i)
		c, err := startCourier(ctx, bin, filepath.Join(dir, "subject-"+s), addr, primary.Addr, replicaAddrs,
			e.cluster.Spec.User, e.cluster.Spec.Password)
		if err != nil {
			return err
		}
		if s == subjectCourier {
			e.courier = c
		} else {
			e.courierRW = c
		}
		e.ports[s] = proxyBase + 1 + i
		fmt.Fprintf(logw, "bench: %s pid %d on %s -> %s %v (log %s)\n", s, c.pid(), addr, primary.Addr, replicaAddrs, c.log)
	}
	return nil
}

// createSysbenchUser creates sbtest/sbtest with all privileges and the
// sbtest schema on the primary, as the cluster's application user.
func (e *env) createSysbenchUser(ctx context.Context) error {
	db, err := sql.Open("mysql", e.cluster.DSN(e.cluster.Primary(0), ""))
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range []string{
		fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s'", sbUser, sbPassword),
		fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%'", sbUser),
		"CREATE DATABASE IF NOT EXISTS " + sbDB,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create sysbench account: %w", err)
		}
	}
	return nil
}

// mysqldPID is the primary's process id.
func (e *env) mysqldPID() int { return e.cluster.Primary(0).PID }

// serverVersion returns SELECT VERSION() of the primary.
func (e *env) serverVersion(ctx context.Context) (string, error) {
	var v string
	err := querySubject(ctx, e.ports[subjectDirect], "SELECT VERSION()", &v)
	return v, err
}

// check logs in to every subject as sysbench will and counts sbtest1's
// rows through it, so that a broken path fails before any measurement.
func (e *env) check(ctx context.Context, subjects []string, tableSize int) error {
	for _, s := range subjects {
		var n int
		if err := querySubject(ctx, e.ports[s], "SELECT COUNT(*) FROM sbtest1", &n); err != nil {
			return fmt.Errorf("%s preflight (127.0.0.1:%d as %s): %w", s, e.ports[s], sbUser, err)
		}
		if n != tableSize {
			return fmt.Errorf("%s preflight: sbtest1 has %d rows, want %d", s, n, tableSize)
		}
	}
	return nil
}

// querySubject runs a one-row, one-column query as the sysbench user on
// 127.0.0.1:port.
func querySubject(ctx context.Context, port int, q string, dst any) error {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = sbUser, sbPassword, sbDB
	cfg.Net, cfg.Addr = "tcp", "127.0.0.1:"+strconv.Itoa(port)
	cfg.Timeout, cfg.ReadTimeout = 5*time.Second, 30*time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	return db.QueryRowContext(ctx, q).Scan(dst)
}

// close stops Courier and the relay, then (unless keep) the cluster, and
// removes the work directory. It uses its own deadline so that it also
// runs after Ctrl-C.
func (e *env) close(keep bool, logw io.Writer) {
	for _, c := range []*child{e.courier, e.courierRW} {
		if c != nil {
			c.stop(10 * time.Second)
		}
	}
	if e.relay != nil {
		e.relay.stop(5 * time.Second)
	}
	if e.dir == "" {
		return
	}
	if keep {
		fmt.Fprintf(logw, "bench: --keep: MariaDB still runs; work dir %s\n", e.dir)
		if e.cluster != nil {
			fmt.Fprintf(logw, "bench:   mariadb -h127.0.0.1 -P%d -u%s -p%s %s\n", e.ports[subjectDirect], sbUser, sbPassword, sbDB)
		}
		fmt.Fprintf(logw, "bench:   stop it with: go run ./cmd/courierctl local down --dir %s\n", filepath.Join(e.dir, "cluster"))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := localcluster.Down(ctx, filepath.Join(e.dir, "cluster"), true); err != nil {
		fmt.Fprintf(logw, "bench: stopping MariaDB: %v (work dir %s kept)\n", err, e.dir)
		return
	}
	if err := os.RemoveAll(e.dir); err != nil {
		fmt.Fprintf(logw, "bench: %v\n", err)
	}
}
