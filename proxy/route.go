package proxy

import (
	"context"
	"strconv"
	"time"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/sqlerr"
)

// plan is where one statement runs.
type plan struct {
	ci      *clusterInfo
	pool    *backend.Pool
	replica *backend.Replica // set for reads on a replica
	causal  bool             // wait for the session's last write first
}

// routing is the session's state as the router sees it.
func (ss *session) routing(ci *clusterInfo) router.Session {
	return router.Session{
		ReplicaReads:  ci.replicaReads,
		InTransaction: ss.status&wire.StatusInTrans != 0 || ss.autocommitOff(),
		Pinned:        ss.pinned,
		Consistency:   ss.consistency,
		AllowHints:    ss.user.allowHints,
	}
}

func (ss *session) autocommitOff() bool {
	v, ok := ss.state.Var("autocommit")
	return ok && v == "0"
}

// plan chooses the backend of cluster ci for a statement: the connection
// the session holds when the statement belongs there, else the router's
// choice. A transaction or pinned session cannot move to another cluster.
func (ss *session) plan(info parser.Info, ci *clusterInfo) (plan, error) {
	if bc := ss.bc; bc != nil {
		sticky := ss.status&(wire.StatusInTrans|wire.StatusCursorExists) != 0 || (ss.pinned && ss.heldReplica == nil) || len(ss.others) > 0
		if sticky && bc.Pool() != ci.Primary && ss.bestEffort() && ss.srv.isShard(ci) && ss.srv.isShard(ss.srv.ofPool[bc.Pool()]) {
			ss.moveTo(ci.Primary)
			return plan{ci: ci, pool: ci.Primary}, nil
		}
		if sticky && bc.Pool() != ci.Primary {
			return plan{}, sqlerr.NotSupported("a transaction (or a session holding locks, temporary tables or user variables) that spans shards",
				"keep each transaction on one shard (every statement in it must name the same sharding key's shard), or set sharding.multi_shard_transactions: best_effort")
		}
		if sticky || info.Flags&parser.FlagDiagnostics != 0 {
			return plan{ci: ci, pool: bc.Pool(), replica: ss.heldReplica}, nil
		}
	}
	target, cons := router.Decide(info, ss.routing(ci))
	if target == router.Primary {
		ss.srv.metrics.routedPrimary.Inc()
		return plan{ci: ci, pool: ci.Primary}, nil
	}
	return ss.replicaPlan(ci, nil, cons == router.Causal)
}

// replicaPlan picks a replica of ci (other than exclude) or falls back.
func (ss *session) replicaPlan(ci *clusterInfo, exclude *backend.Replica, causal bool) (plan, error) {
	r := ci.Pick(exclude)
	if r == nil {
		ss.srv.metrics.routedFallback.Inc()
		if ci.fallbackErr {
			return plan{}, sqlerr.New(sqlerr.ErrUnknown,
				"no replica of cluster %s is usable (replication.fallback = error); retry later or read with /* courier:primary */",
				ci.Name)
		}
		return plan{ci: ci, pool: ci.Primary}, nil
	}
	ss.srv.metrics.routedReplica.Inc()
	return plan{ci: ci, pool: r.Pool, replica: r, causal: causal && ss.lastGTID != ""}, nil
}

// acquirePlan gets a connection for pl. A replica that cannot be reached
// leaves rotation and the read goes elsewhere; a causal read whose
// replica has not applied the session's last write within causal_wait
// goes to the primary.
func (ss *session) acquirePlan(ctx context.Context, pl *plan) (*backend.Conn, error) {
	for range len(pl.ci.Replicas) + 2 {
		bc, err := ss.acquireOn(ctx, pl.pool)
		if pl.replica == nil {
			ss.heldReplica = nil
			return bc, err
		}
		if err != nil {
			se, _ := sqlerr.From(err)
			switch se.Num {
			case sqlerr.ErrBackendUnavailable, sqlerr.ErrCannotConnect, sqlerr.ErrUnknown:
				pl.ci.Fail(pl.replica, err) // unreachable: out of rotation
			case sqlerr.ErrTooManyConnections:
				// busy, not broken: try another without marking it
			default:
				return nil, err // the server answered: not the replica's fault
			}
			if *pl, err = ss.replicaPlan(pl.ci, pl.replica, pl.causal); err != nil {
				return nil, err
			}
			continue
		}
		if pl.causal && !ss.caughtUp(ctx, bc, pl.replica, pl.ci.causalWait) {
			ss.srv.metrics.causalFallback.Inc()
			ss.releaseIdle()
			*pl = plan{ci: pl.ci, pool: pl.ci.Primary}
			continue
		}
		ss.heldReplica = pl.replica
		return bc, nil
	}
	return ss.acquireOn(ctx, pl.ci.Primary)
}

// caughtUp reports whether the replica behind bc has applied the
// session's last write, waiting up to causal_wait for it.
func (ss *session) caughtUp(ctx context.Context, bc *backend.Conn, r *backend.Replica, wait time.Duration) bool {
	gtid := ss.lastGTID
	if ss.causalSeen[r] == gtid || backend.GTIDCovered(r.GTIDPos(), gtid) {
		return true
	}
	ss.srv.metrics.causalWaits.Inc()
	secs := strconv.FormatFloat(wait.Seconds(), 'f', 3, 64)
	rows, err := bc.Query(ctx, "SELECT MASTER_GTID_WAIT('"+gtid+"', "+secs+")")
	if err != nil || len(rows) != 1 || rows[0][0].Text != "0" {
		return false
	}
	if ss.causalSeen == nil {
		ss.causalSeen = make(map[*backend.Replica]string)
	}
	ss.causalSeen[r] = gtid
	return true
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

// noteGTID records the GTID of the session's last committed write on the
// primary, which causal reads wait for.
func (ss *session) noteGTID(ctx context.Context, bc *backend.Conn, info parser.Info, res result) {
	if res.failed || res.status&wire.StatusInTrans != 0 || !mayWrite(info.Kind) ||
		(ss.consistency != router.Causal && !ss.user.allowHints) {
		return
	}
	rows, err := bc.Query(ctx, "SELECT @@last_gtid")
	if err != nil || len(rows) != 1 || !validGTID(rows[0][0].Text) {
		return
	}
	if g := rows[0][0].Text; g != ss.lastGTID {
		ss.lastGTID = g
		clear(ss.causalSeen)
	}
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

// errRetry reports that a read failed on a replica before any of its
// reply reached the client, so it may run again elsewhere.
type errRetry struct{ cause error }

func (e *errRetry) Error() string { return "replica failed before replying: " + e.cause.Error() }
func (e *errRetry) Unwrap() error { return e.cause }

// runStatement routes a statement, builds its packet for the chosen
// connection, runs it and relays the reply. An autocommit read that fails
// on a replica before any reply byte is sent runs once more elsewhere;
// nothing else is retried. ok is false when an error already went to the
// client; err is non-nil only when the client connection is unusable.
func (ss *session) runStatement(ctx context.Context, info parser.Info, ci *clusterInfo,
	build func(*backend.Conn) ([]byte, error)) (res result, ok bool, err error) {
	pl, err := ss.plan(info, ci)
	if err != nil {
		return res, false, ss.writeErr(err)
	}
	for attempt := 0; ; attempt++ {
		bc, err := ss.acquirePlan(ctx, &pl)
		if err != nil {
			return res, false, ss.writeErr(err)
		}
		if ss.pendingBegin != "" { // the transaction starts here, on this shard
			if err := bc.Exec(ctx, ss.pendingBegin); err != nil {
				ss.releaseIdle()
				return res, false, ss.writeErr(err)
			}
			ss.beginText, ss.pendingBegin = ss.pendingBegin, ""
		}
		pkt, err := build(bc)
		if err != nil {
			ss.releaseIdle()
			return res, false, ss.writeErr(err)
		}
		retryable := pl.replica != nil && attempt == 0
		res, err = ss.execute(ctx, bc, pkt, retryable)
		if retry, ok := err.(*errRetry); ok { // execute returns it unwrapped
			ss.srv.metrics.retries.Inc()
			pl.ci.Fail(pl.replica, retry.cause)
			ss.releaseIdle()
			if pl, err = ss.replicaPlan(pl.ci, pl.replica, pl.causal); err != nil {
				return res, false, ss.writeErr(err)
			}
			continue
		}
		if err != nil {
			return res, false, err
		}
		if pl.replica == nil && !res.failed {
			ss.noteGTID(ctx, bc, info, res)
		}
		return res, true, nil
	}
}

// execute sends a command to bc and relays the reply to the client. The
// error is non-nil only when the client connection is unusable, or (with
// retryable) as *errRetry when the backend failed before replying.
func (ss *session) execute(ctx context.Context, bc *backend.Conn, p []byte, retryable bool) (result, error) {
	timeout := ss.srv.queryTimeout()
	if timeout > 0 {
		bc.SetDeadline(time.Now().Add(timeout))
	}
	pool := bc.Pool()
	pool.Queries.Add(1)
	pool.InFlight.Add(1)
	defer pool.InFlight.Add(-1)
	ss.running.Store(bc)
	defer ss.running.Store(nil)
	if err := bc.WriteCommand(p); err != nil {
		pool.Errors.Add(1)
		if retryable {
			return result{failed: true}, &errRetry{err}
		}
		return ss.backendFailed(bc, err)
	}
	res, err := ss.relay(ctx, bc, retryable)
	if res.backendErr {
		pool.Errors.Add(1)
	}
	if timeout > 0 && !bc.Broken() {
		bc.SetDeadline(time.Time{})
	}
	return res, err
}
