package testbed

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/localcluster"
	"github.com/courier-proxy/courier/proxy"
)

// Require skips the test when real servers cannot be used.
func Require(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	if _, err := exec.LookPath("mariadbd"); err != nil {
		if _, err2 := os.Stat("/usr/sbin/mariadbd"); err2 != nil {
			if os.Getenv("COURIER_REQUIRE_MARIADB") != "" {
				t.Fatal("mariadbd is not installed (apt-get install -y mariadb-server)")
			}
			t.Skip("mariadbd is not installed")
		}
	}
}

var portMu sync.Mutex

// FreePorts returns n consecutive loopback ports that are free now.
func FreePorts(n int) (int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	for range 200 {
		base := 20000 + rand.IntN(30000)
		ok := true
		for p := base; p < base+n && ok; p++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				continue
			}
			ln.Close()
		}
		if ok {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no %d free consecutive ports", n)
}

// Cluster starts a topology for the test (or the whole package, when
// called from TestMain with a nil t) in dir and returns it with a stop
// function.
func Cluster(ctx context.Context, dir string, shards, replicas int) (*localcluster.Cluster, func(), error) {
	base, err := FreePorts(shards * (1 + replicas))
	if err != nil {
		return nil, nil, err
	}
	c, err := localcluster.Up(ctx, localcluster.Spec{Dir: dir, Shards: shards, Replicas: replicas, BasePort: base}, io.Discard)
	if err != nil {
		return nil, nil, err
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		_ = localcluster.Down(ctx, dir, true)
	}
	return c, stop, nil
}

// ClusterT starts a topology in dir for one test and stops it when the
// test ends. Without real servers the test is skipped, or fails when
// COURIER_REQUIRE_MARIADB is set.
func ClusterT(t testing.TB, dir string, shards, replicas int) *localcluster.Cluster {
	t.Helper()
	Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, stop, err := Cluster(ctx, dir, shards, replicas)
	if err != nil {
		if os.Getenv("COURIER_REQUIRE_MARIADB") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	t.Cleanup(stop)
	return c
}

// Main runs a package's tests around one topology the package shares
// (started first, stopped last, handed to set), and fails the run when
// goroutines are left behind. Without real servers the integration tests
// are skipped (their Require skips them), or the run fails when
// COURIER_REQUIRE_MARIADB is set. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testbed.Main(m, 1, 0, func(c *localcluster.Cluster) { cluster = c })) }
func Main(m *testing.M, shards, replicas int, set func(*localcluster.Cluster)) int {
	for _, a := range os.Args {
		if a == "-test.short" || a == "-test.short=true" {
			return m.Run()
		}
	}
	dir, err := os.MkdirTemp("", "courier-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, stop, err := Cluster(ctx, dir, shards, replicas)
	if err != nil {
		if os.Getenv("COURIER_REQUIRE_MARIADB") != "" {
			fmt.Fprintln(os.Stderr, "cannot start MariaDB:", err)
			return 1
		}
		fmt.Fprintln(os.Stderr, "integration tests skipped: cannot start MariaDB:", err)
		return m.Run()
	}
	defer stop()
	set(c)
	base := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 && !goroutinesSettle(base+5, 10*time.Second) {
		buf := make([]byte, 1<<20)
		fmt.Fprintf(os.Stderr, "goroutine leak: %d goroutines after the tests, %d before\n%s",
			runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		return 1
	}
	return code
}

// goroutinesSettle waits until at most n goroutines run.
func goroutinesSettle(n int, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if runtime.NumGoroutine() <= n {
			return true
		}
	}
	return false
}

// Config returns a Courier configuration for shard 0 of c with user
// app/app, listening on a free port.
func Config(c *localcluster.Cluster) *config.Config {
	yaml := fmt.Sprintf(`
listen: 127.0.0.1:0
admin: ""
users:
  - name: app
    password: app
clusters:
  - name: main
    user: %s
    password: %s
    pool: {max_open: 600, max_idle: 600, connect_timeout: 5s}
    primary: {address: %s}
`, c.Spec.User, c.Spec.Password, c.Primary(0).Addr)
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		panic(err)
	}
	return cfg
}

// Courier is an in-process Courier server.
type Courier struct {
	Server *proxy.Server
	Addr   string
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs a Courier server for cfg until Stop.
func Start(cfg *config.Config, log *zap.Logger) (*Courier, error) {
	if log == nil {
		log = zap.NewNop()
	}
	srv, err := proxy.New(cfg, log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
	defer pcancel()
	if err := srv.Prepare(pctx); err != nil {
		cancel()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		cancel()
		return nil, err
	}
	c := &Courier{Server: srv, Addr: ln.Addr().String(), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		_ = srv.Serve(ctx, ln)
	}()
	return c, nil
}

// StartT is Start for one test, stopped by t.Cleanup, logging to t.
func StartT(t testing.TB, cfg *config.Config) *Courier {
	t.Helper()
	c, err := Start(cfg, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c
}

// Stop shuts the server down.
func (c *Courier) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = c.Server.Shutdown(ctx)
	c.cancel()
	<-c.done
}

// DSN returns a go-sql-driver DSN for user/password through Courier.
func (c *Courier) DSN(user, password, db, params string) string {
	dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s", user, password, c.Addr, db)
	if params != "" {
		dsn += "?" + params
	}
	return dsn
}
