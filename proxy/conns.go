package proxy

import (
	"context"
	"strconv"
	"time"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/sqlerr"
)

// stateFlags mark statements that leave state on their connection that
// Courier cannot carry to another one: the session keeps that connection.
const stateFlags = parser.FlagUserVar | parser.FlagLockFunc | parser.FlagTemporary

// sticky reports whether a statement pins the session to its connection.
func sticky(info parser.Info) bool {
	switch info.Kind {
	case parser.KindLock, parser.KindPrepare, parser.KindHandler, parser.KindXA, parser.KindCall:
		return true
	}
	return info.Flags&stateFlags != 0
}

// routing is a session's state on one cluster as the router sees it.
func routing(ci *clusterInfo, ss *session, h held) router.Session {
	return router.Session{
		ReplicaReads:  ci.replicaReads,
		InTransaction: ss.cur.tx.active(ss),
		Pinned:        h.pinned,
		Consistency:   ss.consistency,
		AllowHints:    ss.user.allowHints,
	}
}

// acquire returns the connection cluster cl runs the current statement
// on: the one the session holds there (its transaction's branch, opened
// now when the transaction has none there yet; a pinned connection), else
// a replica's for a read the rules allow (that has applied the session's
// last write there, for causal reads), else a pooled primary connection.
// The connection is brought to the session's state and recorded as used.
func (cu *cursor) acquire(ctx context.Context, cl int, read bool) (*backend.Conn, *backend.Replica, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if err := cu.checkState(cl); err != nil {
		return nil, nil, err
	}
	if cu.cur.writes {
		if err := cu.srv.readOnly.check(cl); err != nil {
			return nil, nil, err
		}
	}
	h := &cu.conns[cl]
	if !h.branch && cu.tx.active(cu.ss) {
		if err := cu.openBranch(ctx, cl); err != nil {
			return nil, nil, err
		}
	}
	if h.bc != nil {
		if h.branch {
			if err := cu.tx.checkWrite(&cu.conns[cl], cu.cur.writes, cu.ss.snap.bestEffort()); err != nil {
				return nil, nil, err
			}
			cu.tx.noteWrite(&cu.conns[cl], cu.cur.writes)
		}
		if err := cu.ready(ctx, h.bc); err != nil {
			return nil, nil, err
		}
		cu.used = append(cu.used, borrowed{bc: h.bc, cluster: cl, held: true})
		return h.bc, nil, nil
	}
	if cu.last != nil && cu.lastCluster == cl && cu.cur.info.Flags&parser.FlagDiagnostics != 0 {
		bc := cu.last
		cu.last, cu.lastCluster = nil, -1
		cu.used = append(cu.used, borrowed{bc: bc, cluster: cl})
		return bc, nil, cu.ready(ctx, bc)
	}
	ci := cu.srv.clusterList[cl]
	if read && !cu.cur.sticky {
		if target, cons := router.Decide(cu.cur.info, routing(ci, cu.ss, cu.conns[cl])); target == router.Replica {
			if bc, r, err := cu.replicaConn(ctx, ci, cl, cons == router.Causal, nil); bc != nil || err != nil {
				return bc, r, err
			}
		}
	}
	cu.srv.metrics.routedPrimary.Inc()
	return cu.pooled(ctx, ci.Primary, cl, nil)
}

// checkState refuses to run a statement that reads or sets session state
// (user variables, temporary tables, named locks) on another cluster than
// the one that state lives on.
func (cu *cursor) checkState(cl int) error {
	if cu.cur.info.Flags&stateFlags == 0 && !cu.cur.sticky {
		return nil
	}
	for i, h := range cu.conns {
		if h.pinned && i != cl {
			return sqlerr.NotSupported("session state (user variables, temporary tables, locks) used on two clusters",
				"keep statements that use the session's variables, temporary tables or locks on one shard, or pass values as literals")
		}
	}
	return nil
}

// pooled gets a connection from pool (a replica's when r is set) brought
// to the session's state and records it as used by the statement.
func (cu *cursor) pooled(ctx context.Context, pool *backend.Pool, cl int, r *backend.Replica) (*backend.Conn, *backend.Replica, error) {
	bc, err := pool.Get(ctx, cu.ss.flavour, cu.ss.user.class.idx)
	if err != nil {
		return nil, nil, err
	}
	cu.used = append(cu.used, borrowed{bc: bc, cluster: cl, replica: r})
	if err := cu.ready(ctx, bc); err != nil {
		return nil, nil, err
	}
	return bc, r, nil
}

// ready brings bc to the session's state, and LAST_INSERT_ID() to the
// session's value when the statement reads it.
func (cu *cursor) ready(ctx context.Context, bc *backend.Conn) error {
	ss := cu.ss
	if err := bc.Sync(ctx, ss.state); err != nil {
		return err
	}
	if cu.cur.info.Flags&parser.FlagLastInsertID != 0 && bc.LastInsertID != ss.lastInsertID {
		if err := bc.Exec(ctx, "DO LAST_INSERT_ID("+strconv.FormatUint(ss.lastInsertID, 10)+")"); err != nil {
			return err
		}
		bc.LastInsertID = ss.lastInsertID
	}
	return nil
}

// replicaConn gets a connection to a replica of ci (other than exclude)
// for a read. A replica that cannot be reached leaves rotation and
// another is tried; a causal read whose replica has not applied the
// session's last write on this cluster within causal_wait goes to the
// primary. It returns no connection (and no error) when the read must go
// to the primary.
func (cu *cursor) replicaConn(ctx context.Context, ci *clusterInfo, cl int, causal bool, exclude *backend.Replica) (*backend.Conn, *backend.Replica, error) {
	m := cu.srv.metrics
	for range len(ci.Replicas) + 1 {
		r := ci.Pick(exclude)
		if r == nil {
			m.routedFallback.Inc()
			if ci.fallbackErr {
				return nil, nil, sqlerr.New(sqlerr.ErrUnknown,
					"no replica of cluster %s is usable (replication.fallback = error); retry later or read with /* courier:primary */", ci.Name)
			}
			return nil, nil, nil
		}
		bc, err := r.Pool.Get(ctx, cu.ss.flavour, cu.ss.user.class.idx)
		if err != nil {
			se, _ := sqlerr.From(err)
			switch se.Num {
			case sqlerr.ErrBackendUnavailable, sqlerr.ErrCannotConnect, sqlerr.ErrUnknown:
				ci.Fail(r, err) // unreachable: out of rotation
			case sqlerr.ErrTooManyConnections: // busy, not broken
			default:
				return nil, nil, err // the server answered: not the replica's fault
			}
			exclude = r
			continue
		}
		if err := cu.ready(ctx, bc); err != nil {
			bc.MarkBroken()
			r.Pool.Put(bc)
			ci.Fail(r, err)
			exclude = r
			continue
		}
		if causal && !cu.caughtUp(ctx, bc, r, cl, ci.causalWait) {
			m.causalFallback.Inc()
			r.Pool.Put(bc)
			return nil, nil, nil
		}
		m.routedReplica.Inc()
		cu.used = append(cu.used, borrowed{bc: bc, cluster: cl, replica: r})
		return bc, r, nil
	}
	return nil, nil, nil
}

// caughtUp reports whether the replica behind bc has applied the last
// write on cluster cl that the session must read (see need), waiting up
// to wait for it.
func (cu *cursor) caughtUp(ctx context.Context, bc *backend.Conn, r *backend.Replica, cl int, wait time.Duration) bool {
	c := &cu.causal[cl]
	gtid := need(cu, cl)
	if gtid == "" || c.seen[r] == gtid || backend.GTIDCovered(r.GTIDPos(), gtid) {
		return true
	}
	if wait <= 0 { // causal_wait: 0 — never wait on a replica: read from the primary
		return false
	}
	cu.srv.metrics.causalWaits.Inc()
	secs := strconv.FormatFloat(wait.Seconds(), 'f', 3, 64)
	wctx, cancel := context.WithTimeout(ctx, wait+250*time.Millisecond)
	defer cancel()
	rows, err := bc.Query(wctx, "SELECT MASTER_GTID_WAIT('"+gtid+"', "+secs+")")
	if err != nil {
		bc.MarkBroken()
		return false
	}
	if len(rows) != 1 || rows[0][0].Text != "0" {
		return false
	}
	if c.seen == nil {
		c.seen = make(map[*backend.Replica]string)
	}
	c.seen[r] = gtid
	return true
}

// need is the GTID a causal read on cluster cl must see: the later of
// the session's last write there and its user's (any session of the
// user on this instance: an application's pool spreads one unit of work
// over several connections, and reads its writes back on any of them).
func need(cu *cursor, cl int) string {
	g := cu.causal[cl].gtid
	if u := cu.ss.user.writes.last(cl); u != "" && u != g && (g == "" || backend.GTIDCovered(u, g)) {
		g = u
	}
	return g
}

// wrote records a write's GTID on cluster cl, for the session's causal
// reads and its user's.
func wrote(cu *cursor, cl int, gtid string) {
	if c := &cu.causal[cl]; gtid != c.gtid {
		c.gtid = gtid
		clear(c.seen)
	}
	cu.ss.user.writes.note(cl, gtid)
}

// noteGTID records, for causal reads, the GTID of the session's last
// committed write on cluster cl, read on the connection that wrote it.
func (cu *cursor) noteGTID(ctx context.Context, bc *backend.Conn, cl int) {
	ss := cu.ss
	if ss.consistency != router.Causal && !ss.user.allowHints {
		return
	}
	rows, err := bc.Query(ctx, "SELECT @@last_gtid")
	if err != nil || len(rows) != 1 || !validGTID(rows[0][0].Text) {
		return
	}
	wrote(cu, cl, rows[0][0].Text)
}

func validGTID(g string) bool {
	if g == "" {
		return false
	}
	for _, c := range g {
		if (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// finish ends the statement on the backends: streams it opened are read
// to their end (or their connections dropped), borrowed connections go
// back to their pools unless the session keeps them — held ones, one the
// statement pinned, and the last one when the next statement may read
// its diagnostics.
func (cu *cursor) finish(keepLast bool) {
	for _, s := range cu.streams {
		s.drain()
	}
	cu.streams = cu.streams[:0]
	if cu.last != nil {
		cu.last.Pool().Put(cu.last)
		cu.last, cu.lastCluster = nil, -1
	}
	single := len(cu.used) == 1
	for _, u := range cu.used {
		switch {
		case u.held:
			continue
		case cu.cur.sticky && u.replica == nil && !u.bc.Broken():
			cu.conns[u.cluster] = held{bc: u.bc, pinned: true}
			continue
		case keepLast && single && !u.bc.Broken():
			cu.last, cu.lastCluster = u.bc, u.cluster
			continue
		}
		u.bc.Pool().Put(u.bc)
	}
	cu.used = cu.used[:0]
	for i := range cu.conns {
		if h := &cu.conns[i]; h.bc != nil && h.bc.Broken() && !h.branch {
			h.bc.Pool().Put(h.bc)
			*h = held{}
		}
	}
}

// releaseAll gives back every connection, resetting those that hold
// session state or a transaction (the session ends, or starts afresh).
func (cu *cursor) releaseAll() {
	cu.finish(false)
	for i := range cu.conns {
		h := &cu.conns[i]
		if h.bc == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := h.bc.Reset(ctx); err != nil {
			h.bc.MarkBroken()
		}
		cancel()
		h.bc.Pool().Put(h.bc)
		*h = held{}
	}
	cu.tx = txn{}
}
