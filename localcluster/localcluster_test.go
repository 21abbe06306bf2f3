package localcluster

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// TestClusterLifecycle starts a real 1 × (primary + replica) topology, checks
// replication, crashes and restarts the replica, stops and restarts the whole
// cluster from its data dirs, and purges it.
func TestClusterLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real mariadbd processes")
	}
	if _, err := findBinaries(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	spec := Spec{Dir: dir, Shards: 1, Replicas: 1, BasePort: freeBasePort(t, 2)}
	t.Cleanup(func() {
		if err := Down(context.Background(), dir, true); err != nil {
			t.Errorf("cleanup Down: %v", err)
		}
	})

	began := time.Now()
	c, err := Up(ctx, spec, testWriter{t})
	if err != nil {
		t.Fatalf("Up: %v", err)
	}
	t.Logf("Up took %s", time.Since(began))
	if got := len(c.Instances); got != 2 {
		t.Fatalf("instances = %d, want 2", got)
	}
	primary, replica := c.Primary(0), c.Replicas(0)[0]

	again, err := Up(ctx, spec, testWriter{t})
	if err != nil {
		t.Fatalf("second Up: %v", err)
	}
	if again.Primary(0).PID != primary.PID || again.Replicas(0)[0].PID != replica.PID {
		t.Errorf("second Up did not reuse the running servers: %+v vs %+v", again.Instances, c.Instances)
	}

	pdb := openTestDB(t, c.DSN(primary, ""))
	mustExec(t, pdb, "CREATE DATABASE lc; CREATE TABLE lc.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO lc.t VALUES (1, 'one')")
	rdb := openTestDB(t, c.DSN(replica, "lc"))
	waitRows(t, rdb, 1)
	checkStatus(t, dir, true)

	if err := Kill(dir, replica.Name, syscall.SIGKILL); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	waitDead(t, replica)
	mustExec(t, pdb, "INSERT INTO lc.t VALUES (2, 'two')")
	if err := Restart(ctx, dir, replica.Name); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	waitRows(t, rdb, 2)
	checkStatus(t, dir, true)

	if err := Down(ctx, dir, false); err != nil {
		t.Fatalf("Down: %v", err)
	}
	checkStatus(t, dir, false)
	if _, err := Up(ctx, spec, testWriter{t}); err != nil {
		t.Fatalf("Up from stale state: %v", err)
	}
	waitRows(t, rdb, 2) // data survived; replication resumed
	mustExec(t, pdb, "INSERT INTO lc.t VALUES (3, 'three')")
	waitRows(t, rdb, 3)
}

// checkStatus asserts every instance's running state and, when running, that
// the replica's threads run and it reached the primary's GTID position.
func checkStatus(t *testing.T, dir string, running bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sts, err := Status(context.Background(), dir)
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		problem := statusProblem(sts, running)
		if problem == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status: %s\n%+v", problem, sts)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func statusProblem(sts []InstanceStatus, running bool) string {
	primaryGTID := map[int]string{}
	for _, st := range sts {
		if st.Running != running {
			return fmt.Sprintf("%s running=%v, want %v (%s)", st.Name, st.Running, running, st.Err)
		}
		if running && st.Role == RolePrimary {
			primaryGTID[st.Shard] = st.GTID
		}
	}
	for _, st := range sts {
		if !running || st.Role != RoleReplica {
			continue
		}
		switch {
		case !st.IORunning || !st.SQLRunning:
			return fmt.Sprintf("%s threads io=%v sql=%v (%s)", st.Name, st.IORunning, st.SQLRunning, st.Err)
		case st.SecondsBehind == nil:
			return st.Name + " Seconds_Behind_Master is NULL"
		case primaryGTID[st.Shard] == "" || st.GTID != primaryGTID[st.Shard]:
			return fmt.Sprintf("%s GTID %q, primary %q", st.Name, st.GTID, primaryGTID[st.Shard])
		}
	}
	return ""
}

func waitRows(t *testing.T, db *sql.DB, want int) {
	t.Helper()
	var n int
	var err error
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if err = db.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err == nil && n == want {
			return
		}
	}
	t.Fatalf("replica has %d rows (err %v), want %d", n, err, want)
}

func waitDead(t *testing.T, inst Instance) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if !exists(inst.PID) {
			return
		}
	}
	t.Fatalf("%s (pid %d) still running after SIGKILL", inst.Name, inst.PID)
}

func openTestDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = &mysql.NopLogger{} // connections die on purpose in this test
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// freeBasePort picks n consecutive free loopback ports in 20000–40000.
func freeBasePort(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 100; try++ {
		base := 20000 + rand.IntN(20000-n)
		free := true
		for p := base; p < base+n && free; p++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				free = false
				continue
			}
			_ = l.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
