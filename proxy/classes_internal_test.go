package proxy

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/sqlerr"
)

// TestSharesOfAPool: the classes' shares of a pool in connections.
func TestSharesOfAPool(t *testing.T) {
	sh := shares([]config.Class{{Name: "critical", PoolReserved: 0.5, PoolMax: 1}, {Name: "batch", PoolMax: 0.25}}, 16)
	if len(sh) != 3 || sh[0].Max != 16 || sh[1].Reserved != 8 || sh[1].Max != 16 || sh[2].Reserved != 0 || sh[2].Max != 4 {
		t.Fatalf("%+v", sh)
	}
	if shares(nil, 16) != nil {
		t.Fatal("shares without classes")
	}
}

// TestAdmit: a class runs at most its limit, queues at most its queue,
// each waiter at most its timeout.
func TestAdmit(t *testing.T) {
	m := newMetrics(&Server{})
	c := newClasses([]config.Class{{Name: "c", MaxConcurrency: 2, Queue: 1, QueueTimeout: 100 * time.Millisecond}}, m)["c"]
	ctx := context.Background()
	for range 2 {
		if err := c.admit(ctx, "u"); err != nil {
			t.Fatal(err)
		}
	}
	waited := make(chan error)
	go func() { waited <- c.admit(ctx, "u") }()
	time.Sleep(20 * time.Millisecond)
	if err := c.admit(ctx, "u"); err == nil || err.(*sqlerr.Error).Num != sqlerr.ErrUserLimitReached {
		t.Fatalf("past the queue: %v", err)
	}
	c.leave()
	if err := <-waited; err != nil {
		t.Fatalf("the waiter, after a leave: %v", err)
	}
	start := time.Now()
	if err := c.admit(ctx, "u"); err == nil || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("a waiter past its timeout: %v after %s", err, time.Since(start))
	}
	if c.runningNow() != 2 {
		t.Fatalf("running %d", c.runningNow())
	}
	if limited(parser.KindCommit) || !limited(parser.KindSelect) {
		t.Fatal("limited kinds")
	}
}

// BenchmarkAdmit is what governance costs a statement of a user with a
// rate, in a class with a concurrency limit and a shedding threshold:
// go test ./proxy -run '^$' -bench Admit -benchmem
func BenchmarkAdmit(b *testing.B) {
	s := &Server{}
	m := newMetrics(s)
	g := &governor{metrics: m}
	c := newClasses([]config.Class{{Name: "c", MaxConcurrency: 100, Queue: 10, QueueTimeout: time.Second, ShedAbove: 1000}}, m)["c"]
	a := &account{name: "u", class: c, rate: newLimiter(config.Rate{Limit: 1e9, Burst: 1e9})}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := a.admit(ctx, parser.KindSelect, g); err != nil {
			b.Fatal(err)
		}
		a.leave(parser.KindSelect, g)
	}
}

// BenchmarkDigestRecord is what the digests cost a statement:
// go test ./proxy -run '^$' -bench DigestRecord -benchmem
func BenchmarkDigestRecord(b *testing.B) {
	d := newDigests()
	shape := []byte("SELECT amount FROM orders WHERE order_id = ?")
	b.ReportAllocs()
	for b.Loop() {
		d.record("app", "critical", shape, 300*time.Microsecond, false, 1, 1)
	}
}

// TestDigestBound: past maxDigests shapes, new ones count under
// "(other)".
func TestDigestBound(t *testing.T) {
	d := newDigests()
	for i := range maxDigests + 50 {
		d.record("u", "", []byte(strconv.Itoa(i)), time.Millisecond, false, 0, 0)
	}
	all := d.top(10*maxDigests, "count")
	if n := len(all); n > maxDigests+digestShards {
		t.Fatalf("%d shapes kept", n)
	}
	var other uint64
	for _, s := range all {
		if s.Digest == "(other)" {
			other += s.Count
		}
	}
	if other < 50 {
		t.Fatalf("(other) counted %d", other)
	}
}
