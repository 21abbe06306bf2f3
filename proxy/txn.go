package proxy

import (
	"context"
	"time"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/sqlerr"
)

// Multi-shard transactions (sharding.multi_shard_transactions:
// best_effort). The session's connection (ss.bc) is the transaction's
// connection on the shard the last statement ran on; its connections on
// the other shards it reached wait in ss.others. COMMIT and ROLLBACK run
// on each of them in turn, then on ss.bc, whose reply the client gets.
// There is no two-phase commit: if a commit fails part-way, the shards
// that committed stay committed and the client gets error 1180 naming
// them.

// bestEffort reports whether the session's transaction may reach another
// shard.
func (ss *session) bestEffort() bool {
	return ss.srv.cfg.Sharding != nil && ss.srv.cfg.Sharding.MultiShardTransactions == "best_effort" &&
		(ss.status&wire.StatusInTrans != 0 || ss.autocommitOff()) &&
		!ss.pinned && ss.status&wire.StatusCursorExists == 0
}

// moveTo makes the transaction's connection to pool the session's
// connection, parking the current one; a shard the transaction has not
// reached yet gets a connection (and the transaction's BEGIN) when the
// statement runs.
func (ss *session) moveTo(pool *backend.Pool) {
	cur := ss.bc
	if ss.others == nil {
		ss.others = map[*backend.Pool]*backend.Conn{}
	}
	if cur != nil {
		ss.others[cur.Pool()] = cur
	}
	ss.bc, ss.heldReplica = ss.others[pool], nil
	delete(ss.others, pool)
	if ss.bc == nil && ss.beginText != "" {
		ss.pendingBegin = ss.beginText
	}
}

// txnConn returns the transaction's connection to pool for one part of a
// multi-shard statement, opening it (with the transaction's BEGIN) on
// first use. It stays with the session.
func (ss *session) txnConn(ctx context.Context, pool *backend.Pool) (*backend.Conn, error) {
	if ss.bc != nil && ss.bc.Pool() == pool {
		return ss.bc, nil
	}
	if bc := ss.others[pool]; bc != nil {
		return bc, nil
	}
	bc, err := ss.borrow(ctx, pool)
	if err != nil {
		return nil, err
	}
	if ss.beginText != "" {
		if err := bc.Exec(ctx, ss.beginText); err != nil {
			pool.Put(bc)
			return nil, err
		}
	}
	if ss.bc == nil {
		ss.bc = bc
		ss.pendingBegin = ""
		return bc, nil
	}
	if ss.others == nil {
		ss.others = map[*backend.Pool]*backend.Conn{}
	}
	ss.others[pool] = bc
	return bc, nil
}

// endOthers runs COMMIT or ROLLBACK (the client's statement q) on the
// transaction's parked connections and gives them back. It returns an
// error for the client when a commit failed; the remaining shards are
// rolled back.
func (ss *session) endOthers(ctx context.Context, commit bool, q string) error {
	if len(ss.others) == 0 {
		return nil
	}
	var failed error
	committed := 0
	for pool, bc := range ss.others {
		delete(ss.others, pool)
		stmt := q
		if !commit || failed != nil {
			stmt = "ROLLBACK"
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := bc.Exec(cctx, stmt)
		cancel()
		switch {
		case err != nil && commit && failed == nil:
			failed = sqlerr.Wrap(err, 1180, "Got error during COMMIT on shard backend %s: %v; %d other shard(s) of this transaction committed, the rest were rolled back (multi_shard_transactions: best_effort)",
				bc.Addr(), err, committed)
			bc.MarkBroken()
		case err != nil:
			bc.MarkBroken()
		case commit && failed == nil:
			committed++
		}
		pool.Put(bc)
	}
	return failed
}

// settleOthers ends the parked connections' transactions when the
// session's transaction ended without COMMIT or ROLLBACK reaching them:
// an implicit commit (DDL, BEGIN, SET autocommit=1) commits them too.
func (ss *session) settleOthers(ctx context.Context, info parser.Info) {
	if len(ss.others) == 0 || ss.status&wire.StatusInTrans != 0 || ss.autocommitOff() {
		return
	}
	_ = ss.endOthers(ctx, info.Kind != parser.KindRollback, "COMMIT")
}

// dropOthers closes the parked connections (closing rolls back).
func (ss *session) dropOthers() {
	for pool, bc := range ss.others {
		delete(ss.others, pool)
		bc.MarkBroken()
		pool.Put(bc)
	}
}
