package backend_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/sqlerr"
	"github.com/courier-proxy/courier/testbed"
)

func startCluster(t *testing.T) backend.Options {
	t.Helper()
	c := testbed.ClusterT(t, t.TempDir(), 1, 0)
	return backend.Options{Addr: c.Primary(0).Addr, User: c.Spec.User, Password: c.Spec.Password, ConnectTimeout: 2 * time.Second}
}

func value(t *testing.T, c *backend.Conn, q string) string {
	t.Helper()
	rows, err := c.Query(context.Background(), q)
	if err != nil || len(rows) != 1 {
		t.Fatalf("%s: %v %v", q, rows, err)
	}
	return rows[0][0].SQL()
}

// TestBackend checks the real handshake, state sync in both directions,
// the pool's bounds and wait timeout, and bad credentials.
func TestBackend(t *testing.T) {
	o := startCluster(t)
	ctx := context.Background()

	t.Run("sync", func(t *testing.T) {
		c, err := backend.Dial(ctx, o, backend.FlavourPlain)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		want := (&backend.State{Schema: "mysql"}).WithVars(
			backend.Var{Name: "time_zone", Value: "'+03:00'"},
			backend.Var{Name: "character_set_client", Value: "'latin1'"},
			backend.Var{Name: "autocommit", Value: "0"})
		if err := c.Sync(ctx, want); err != nil {
			t.Fatal(err)
		}
		for q, w := range map[string]string{"SELECT DATABASE()": "'mysql'", "SELECT @@time_zone": "'+03:00'",
			"SELECT @@character_set_client": "'latin1'", "SELECT @@autocommit": "0"} {
			if got := value(t, c, q); got != w {
				t.Fatalf("%s = %s, want %s", q, got, w)
			}
		}
		// Back to a fresh connection's values.
		if err := c.Sync(ctx, &backend.State{Schema: "mysql"}); err != nil {
			t.Fatal(err)
		}
		if got := value(t, c, "SELECT @@time_zone = @@global.time_zone AND @@autocommit = 1 AND @@character_set_client = 'utf8mb4'"); got != "1" {
			t.Fatal("variables not restored")
		}
	})

	t.Run("bad password", func(t *testing.T) {
		bad := o
		bad.Password = "wrong"
		_, err := backend.Dial(ctx, bad, backend.FlavourPlain)
		var se *sqlerr.Error
		if !errors.As(err, &se) || se.Num != 1045 {
			t.Fatalf("got %v, want 1045", err)
		}
	})

	t.Run("pool bounds", func(t *testing.T) {
		p := backend.NewPool("test", o, backend.PoolConfig{MaxOpen: 2, MaxIdle: 1, WaitTimeout: 200 * time.Millisecond}, zap.NewNop())
		defer p.Close()
		a, err := p.Get(ctx, backend.FlavourPlain, 0)
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.Get(ctx, backend.FlavourFoundRows, 0)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = p.Get(ctx, backend.FlavourPlain, 0)
		var se *sqlerr.Error
		if !errors.As(err, &se) || se.Num != sqlerr.ErrTooManyConnections || time.Since(start) < 150*time.Millisecond {
			t.Fatalf("third Get: %v after %s", err, time.Since(start))
		}
		go func() { time.Sleep(50 * time.Millisecond); p.Put(a) }()
		c, err := p.Get(ctx, backend.FlavourPlain, 0)
		if err != nil || c != a {
			t.Fatalf("Get after Put: %v (same conn: %v)", err, c == a)
		}
		p.Put(c)
		p.Put(b) // beyond MaxIdle: closed
		if open, idle := p.Stats(); open != 1 || idle != 1 {
			t.Fatalf("open %d idle %d, want 1 1", open, idle)
		}
		// A broken connection is not reused.
		c, _ = p.Get(ctx, backend.FlavourPlain, 0)
		c.MarkBroken()
		p.Put(c)
		if open, idle := p.Stats(); open != 0 || idle != 0 {
			t.Fatalf("after broken: open %d idle %d", open, idle)
		}
	})
}
