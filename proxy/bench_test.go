package proxy_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/testbed"
)

// BenchmarkPointSelect measures one primary-key select through an
// in-process Courier against real MariaDB, as text and prepared: in front
// of one server, and (sharded) over four shards with the table sharded
// by id. The client is Courier's own packet client, which allocates
// nothing per query, so allocs/op are Courier's own. Run it with:
//
//	go test ./proxy -run '^$' -bench PointSelect -benchmem
func BenchmarkPointSelect(b *testing.B) {
	e := newEnv(b)
	mustExec(b, e.direct(""), "CREATE TABLE sb (id INT PRIMARY KEY, k INT, c CHAR(120), pad CHAR(60))")
	mustExec(b, e.direct(""), "INSERT INTO sb SELECT seq, seq, REPEAT('c', 120), REPEAT('p', 60) FROM seq_1_to_1000")
	benchPointSelect(b, "", e.courier.Addr, e.schema)

	// The same, for a user in a class of traffic with a concurrency
	// limit, a reserved share of the pool and a statement rate: what
	// governance costs a statement.
	gov := testbed.Config(cluster)
	gov.Users[0].Class, gov.Users[0].Rate = "critical", config.Rate{Limit: 1e9, Burst: 1e9}
	gov.Classes = []config.Class{{Name: "critical", MaxConcurrency: 1000, Queue: 1000, QueueTimeout: time.Second, PoolReserved: 0.5, PoolMax: 1},
		{Name: "batch", MaxConcurrency: 8, Queue: 100, QueueTimeout: time.Second, PoolMax: 0.25}}
	benchPointSelect(b, "governed-", testbed.StartT(b, gov).Addr, e.schema)

	lc := testbed.ClusterT(b, b.TempDir(), 4, 0)
	var clusters, shards strings.Builder
	for i, r := range topo.Even(4) {
		fmt.Fprintf(&clusters, "\n  - {name: s%d, user: %s, password: %s, primary: {address: %q}}", i, lc.Spec.User, lc.Spec.Password, lc.Primary(i).Addr)
		fmt.Fprintf(&shards, "\n    - {range: %q, cluster: s%d}", r.String(), i)
		mustExec(b, e.open(lc.DSN(lc.Primary(i), "")), "CREATE DATABASE sb")
		db := e.open(lc.DSN(lc.Primary(i), "sb"))
		mustExec(b, db, "CREATE TABLE sb (id INT PRIMARY KEY, k INT, c CHAR(120), pad CHAR(60))")
		mustExec(b, db, "INSERT INTO sb SELECT seq, seq, REPEAT('c', 120), REPEAT('p', 60) FROM seq_1_to_1000")
	}
	cfg, err := config.Parse([]byte(fmt.Sprintf("listen: 127.0.0.1:0\nadmin: \"\"\nusers: [{name: app, password: app}]\nclusters:%s\ndefault_cluster: s0\nsharding:\n  shards:%s\n  tables: [{name: sb, key: id}]\n",
		clusters.String(), shards.String())))
	if err != nil {
		b.Fatal(err)
	}
	benchPointSelect(b, "sharded-", testbed.StartT(b, cfg).Addr, "sb")
}

func benchPointSelect(b *testing.B, prefix, addr, schema string) {
	ctx := context.Background()
	c, err := backend.Dial(ctx, backend.Options{Addr: addr, User: "app", Password: "app"}, backend.FlavourPlain)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Exec(ctx, "USE "+schema); err != nil {
		b.Fatal(err)
	}

	b.Run(prefix+"text", func(b *testing.B) {
		q := make([]byte, 0, 64)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			q = append(append(q[:0], mysql.COM_QUERY), "SELECT c FROM sb WHERE id="...)
			q = strconv.AppendInt(q, int64(1+i%1000), 10)
			if err := c.WriteCommand(q); err != nil {
				b.Fatal(err)
			}
			readReply(b, c.Wire())
		}
	})

	b.Run(prefix+"prepared", func(b *testing.B) {
		// Prepare through Courier, then execute with the id as parameter.
		prep := append([]byte{mysql.COM_STMT_PREPARE}, "SELECT c FROM sb WHERE id=?"...)
		if err := c.WriteCommand(prep); err != nil {
			b.Fatal(err)
		}
		first, err := c.Wire().ReadPacket(1 << 20)
		if err != nil || first[0] != 0 {
			b.Fatalf("prepare: %v %x", err, first)
		}
		st, _ := backend.ParsePrepareOK(first)
		for range int(st.Params) + 1 + int(st.Columns) + 1 {
			if _, _, err := c.Wire().SkipPacket(0); err != nil {
				b.Fatal(err)
			}
		}
		exec := make([]byte, 0, 32)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			exec = append(exec[:0], mysql.COM_STMT_EXECUTE, byte(st.ID), byte(st.ID>>8), byte(st.ID>>16), byte(st.ID>>24),
				0, 1, 0, 0, 0, // flags, iteration count
				0, 1, mysql.MYSQL_TYPE_LONGLONG, 0) // NULL bitmap, types bound, type
			id := uint64(1 + i%1000)
			for k := range 8 {
				exec = append(exec, byte(id>>(8*k)))
			}
			if err := c.WriteCommand(exec); err != nil {
				b.Fatal(err)
			}
			readReply(b, c.Wire())
		}
	})
}

// readReply reads one reply (OK, ERR or one result set) without keeping it.
func readReply(b *testing.B, w *wire.Conn) {
	p, _, err := w.SkipPacket(1)
	if err != nil {
		b.Fatal(err)
	}
	switch p[0] {
	case wire.OKHeader:
		return
	case wire.ErrHeader:
		b.Fatal("server error")
	}
	eofs := 0
	for eofs < 2 {
		p, n, err := w.SkipPacket(1)
		if err != nil {
			b.Fatal(err)
		}
		if wire.IsEOF(p, n) {
			eofs++
		}
	}
}

// BenchmarkCausalScope is what causal_scope: user costs against
// session: 8 connections of one user, over two shards with a replica
// each, each updating its row and then reading another's (written by
// another connection), until b.N pairs are done. Run it with:
//
//	go test ./proxy -run '^$' -bench CausalScope -benchtime 4000x
func BenchmarkCausalScope(b *testing.B) {
	for _, scope := range []string{"session", "user"} {
		b.Run(scope, func(b *testing.B) {
			e := newGovernedEnv(b, "", "log: {slow_query: 0s}", func(c *config.Config) { c.CausalScope = scope })
			db := e.proxied("")
			db.SetMaxOpenConns(8)
			var left atomic.Int64
			left.Store(int64(b.N))
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, err := db.Conn(context.Background())
					if err != nil {
						b.Error(err)
						return
					}
					defer c.Close()
					mine, theirs := keyOn(w%2, w/2), keyOn((w+1)%2, w/2)
					for left.Add(-1) >= 0 {
						if _, err := c.ExecContext(context.Background(), "UPDATE orders SET amount = amount + 1 WHERE order_id = ?", mine); err != nil {
							b.Error(err)
							return
						}
						var a int
						if err := c.QueryRowContext(context.Background(), "SELECT amount FROM orders WHERE order_id = ?", theirs).Scan(&a); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}
