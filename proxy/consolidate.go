package proxy

import (
	"context"
	"strings"
	"sync"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/router/engine"
)

// maxShared bounds the answer one read may share with those waiting on
// it; a longer one is streamed to its own client only.
const maxShared = 1 << 20

// consolidator lets identical reads share one execution (Vitess's
// consolidator): a read of a class with consolidate set that arrives
// while the same statement, on the same cluster and in the same session
// state, is running waits for that one's answer and sends it to its own
// client, instead of running again. It is for hot rows polled by many
// clients: N identical reads at once cost one backend execution.
type consolidator struct {
	mu      sync.Mutex
	running map[string]*sharedRead
}

// sharedRead is one running read and, once done, its answer.
type sharedRead struct {
	done   chan struct{}
	frames []byte // the answer's packets, as framed for the client
	rows   uint64 // the rows it sent
	res    result
	ok     bool // complete and shareable
}

// join returns the read running under key, or makes the caller its
// leader (lead true) until it calls finish.
func (c *consolidator) join(key string) (sr *sharedRead, lead bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sr := c.running[key]; sr != nil {
		return sr, false
	}
	if c.running == nil {
		c.running = map[string]*sharedRead{}
	}
	sr = &sharedRead{done: make(chan struct{})}
	c.running[key] = sr
	return sr, true
}

// finish publishes the leader's answer (ok: frames are all of it) to
// those waiting, and lets the next identical read run anew.
func (c *consolidator) finish(key string, sr *sharedRead, frames []byte, rows uint64, res result, ok bool) {
	c.mu.Lock()
	delete(c.running, key)
	c.mu.Unlock()
	if ok {
		sr.frames, sr.rows, sr.res, sr.ok = frames, rows, res, true
	}
	close(sr.done)
}

// consolidationKey is the key under which a read on target t may share
// its execution, or "" when it may not: a text SELECT in autocommit of
// a class that consolidates, touching no session state, alone in its
// packet, from a session with no write on that cluster to read back
// (causal reads must see the session's own writes, which an execution
// that began earlier may not).
func consolidationKey(cu *cursor, t engine.Target, read bool, w *clientWriter) string {
	ss := cu.ss
	cur := &cu.cur
	if !read || w.batch || cur.stmt != nil || cur.sticky || cur.info.Kind != parser.KindSelect ||
		cur.info.Flags&(stateFlags|parser.FlagLastInsertID|parser.FlagDiagnostics) != 0 ||
		!ss.user.class.limits.Load().consolidate || cu.tx.active(ss) || cu.conns[t.Cluster].bc != nil ||
		(ss.consistency != router.Eventual && need(cu, t.Cluster) != "") {
		return ""
	}
	sql := t.SQL
	if sql == "" {
		sql = string(cur.text)
	}
	var b strings.Builder
	b.WriteByte(byte(t.Cluster))
	b.WriteString(ss.state.Schema)
	for _, v := range ss.state.Vars {
		b.WriteString("\x00" + v.Name + "=" + v.Value)
	}
	b.WriteString("\x00\x00")
	b.WriteString(sql)
	return b.String()
}

// followRead waits for the read sr and sends its answer to the client; it
// reports false when that answer could not be shared (the caller runs
// the read itself).
func followRead(ctx context.Context, cu *cursor, sr *sharedRead, w *clientWriter) (bool, error) {
	select {
	case <-sr.done:
	case <-ctx.Done():
		return true, ctx.Err()
	}
	if !sr.ok {
		return false, nil
	}
	cu.srv.metrics.consolidated.Inc()
	if err := cu.ss.c.WriteRaw(sr.frames); err != nil {
		return true, err
	}
	w.relayed(sr.res)
	w.rows += sr.rows
	return true, nil
}
