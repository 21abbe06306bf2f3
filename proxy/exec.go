package proxy

import (
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// Stream implements engine.Cursor. Replies go to the client as the
// backends send them when w is the client's own writer (or a writer that
// only renames columns, while every target runs the client's statement);
// otherwise rows are decoded for w.
func (cu *cursor) Stream(ctx context.Context, targets []engine.Target, read bool, w engine.ResultWriter) error {
	cw, raw := w.(*clientWriter)
	if p, ok := w.(engine.Passthrough); ok && !raw && clientStatement(targets) {
		cw, raw = p.Passthrough().(*clientWriter)
	}
	switch {
	case !raw:
		return cu.decode(ctx, targets, read, w)
	case cw.binary && !clientStatement(targets):
		// Rewritten SQL runs as text: its rows are re-encoded in the
		// binary protocol the client's COM_STMT_EXECUTE expects.
		return cu.decode(ctx, targets, read, w)
	case len(targets) == 1:
		return cu.streamOne(ctx, targets[0], read, cw)
	}
	return cu.gather(ctx, targets, read, cw)
}

// clientStatement reports whether every target runs the client's own
// statement.
func clientStatement(targets []engine.Target) bool {
	for _, t := range targets {
		if t.SQL != "" {
			return false
		}
	}
	return true
}

// streamOne runs the statement on one cluster and relays the reply. An
// autocommit read that fails on a replica before any reply byte reached
// the client runs once more elsewhere; nothing else is re-sent.
func (cu *cursor) streamOne(ctx context.Context, t engine.Target, read bool, w *clientWriter) error {
	if key := consolidationKey(cu, t, read, w); key != "" {
		sr, lead := cu.srv.consolidator.join(key)
		if !lead {
			if done, err := followRead(ctx, cu, sr, w); done {
				return err
			}
		} else {
			var frames []byte
			w.tee = &frames
			var res result
			var err error
			defer func() {
				cu.srv.consolidator.finish(key, sr, frames, w.rows, res, err == nil && w.tee != nil && !w.failed)
			}()
			res, err = cu.stream(ctx, t, read, w)
			return err
		}
	}
	_, err := cu.stream(ctx, t, read, w)
	return err
}

// stream runs the client's statement (or t's SQL) on cluster t's
// connection for it, relaying the answer; a read that fails on a replica
// before replying runs again elsewhere.
func (cu *cursor) stream(ctx context.Context, t engine.Target, read bool, w *clientWriter) (result, error) {
	for attempt := 0; ; attempt++ {
		bc, rep, err := cu.acquire(ctx, t.Cluster, read)
		if err != nil {
			return result{}, err
		}
		pkt, err := cu.packet(ctx, bc, t.SQL)
		if err != nil {
			return result{}, err
		}
		res, err := cu.execute(ctx, bc, pkt, rep != nil && attempt == 0, w)
		if retry, ok := err.(*errRetry); ok {
			timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
			if ctx.Err() != nil && !timedOut {
				return result{}, ctx.Err() // killed
			}
			if timedOut { // the replica hung: the read gets a fresh time limit elsewhere
				ctx = cu.ss.cmd.start(cu.ss.user.queryTimeout(cu.srv.queryTimeout()))
			}
			cu.srv.metrics.retries.Inc()
			if timedOut || !bc.Reused() { // a hung replica, or a fresh connection that failed
				cu.srv.clusterList[t.Cluster].Fail(rep, retry.cause)
			}
			continue
		}
		if err != nil {
			return result{}, err
		}
		w.relayed(res)
		cu.afterWrite(ctx, bc, t.Cluster, rep, res)
		return res, nil
	}
}

// afterWrite notes, for causal reads, the GTID of a write that committed
// on its own (autocommit) on a primary.
func (cu *cursor) afterWrite(ctx context.Context, bc *backend.Conn, cl int, rep *backend.Replica, res result) {
	if rep != nil || res.failed || res.status&wire.StatusInTrans != 0 || !mayWrite(cu.cur.info.Kind) || bc.Broken() {
		return
	}
	cu.noteGTID(ctx, bc, cl)
}

// mayWrite reports whether a statement of this kind can change data, so
// that a causal session must learn its GTID afterwards.
func mayWrite(k parser.Kind) bool {
	switch k {
	case parser.KindSelect, parser.KindShow, parser.KindExplain, parser.KindSet, parser.KindUse,
		parser.KindBegin, parser.KindRollback, parser.KindSavepoint, parser.KindEmpty, parser.KindKill:
		return false
	}
	return true
}

// Exec implements engine.Cursor: the targets run at once, one goroutine
// each (inline for one), each on its cluster's primary (the transaction's
// branch there, when the session is in one).
func (cu *cursor) Exec(ctx context.Context, targets []engine.Target) ([]engine.Result, error) {
	conns := make([]*backend.Conn, len(targets))
	pkts := make([][]byte, len(targets))
	for i, t := range targets {
		bc, _, err := cu.acquire(ctx, t.Cluster, false)
		if err != nil {
			return nil, err
		}
		pkt, err := cu.packet(ctx, bc, t.SQL)
		if err != nil {
			return nil, err
		}
		conns[i], pkts[i] = bc, append([]byte(nil), pkt...)
	}
	results := make([]engine.Result, len(targets))
	errs := make([]error, len(targets))
	run := func(i int) {
		bc := conns[i]
		bc.Pool().Queries.Add(1)
		cu.run.add(bc)
		defer cu.run.remove(bc)
		ok, err := bc.ExecPacket(ctx, pkts[i])
		if err != nil {
			if _, coded := sqlerr.From(err); !coded || bc.Broken() {
				_, err = cu.backendFailed(bc, err)
			}
			errs[i] = err
			return
		}
		results[i] = engine.Result{Affected: ok.AffectedRows, InsertID: ok.InsertID, Warnings: ok.Warnings}
		if ok.Status&wire.StatusInTrans == 0 {
			cu.noteGTIDAsync(ctx, bc, targets[i].Cluster)
		}
	}
	if len(targets) == 1 {
		run(0)
	} else {
		var wg sync.WaitGroup
		for i := range targets {
			wg.Add(1)
			go func() { defer wg.Done(); run(i) }()
		}
		wg.Wait()
	}
	cu.collectGTIDs()
	return results, cu.execError(targets, errs)
}

// execError reports the outcome of a statement that failed on some
// targets: the error alone for one target, else the first error naming
// its shard and how many others applied the statement.
func (cu *cursor) execError(targets []engine.Target, errs []error) error {
	var first error
	failedAt, failed := -1, 0
	for i, err := range errs {
		if err != nil {
			failed++
			if first == nil {
				first, failedAt = err, i
			}
		}
	}
	if first == nil || len(targets) == 1 {
		return first
	}
	if _, ok := first.(*lostError); ok {
		return first
	}
	se, _ := sqlerr.From(first)
	return &sqlerr.Error{Num: se.Num, State: se.State, Message: se.Message + " (on cluster " +
		cu.srv.clusterList[targets[failedAt].Cluster].Name + "; the statement ran on " +
		strconv.Itoa(len(targets)-failed) + " of " + strconv.Itoa(len(targets)) + " clusters, which keep its effect)"}
}

// noteGTIDAsync reads a write's GTID on its connection from an Exec
// goroutine; collectGTIDs records them once the goroutines are done.
func (cu *cursor) noteGTIDAsync(ctx context.Context, bc *backend.Conn, cl int) {
	ss := cu.ss
	if !mayWrite(cu.cur.info.Kind) || (ss.consistency != router.Causal && !ss.user.allowHints) {
		return
	}
	rows, err := bc.Query(ctx, "SELECT @@last_gtid")
	if err != nil || len(rows) != 1 || !validGTID(rows[0][0].Text) {
		return
	}
	cu.gtidMu.Lock()
	cu.pending = append(cu.pending, pendingGTID{cl, rows[0][0].Text})
	cu.gtidMu.Unlock()
}

// pendingGTID is a GTID read by an Exec goroutine.
type pendingGTID struct {
	cluster int
	gtid    string
}

func (cu *cursor) collectGTIDs() {
	for _, p := range cu.pending {
		wrote(cu, p.cluster, p.gtid)
	}
	cu.pending = cu.pending[:0]
}

// Internal implements engine.Cursor.
func (cu *cursor) Internal(ctx context.Context, cl int, sql string) ([]engine.Row, error) {
	pool := cu.srv.clusterList[cl].Primary
	bc, err := pool.Get(ctx, backend.FlavourPlain, cu.ss.user.class.idx)
	if err != nil {
		return nil, err
	}
	defer pool.Put(bc)
	if err := bc.Sync(ctx, internalState(cu.ss.state, &cu.ss.internal)); err != nil {
		bc.MarkBroken()
		return nil, err
	}
	pool.Queries.Add(1)
	rows, err := bc.Query(ctx, sql)
	if err != nil {
		if _, coded := sqlerr.From(err); !coded {
			bc.MarkBroken()
		}
		return nil, err
	}
	out := make([]engine.Row, len(rows))
	for i, r := range rows {
		row := make(engine.Row, len(r))
		for j, v := range r {
			if !v.Null {
				row[j] = []byte(v.Text)
			}
		}
		out[i] = row
	}
	return out, nil
}

// packet returns the command that runs a target's statement on bc: sql
// as a COM_QUERY, or (sql empty) the client's statement: its COM_QUERY,
// or its prepared execution with the backend's statement id (prepared on
// bc first if needed, its long data sent before it).
func (cu *cursor) packet(ctx context.Context, bc *backend.Conn, sql string) ([]byte, error) {
	c := &cu.cur
	switch {
	case sql != "":
		cu.pkt = append(append(cu.pkt[:0], mysql.COM_QUERY), sql...)
		return cu.pkt, nil
	case c.stmt == nil && c.packet != nil:
		return c.packet, nil
	case c.stmt == nil:
		cu.pkt = append(append(cu.pkt[:0], mysql.COM_QUERY), c.text...)
		return cu.pkt, nil
	}
	cs := c.stmt
	bst, err := cu.backendStmt(ctx, bc, cs)
	if err != nil {
		return nil, err
	}
	for _, ld := range cs.long {
		binary.LittleEndian.PutUint32(ld[1:], bst.ID)
		if err := bc.WriteCommand(ld); err != nil {
			return nil, sqlerr.Wrap(err, sqlerr.ErrBackendUnavailable, "Lost connection to backend %s", bc.Addr())
		}
	}
	// The client's packet, with the backend's id, and with the parameter
	// types added when this backend statement has not seen these types.
	p := c.exec
	cu.pkt = append(cu.pkt[:0], p...)
	binary.LittleEndian.PutUint32(cu.pkt[1:], bst.ID)
	if cs.params > 0 {
		at := cs.typesAt
		if p[at] == 0 && string(bst.Types) != string(cs.types) {
			cu.pkt = append(cu.pkt[:at], 1)
			cu.pkt = append(cu.pkt, cs.types...)
			cu.pkt = append(cu.pkt, p[at+1:]...)
		}
		bst.Types = append(bst.Types[:0], cs.types...)
	}
	return cu.pkt, nil
}
