package proxy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/courier-proxy/courier/config"
)

// TestGoSQLDriverSuite runs go-sql-driver/mysql's own test suite (the
// version in go.mod) against Courier, as a real client would use it: once
// with every statement on the primary, once with reads split over two
// replicas.
// Skipped from it: TestConnectorReturnsTimeout (dials an outside address),
// TestUnixSocketAuthFail (uses the server's unix socket, which a proxy does
// not have) and TestTLS (reads Ssl_cipher from SHOW STATUS, which describes
// Courier's own connection to the backend, not the client's TLS).
func TestGoSQLDriverSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		t.Skip("no go command to run the driver's tests with")
	}
	cert, key := selfSigned(t, t.TempDir())
	change := func(c *config.Config) {
		c.TLS = config.TLS{Cert: cert, Key: key}
		c.Users = append(c.Users, config.User{Name: "gotest", Password: "gotest"})
	}
	t.Run("primary", func(t *testing.T) { runDriverSuite(t, gobin, newEnvWith(t, change)) })
	t.Run("read-write-split", func(t *testing.T) { runDriverSuite(t, gobin, newRWEnv(t, change).env) })
}

func runDriverSuite(t *testing.T, gobin string, e *env) {
	cmd := exec.Command(gobin, "test", "-count=1",
		"-skip", "TestConnectorReturnsTimeout|TestUnixSocketAuthFail|TestTLS",
		"github.com/go-sql-driver/mysql")
	cmd.Env = append(os.Environ(),
		"MYSQL_TEST_USER=gotest", "MYSQL_TEST_PASS=gotest", "MYSQL_TEST_PROT=tcp",
		"MYSQL_TEST_ADDR="+e.courier.Addr, "MYSQL_TEST_DBNAME="+e.schema, "MYSQL_TEST_CONCURRENT=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go-sql-driver's suite through Courier failed: %v\n%s", err, tail(string(out), 60))
	}
	if !strings.Contains(string(out), "ok") {
		t.Fatalf("go-sql-driver's suite ran no test:\n%s", out)
	}
	t.Logf("%s", strings.TrimSpace(tail(string(out), 3)))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
