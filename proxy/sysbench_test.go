package proxy_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// TestSysbenchReadWrite runs sysbench oltp_read_write through Courier in
// both prepared-statement modes. Any error but an InnoDB deadlock (1213)
// aborts sysbench and fails the test; with one thread, where no deadlock
// can happen, not even those are allowed. (Directly against MariaDB, eight
// threads on these tables deadlock a few times a second too.)
func TestSysbenchReadWrite(t *testing.T) {
	if _, err := exec.LookPath("sysbench"); err != nil {
		if os.Getenv("COURIER_REQUIRE_MARIADB") != "" {
			t.Fatal("sysbench is not installed (apt-get install -y sysbench)")
		}
		t.Skip("sysbench not installed")
	}
	e := newEnv(t)
	mustExec(t, e.direct(""), "CREATE USER IF NOT EXISTS app IDENTIFIED BY 'app'")
	mustExec(t, e.direct(""), "GRANT ALL ON *.* TO app")
	host, port, _ := net.SplitHostPort(cluster.Primary(0).Addr)
	common := []string{"oltp_read_write", "--mysql-host=" + host, "--mysql-user=app", "--mysql-password=app",
		"--mysql-db=" + e.schema, "--tables=2", "--table-size=5000"}
	sb := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("sysbench", append(append([]string{}, common...), args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("sysbench %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	sb("--mysql-port="+port, "prepare")
	_, cport, _ := net.SplitHostPort(e.courier.Addr)
	errorsRe := regexp.MustCompile(`ignored errors:\s+(\d+)`)
	txRe := regexp.MustCompile(`transactions:\s+(\d+)`)
	for _, tc := range []struct {
		mode    string
		threads int
	}{{"auto", 1}, {"disable", 1}, {"auto", 8}, {"disable", 8}} {
		t.Run(fmt.Sprintf("%s/%d", tc.mode, tc.threads), func(t *testing.T) {
			out := sb("--mysql-port="+cport, "--db-ps-mode="+tc.mode, fmt.Sprintf("--threads=%d", tc.threads),
				"--time=3", "--report-interval=0", "--mysql-ignore-errors=1213", "run")
			m := errorsRe.FindStringSubmatch(out)
			tx := txRe.FindStringSubmatch(out)
			if m == nil || tx == nil {
				t.Fatalf("cannot read sysbench output:\n%s", out)
			}
			if tc.threads == 1 && m[1] != "0" {
				t.Fatalf("sysbench through Courier had %s errors with one thread:\n%s", m[1], out)
			}
			if tx[1] == "0" {
				t.Fatalf("no transactions completed:\n%s", out)
			}
			t.Logf("ps-mode=%s threads=%d: %s transactions, %s deadlocks retried", tc.mode, tc.threads, tx[1], m[1])
		})
	}
}
