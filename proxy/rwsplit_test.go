package proxy_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/proxy"
	"github.com/courier-proxy/courier/testbed"
)

// rwEnv is a Courier in front of its own primary with two replicas.
type rwEnv struct {
	*env
	lc  *localcluster.Cluster
	dir string
}

// newRWEnv starts 1 primary + 2 replicas for one test and a Courier that
// splits reads from writes over them.
func newRWEnv(t *testing.T, change func(*config.Config)) *rwEnv {
	t.Helper()
	dir := t.TempDir()
	lc := testbed.ClusterT(t, dir, 1, 2)
	cfg := testbed.Config(lc)
	cl := &cfg.Clusters[0]
	for i, r := range lc.Replicas(0) {
		cl.Replicas = append(cl.Replicas, config.Backend{Name: fmt.Sprintf("replica%d", i+1), Address: r.Addr, Weight: 1})
	}
	cl.Replication.CheckInterval = 200 * time.Millisecond
	cl.Replication.Warmup = 0
	cl.Replication.MaxReplicaLag = 5 * time.Second
	if change != nil {
		change(cfg)
	}
	e := &env{t: t, courier: testbed.StartT(t, cfg), schema: "rw"}
	admin := e.open(lc.DSN(lc.Primary(0), ""))
	mustExec(t, admin, "CREATE DATABASE rw")
	mustExec(t, admin, "CREATE TABLE rw.t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB")
	re := &rwEnv{env: e, lc: lc, dir: dir}
	re.waitReplicated()
	return re
}

// waitReplicated waits until both replicas have the primary's GTID.
func (e *rwEnv) waitReplicated() {
	e.t.Helper()
	p := e.open(e.lc.DSN(e.lc.Primary(0), ""))
	pos := queryString(e.t, p, "SELECT @@gtid_binlog_pos")
	for _, r := range e.lc.Replicas(0) {
		db := e.open(e.lc.DSN(r, ""))
		if got := queryString(e.t, db, "SELECT MASTER_GTID_WAIT('"+pos+"', 20)"); got != "0" {
			e.t.Fatalf("replica %s did not reach %s", r.Name, pos)
		}
	}
}

func (e *rwEnv) port(inst localcluster.Instance) string { return strconv.Itoa(inst.Port) }

// servedBy runs n autocommit reads of @@port and counts them per port.
func servedBy(t testing.TB, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, n int) map[string]int {
	t.Helper()
	count := map[string]int{}
	for range n {
		count[queryString(t, db, "SELECT @@port")]++
	}
	return count
}

func (e *rwEnv) status(name string) proxy.BackendStatus {
	for _, b := range e.courier.Server.Status().Backends {
		if b.Name == name {
			return b
		}
	}
	e.t.Fatalf("no backend %s", name)
	return proxy.BackendStatus{}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out after %s waiting for %s", d, what)
}

// TestReadWriteSplit: autocommit reads spread over the replicas by weight;
// writes, transactions, locking reads and sticky sessions use the primary.
func TestReadWriteSplit(t *testing.T) {
	e := newRWEnv(t, func(c *config.Config) {
		c.Clusters[0].Replicas[0].Weight = 1
		c.Clusters[0].Replicas[1].Weight = 3
	})
	primary, r1, r2 := e.port(e.lc.Primary(0)), e.port(e.lc.Replicas(0)[0]), e.port(e.lc.Replicas(0)[1])
	db := e.proxied("")
	db.SetMaxOpenConns(1)

	got := servedBy(t, db, 400)
	if got[primary] != 0 || got[r1] != 100 || got[r2] != 300 {
		t.Fatalf("400 reads served by %v; want replica1 (port %s) 100, replica2 (port %s) 300, primary 0", got, r1, r2)
	}
	if q1, q2 := e.status("replica1").Queries, e.status("replica2").Queries; q1 < 100 || q2 < 300 {
		t.Fatalf("per-backend query counters: replica1 %d, replica2 %d", q1, q2)
	}

	mustExec(t, db, "INSERT INTO t VALUES (1, 1)")
	direct := e.open(e.lc.DSN(e.lc.Primary(0), "rw"))
	if queryString(t, direct, "SELECT COUNT(*) FROM t") != "1" {
		t.Fatal("write did not reach the primary")
	}

	ctx := context.Background()
	tx, _ := db.BeginTx(ctx, nil)
	for range 10 {
		if p := queryString(t, tx, "SELECT @@port"); p != primary {
			t.Fatalf("read in a transaction served by %s, want the primary %s", p, primary)
		}
	}
	tx.Commit()

	for _, q := range []string{
		"SELECT @@port FROM t WHERE id = 1 FOR UPDATE",
		"SELECT @@port FROM t WHERE id = 1 LOCK IN SHARE MODE",
		"SELECT @@port + 0 * GET_LOCK('x', 0)",
		"SELECT @@port + 0 * LAST_INSERT_ID()",
	} {
		if p := queryString(t, db, q); p != primary {
			t.Fatalf("%s served by %s, want the primary", q, p)
		}
	}

	c, _ := db.Conn(ctx)
	defer c.Close()
	mustExec(t, c, "SET autocommit = 0")
	if p := queryString(t, c, "SELECT @@port"); p != primary {
		t.Fatalf("read with autocommit=0 served by %s", p)
	}
	mustExec(t, c, "COMMIT")
	mustExec(t, c, "SET autocommit = 1")
	mustExec(t, c, "SET @pin = 1") // user variables pin the session to the primary
	for range 5 {
		if p := queryString(t, c, "SELECT @@port"); p != primary {
			t.Fatalf("read after SET @var served by %s", p)
		}
	}
}

// TestRoutingHintsAndConsistencyVariable: hints work only for users
// allowed them; @@courier_consistency = 'primary' keeps reads on the
// primary.
func TestRoutingHintsAndConsistencyVariable(t *testing.T) {
	e := newRWEnv(t, func(c *config.Config) {
		c.Users = append(c.Users, config.User{Name: "hinter", Password: "h", AllowHints: true})
	})
	primary := e.port(e.lc.Primary(0))
	plain := e.proxied("")
	plain.SetMaxOpenConns(1)
	hinter := e.open(e.courier.DSN("hinter", "h", "rw", ""))
	hinter.SetMaxOpenConns(1)
	for range 10 {
		if p := queryString(t, plain, "/* courier:primary */ SELECT @@port"); p == primary {
			t.Fatal("hint honoured for a user without allow_hints")
		}
		if p := queryString(t, hinter, "/* courier:primary */ SELECT @@port"); p != primary {
			t.Fatal("hint ignored for a user with allow_hints")
		}
	}
	mustExec(t, plain, "SET @@courier_consistency = 'primary'")
	if got := servedBy(t, plain, 20); got[primary] != 20 {
		t.Fatalf("with courier_consistency=primary reads went to %v", got)
	}
	mustExec(t, plain, "SET courier_consistency = eventual")
	if got := servedBy(t, plain, 20); got[primary] != 0 {
		t.Fatalf("with courier_consistency=eventual reads went to %v", got)
	}
	_, err := plain.Exec("SET courier_consistency = 'strong'")
	wantMySQLError(t, err, 1231, "42000")
	_, err = plain.Exec("SET courier_consistency = 'causal', autocommit = 1")
	wantMySQLError(t, err, 1235, "42000")
}

// TestReplicaLeavesRotationAndWarmsUp: a replica whose SQL thread stops
// gets no reads within a check interval, and comes back with a share that
// ramps up over the warm-up.
func TestReplicaLeavesRotationAndWarmsUp(t *testing.T) {
	const warmup = 4 * time.Second
	e := newRWEnv(t, func(c *config.Config) { c.Clusters[0].Replication.Warmup = warmup })
	r1 := e.lc.Replicas(0)[0]
	r1db := e.open(e.lc.DSN(r1, ""))
	db := e.proxied("")
	db.SetMaxOpenConns(1)

	mustExec(t, r1db, "STOP SLAVE SQL_THREAD")
	waitFor(t, 2*time.Second, "replica1 to leave rotation", func() bool { return !e.status("replica1").InRotation })
	if got := servedBy(t, db, 100); got[e.port(r1)] != 0 {
		t.Fatalf("replica with a stopped SQL thread still served %d of 100 reads", got[e.port(r1)])
	}

	mustExec(t, r1db, "START SLAVE SQL_THREAD")
	waitFor(t, 2*time.Second, "replica1 to return", func() bool { return e.status("replica1").InRotation })
	early := servedBy(t, db, 200)[e.port(r1)]
	share := e.status("replica1").Share
	time.Sleep(warmup)
	late := servedBy(t, db, 200)[e.port(r1)]
	t.Logf("replica1 served %d/200 reads just back (share %.2f), %d/200 after warm-up", early, share, late)
	if early >= 70 || late < 85 || late > 115 {
		t.Fatalf("slow start: %d/200 reads right after return (want well under 100), %d/200 after warm-up (want about 100)", early, late)
	}
}

// TestCausalReadsSeeOwnWrites: with replication delayed, causal sessions
// always read their own writes; eventual ones demonstrably may not.
func TestCausalReadsSeeOwnWrites(t *testing.T) {
	e := newRWEnv(t, func(c *config.Config) {
		c.Clusters[0].Replication.CausalWait = 5 * time.Millisecond
		c.Clusters[0].Replication.MaxReplicaLag = time.Minute
	})
	for _, r := range e.lc.Replicas(0) {
		rdb := e.open(e.lc.DSN(r, ""))
		mustExec(t, rdb, "STOP SLAVE")
		mustExec(t, rdb, "CHANGE MASTER TO MASTER_DELAY = 2")
		mustExec(t, rdb, "START SLAVE")
	}
	waitFor(t, 3*time.Second, "replicas in rotation", func() bool {
		return e.status("replica1").InRotation && e.status("replica2").InRotation
	})

	eventual := e.proxied("")
	eventual.SetMaxOpenConns(1)
	mustExec(t, eventual, "SET @@courier_consistency = 'eventual'")
	stale := 0
	for i := range 50 {
		mustExec(t, eventual, "INSERT INTO t VALUES (?, ?)", 100000+i, i)
		if queryString(t, eventual, fmt.Sprintf("SELECT COUNT(*) FROM t WHERE id = %d", 100000+i)) == "0" {
			stale++
		}
	}
	if stale == 0 {
		t.Fatal("eventual reads never missed their own write although replication is 2 s behind")
	}
	t.Logf("eventual: %d of 50 reads missed their own write", stale)

	causal := e.proxied("")
	causal.SetMaxOpenConns(1)
	mustExec(t, causal, "SET @@courier_consistency = 'causal'")
	for i := range 1000 {
		mustExec(t, causal, "INSERT INTO t VALUES (?, ?)", i, i)
		if got := queryString(t, causal, fmt.Sprintf("SELECT v FROM t WHERE id = %d", i)); got != strconv.Itoa(i) {
			t.Fatalf("iteration %d: causal read returned %q", i, got)
		}
	}
}

// TestCausalReadsUseReplicasWhenCaughtUp: without delay, causal reads are
// served by replicas once they have applied the write.
func TestCausalReadsUseReplicasWhenCaughtUp(t *testing.T) {
	e := newRWEnv(t, func(c *config.Config) {
		c.Consistency = "causal"
		c.Clusters[0].Replication.CausalWait = 2 * time.Second
	})
	primary := e.port(e.lc.Primary(0))
	db := e.proxied("")
	db.SetMaxOpenConns(1)
	onReplica := 0
	for i := range 50 {
		mustExec(t, db, "INSERT INTO t VALUES (?, ?)", i, i)
		var v, port string
		if err := db.QueryRow(fmt.Sprintf("SELECT v, @@port FROM t WHERE id = %d", i)).Scan(&v, &port); err != nil {
			t.Fatal(err)
		}
		if v != strconv.Itoa(i) {
			t.Fatalf("causal read %d returned %q", i, v)
		}
		if port != primary {
			onReplica++
		}
	}
	if onReplica < 45 {
		t.Fatalf("only %d of 50 causal reads were served by replicas", onReplica)
	}
}

// TestReplicaKilledUnderLoad: kill -9 of a replica under 64 connections
// of reads fails at most the reads in flight on it (those that had not
// started replying are retried), and none after the detection window.
func TestReplicaKilledUnderLoad(t *testing.T) {
	e := newRWEnv(t, nil)
	mustExec(t, e.open(e.lc.DSN(e.lc.Primary(0), "rw")), "INSERT INTO t SELECT seq, seq FROM seq_1_to_1000")
	e.waitReplicated()
	db := e.proxied("")
	db.SetMaxOpenConns(64)
	db.SetMaxIdleConns(64)
	var killedAt atomic.Int64
	var before, after, ok atomic.Int64
	var firstErr atomic.Value
	stop := time.Now().Add(5 * time.Second)
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(stop); i++ {
				var v int
				err := db.QueryRow("SELECT v FROM t WHERE id = ?", 1+(w*37+i)%1000).Scan(&v)
				if err == nil {
					ok.Add(1)
					continue
				}
				firstErr.CompareAndSwap(nil, err.Error())
				if k := killedAt.Load(); k != 0 && time.Since(time.Unix(0, k)) > 500*time.Millisecond {
					after.Add(1)
				} else {
					before.Add(1)
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	killedAt.Store(time.Now().UnixNano())
	if err := localcluster.Kill(e.dir, e.lc.Replicas(0)[0].Name, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	t.Logf("reads: %d ok, %d failed around the kill, %d failed after the detection window (first error: %v)",
		ok.Load(), before.Load(), after.Load(), firstErr.Load())
	if after.Load() != 0 {
		t.Fatalf("%d reads failed after the detection window", after.Load())
	}
	if before.Load() > 64 {
		t.Fatalf("%d reads failed at the kill: more than were in flight", before.Load())
	}
	if e.status("replica1").InRotation {
		t.Fatal("killed replica still in rotation")
	}

	// Restarted, it comes back and serves reads; connections pooled to it
	// before the kill are gone, not handed out.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := localcluster.Restart(ctx, e.dir, e.lc.Replicas(0)[0].Name); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "restarted replica back in rotation", func() bool { return e.status("replica1").InRotation })
	one := e.proxied("")
	one.SetMaxOpenConns(1)
	served := servedBy(t, one, 100)[e.port(e.lc.Replicas(0)[0])]
	if served < 40 {
		t.Fatalf("restarted replica served %d of 100 reads", served)
	}
	if !e.status("replica1").InRotation {
		t.Fatal("restarted replica left rotation again")
	}
}

// TestPrimaryDown: with the primary killed, writes fail fast with a clear
// error and reads keep being served by the replicas.
func TestPrimaryDown(t *testing.T) {
	e := newRWEnv(t, nil)
	db := e.proxied("")
	db.SetMaxOpenConns(1)
	mustExec(t, db, "INSERT INTO t VALUES (1, 1)")
	e.waitReplicated()
	db.SetMaxIdleConns(0) // no connection survives: every statement dials afresh
	if err := localcluster.Kill(e.dir, e.lc.Primary(0).Name, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The first write may go out on a pooled connection and find it
	// dead (2013: the client cannot know whether it ran); later ones
	// cannot connect (2003). Each fails within the connect timeout.
	for i := range 3 {
		start := time.Now()
		_, err := db.Exec("INSERT INTO t VALUES (2, 2)")
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("write %d with the primary down took %s", i, d)
		}
		if i == 0 && err != nil && strings.Contains(err.Error(), "2013") {
			wantMySQLError(t, err, 2013, "HY000")
			continue
		}
		wantMySQLError(t, err, 2003, "HY000")
	}
	time.Sleep(time.Second) // a few checks see the primary gone
	for i := range 50 {
		if got := queryString(t, db, "SELECT v FROM t WHERE id = 1"); got != "1" {
			t.Fatalf("read %d with the primary down: %q", i, got)
		}
	}
}

// TestHungReplicaCutOffByQueryTimeout: a replica frozen with SIGSTOP in
// the middle of a read is cut off by the query timeout with error 1317,
// leaves rotation, and reads go on elsewhere.
func TestHungReplicaCutOffByQueryTimeout(t *testing.T) {
	e := newRWEnv(t, func(c *config.Config) {
		c.Limits.QueryTimeout = time.Second
		c.Clusters[0].Replicas[1].Weight = 0 // every read goes to replica1 while it is healthy
	})
	r1 := e.lc.Replicas(0)[0]
	db := e.proxied("")
	db.SetMaxOpenConns(1)
	if p := queryString(t, db, "SELECT @@port"); p != e.port(r1) {
		t.Fatalf("read served by %s, want replica1", p)
	}
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		var x int
		done <- db.QueryRow("SELECT SLEEP(0.5) + SLEEP(0.5) + SLEEP(3)").Scan(&x)
	}()
	time.Sleep(200 * time.Millisecond)
	if err := localcluster.Kill(e.dir, r1.Name, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer localcluster.Kill(e.dir, r1.Name, syscall.SIGCONT)
	select {
	case err := <-done:
		wantMySQLError(t, err, 1317, "70100")
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("hung read cut off after %s", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("read on a frozen replica was not cut off")
	}
	waitFor(t, 5*time.Second, "frozen replica to leave rotation", func() bool { return !e.status("replica1").InRotation })
	if got := queryString(t, db, "SELECT 7"); got != "7" {
		t.Fatal("session unusable after the timeout")
	}
}
