package backend_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/courier-proxy/courier/proxy/backend"
)

// hungServer accepts connections and never answers, like a server
// stopped with SIGSTOP (the kernel still completes the TCP handshake).
func hungServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

// TestHungPrimaryLeavesReplicaChecksAlone: the check of a primary that
// never answers uses up its own deadline, not its replicas'. The "replica"
// here is a server without replication, so it is judged on what it
// answers (replication stopped), not found unreachable.
func TestHungPrimaryLeavesReplicaChecksAlone(t *testing.T) {
	o := startCluster(t)
	hung := o
	hung.Addr = hungServer(t)
	hung.ConnectTimeout = 10 * time.Second // only the check's own deadline stops the dial
	log := zap.NewNop()
	primary := backend.NewPool("hung-primary", hung, backend.PoolConfig{}, log)
	defer primary.Close()
	rp := backend.NewPool("replica", o, backend.PoolConfig{}, log)
	defer rp.Close()
	c := backend.NewCluster("c", primary, []*backend.Replica{backend.NewReplica(rp, 1)},
		backend.ReplicationConfig{MaxLag: 5 * time.Second, CheckInterval: 200 * time.Millisecond, Heartbeat: true}, log)
	start := time.Now()
	c.Start(context.Background())
	defer c.Close()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the first check round took %s", d)
	}
	if ok, _ := primary.Healthy(); ok {
		t.Fatal("hung primary reported healthy")
	}
	for range 3 {
		st := c.Status()[0]
		if !st.State.Reachable || !strings.HasPrefix(st.Reason, "replication stopped") {
			t.Fatalf("replica judged %q (reachable %v); want it reached and judged on its replication", st.Reason, st.State.Reachable)
		}
		time.Sleep(400 * time.Millisecond)
	}
}
