package proxy_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/testbed"
)

// Bounds of the hung-backend tests.
const (
	hungQueryTimeout   = 2 * time.Second
	hungConnectTimeout = time.Second
	// hungBound is the longest a statement may wait on a hung backend:
	// the query timeout, then a KILL QUERY that cannot connect.
	hungBound = hungQueryTimeout + hungConnectTimeout + time.Second
)

// newHungEnv starts a primary with one replica for one test and a
// Courier with short timeouts in front of them.
func newHungEnv(t *testing.T) *rwEnv {
	t.Helper()
	dir := t.TempDir()
	lc := testbed.ClusterT(t, dir, 1, 1)
	cfg := testbed.Config(lc)
	cfg.Limits.QueryTimeout = hungQueryTimeout
	cl := &cfg.Clusters[0]
	cl.Pool.ConnectTimeout = hungConnectTimeout
	cl.Replicas = []config.Backend{{Name: "replica1", Address: lc.Replicas(0)[0].Addr, Weight: 1}}
	cl.Replication.CheckInterval = 200 * time.Millisecond
	cl.Replication.Warmup = 0
	e := &env{t: t, courier: testbed.StartT(t, cfg), schema: "rw"}
	admin := e.open(lc.DSN(lc.Primary(0), ""))
	mustExec(t, admin, "CREATE DATABASE rw")
	mustExec(t, admin, "CREATE TABLE rw.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB")
	mustExec(t, admin, "INSERT INTO rw.t VALUES (1, 1)")
	re := &rwEnv{env: e, lc: lc, dir: dir}
	re.waitReplicated()
	return re
}

// freeze stops one of the test's own servers with SIGSTOP (by the PID
// localcluster recorded for it) and continues it when the test ends.
func (e *rwEnv) freeze(inst localcluster.Instance) {
	e.t.Helper()
	e.t.Cleanup(func() { _ = localcluster.Kill(e.dir, inst.Name, syscall.SIGCONT) })
	if err := localcluster.Kill(e.dir, inst.Name, syscall.SIGSTOP); err != nil {
		e.t.Fatal(err)
	}
}

// readLoop reads id 1 through db until stop, recording each read's time
// and the ports that served it; failures and slow reads are reported.
func readLoop(t *testing.T, db *sql.DB, stop <-chan struct{}, slow time.Duration) (ports map[string]int, wait func()) {
	ports = map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				var v int
				var port string
				err := db.QueryRow("SELECT v, @@port FROM t WHERE id = 1").Scan(&v, &port)
				if d := time.Since(start); d > slow {
					t.Errorf("a read took %s (bound %s): %v", d, slow, err)
				}
				if err != nil || v != 1 {
					t.Errorf("read: %d, %v", v, err)
					return
				}
				mu.Lock()
				ports[port]++
				mu.Unlock()
			}
		}()
	}
	return ports, wg.Wait
}

// TestHungPrimary: with the primary frozen (SIGSTOP: it accepts
// connections and never answers), writes fail within the query timeout
// with 1317 (a statement sent) or 2003 (the primary cannot be reached),
// while the replica stays in rotation and serves every read at once, for
// sessions open before and logins after.
func TestHungPrimary(t *testing.T) {
	e := newHungEnv(t)
	writes := e.proxied("")
	writes.SetMaxOpenConns(1)
	mustExec(t, writes, "INSERT INTO t VALUES (2, 2)") // the session holds a primary connection
	reads := e.proxied("")
	reads.SetMaxOpenConns(2)
	reads.SetMaxIdleConns(2)
	if got := servedBy(t, reads, 10)[e.port(e.lc.Replicas(0)[0])]; got != 10 {
		t.Fatalf("%d of 10 reads on the replica before the freeze", got)
	}

	e.freeze(e.lc.Primary(0))
	stop := make(chan struct{})
	// Reads never wait for the primary: one that tried it would fail.
	ports, wait := readLoop(t, reads, stop, hungBound)
	var left atomic.Bool
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if !e.status("replica1").InRotation {
				left.Store(true)
			}
		}
	}()

	for i := range 4 {
		start := time.Now()
		_, err := writes.Exec(fmt.Sprintf("INSERT INTO t VALUES (%d, 0)", 10+i))
		took := time.Since(start)
		var me *mysql.MySQLError
		switch {
		case !errors.As(err, &me):
			t.Fatalf("write %d with the primary frozen: %v", i, err)
		case me.Number == 1317:
			wantMySQLError(t, err, 1317, "70100")
		default:
			wantMySQLError(t, err, 2003, "HY000")
		}
		t.Logf("write %d: %s after %s", i, me, took.Round(time.Millisecond))
		if took > hungBound {
			t.Fatalf("write %d took %s, bound %s", i, took, hungBound)
		}
	}
	// A new session logs in with its schema and reads from the replica.
	start := time.Now()
	fresh := e.proxied("")
	if got := queryString(t, fresh, "SELECT @@port"); got != e.port(e.lc.Replicas(0)[0]) {
		t.Fatalf("a new session read from port %s", got)
	}
	if d := time.Since(start); d > hungBound {
		t.Fatalf("a login and a read took %s with the primary frozen", d)
	}
	close(stop)
	wait()
	t.Logf("reads while the primary was frozen: %v", ports)
	if left.Load() {
		t.Fatal("the replica left rotation while its primary was frozen")
	}
	if ports[e.port(e.lc.Replicas(0)[0])] == 0 {
		t.Fatal("no read served by the replica")
	}
}

// TestHungReplica: with the replica frozen, no read waits longer than the
// query timeout and a failed KILL: reads caught on it are retried on the
// primary, and once the check takes it out of rotation reads go to the
// primary at once.
func TestHungReplica(t *testing.T) {
	e := newHungEnv(t)
	reads := e.proxied("")
	reads.SetMaxOpenConns(2)
	reads.SetMaxIdleConns(2)
	if got := servedBy(t, reads, 10)[e.port(e.lc.Replicas(0)[0])]; got != 10 {
		t.Fatalf("%d of 10 reads on the replica before the freeze", got)
	}
	e.freeze(e.lc.Replicas(0)[0])
	stop := make(chan struct{})
	ports, wait := readLoop(t, reads, stop, hungBound)
	waitFor(t, 3*time.Second, "the frozen replica to leave rotation", func() bool { return !e.status("replica1").InRotation })
	time.Sleep(hungBound) // reads caught on the replica finish
	close(stop)
	wait()
	primary := e.port(e.lc.Primary(0))
	t.Logf("reads: %v", ports)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 20 {
		start := time.Now()
		var port string
		if err := reads.QueryRowContext(ctx, "SELECT @@port").Scan(&port); err != nil || port != primary {
			t.Fatalf("read with the replica out of rotation: port %s, %v", port, err)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Fatalf("read with the replica out of rotation took %s", d)
		}
	}
}
