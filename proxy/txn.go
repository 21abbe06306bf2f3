package proxy

import (
	"context"
	"fmt"
	"strings"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// txn is the session's transaction as Courier carries it across clusters.
// A transaction has a branch on each cluster it reached: a connection to
// that cluster's primary, held by the session, opened by the first
// statement that executes there (never by BEGIN or PREPARE alone) with
// the statement that began the transaction. COMMIT and ROLLBACK end every
// branch. With sharding.multi_shard_transactions: reject, it may read on
// any cluster but write on one only: a write on a second is refused (so
// its commit stays atomic: the branches that only read end first, and
// their end cannot lose a write); with best_effort, the branches that
// wrote commit one after another and a failure part-way is reported with
// what committed.
type txn struct {
	open  bool   // BEGIN (or START TRANSACTION) seen and not ended
	begin string // the statement that began it, run on each branch
	// next is a SET TRANSACTION for the next transaction, run on each of
	// its branches before its begin.
	next string
	// savepoints are the transaction's SAVEPOINT statements in order; a
	// branch opened later gets them too, so that rolling back to one
	// undoes what the branch did since (everything).
	savepoints []string
	branches   int
	writers    int // branches that wrote
}

// active reports whether statements now belong to a transaction: one was
// begun, or autocommit is off (every statement then does).
func (t *txn) active(ss *session) bool { return t.open || autocommitOff(ss.state) }

// openBranch opens the transaction's branch on cluster cl: on the
// session's pinned connection there, or a pooled primary connection.
func (cu *cursor) openBranch(ctx context.Context, cl int) error {
	if err := cu.tx.checkWrite(&cu.conns[cl], cu.cur.writes, cu.ss.snap.bestEffort()); err != nil {
		return err
	}
	h := &cu.conns[cl]
	if h.bc == nil {
		pool := cu.srv.clusterList[cl].Primary
		bc, err := pool.Get(ctx, cu.ss.flavour, cu.ss.user.class.idx)
		if err != nil {
			return err
		}
		if err := cu.ready(ctx, bc); err != nil {
			pool.Put(bc)
			return err
		}
		h.bc = bc
	}
	for _, q := range cu.tx.opening() {
		if err := h.bc.Exec(ctx, q); err != nil {
			if !h.pinned {
				h.bc.Pool().Put(h.bc)
				h.bc = nil
			}
			return err
		}
	}
	h.branch = true
	cu.tx.branches++
	cu.info.Held = append(cu.info.Held, cl)
	cu.tx.noteWrite(h, cu.cur.writes)
	return nil
}

// checkWrite refuses a statement that writes (writes) in branch h while
// another branch has the transaction's writes and they may not spread
// (multi_shard_transactions: reject, bestEffort false).
func (t *txn) checkWrite(h *held, writes, bestEffort bool) error {
	if writes && !h.wrote && t.writers > 0 && !bestEffort {
		return sqlerr.NotSupported("a transaction that writes on two shards",
			"keep each transaction's writes on one shard (it may read on any), or set sharding.multi_shard_transactions: best_effort")
	}
	return nil
}

// noteWrite records that a statement that writes (writes) writes in
// branch h.
func (t *txn) noteWrite(h *held, writes bool) {
	if writes && !h.wrote {
		h.wrote = true
		t.writers++
	}
}

// opening lists the statements a new branch runs before its first.
func (t *txn) opening() []string {
	var qs []string
	if t.next != "" {
		qs = append(qs, t.next)
	}
	if t.open && t.begin != "" {
		qs = append(qs, t.begin)
	}
	return append(qs, t.savepoints...)
}

// endTxn ends the transaction on every branch with stmt (the client's
// COMMIT or ROLLBACK, or COMMIT for an implicit commit) and gives the
// branches' connections back. A COMMIT that fails on one branch rolls
// back the branches not yet committed and reports how many committed.
func (cu *cursor) endTxn(ctx context.Context, commit bool, stmt string) (engine.Result, error) {
	var res engine.Result
	var failed error
	committed := 0
	// The branches that only read end first: whatever befalls them, no
	// write is lost or half-done.
	for cl := range cu.conns {
		if h := &cu.conns[cl]; h.branch && !h.wrote {
			ok, err := h.bc.ExecOK(ctx, stmt)
			if err != nil {
				h.bc.MarkBroken()
			} else {
				res.Warnings += ok.Warnings
			}
			cu.endBranch(cl)
		}
	}
	for cl := range cu.conns {
		h := &cu.conns[cl]
		if !h.branch {
			continue
		}
		q := stmt
		if !commit || failed != nil {
			q = "ROLLBACK"
		}
		ok, err := h.bc.ExecOK(ctx, q)
		switch {
		case err != nil && commit && failed == nil:
			failed = cu.commitFailed(cl, err, committed)
		case err != nil:
			h.bc.MarkBroken()
		case commit && failed == nil:
			committed++
			res.Warnings += ok.Warnings
			cu.noteGTID(ctx, h.bc, cl)
		}
		cu.endBranch(cl)
	}
	cu.tx = txn{}
	return res, failed
}

// commitFailed is the error for a COMMIT that failed on branch cl after
// committed others committed.
func (cu *cursor) commitFailed(cl int, err error, committed int) error {
	h := cu.conns[cl]
	se, coded := sqlerr.From(err)
	if !coded {
		h.bc.MarkBroken()
	}
	if cu.tx.writers <= 1 {
		if coded {
			return se
		}
		return sqlerr.Wrap(err, sqlerr.ErrBackendUnavailable, "Lost connection to backend %s during COMMIT; the transaction may or may not have committed", h.bc.Addr())
	}
	return sqlerr.Wrap(err, 1180, "Got error %d during COMMIT on shard %s: %s; %d other shard(s) of this transaction committed, the rest were rolled back (multi_shard_transactions: best_effort)",
		se.Num, cu.srv.clusterList[cl].Name, se.Message, committed)
}

// endBranch gives back branch cl's connection (a pinned one stays).
func (cu *cursor) endBranch(cl int) {
	h := &cu.conns[cl]
	h.branch, h.wrote = false, false
	if h.pinned && !h.bc.Broken() {
		return
	}
	h.bc.Pool().Put(h.bc)
	*h = held{}
}

// rollbackAll ends the transaction on every branch after one of them lost
// it (a deadlock rolls the whole transaction back, as MySQL does).
func (cu *cursor) rollbackAll(ctx context.Context) {
	if cu.tx.branches > 0 {
		_, _ = cu.endTxn(ctx, false, "ROLLBACK")
	}
	cu.tx = txn{}
}

// savepoint runs SAVEPOINT, ROLLBACK TO SAVEPOINT or RELEASE SAVEPOINT on
// every branch and remembers the savepoints for branches opened later.
func (cu *cursor) savepoint(ctx context.Context, stmt string) error {
	name, op := savepointOf(stmt)
	for cl := range cu.conns {
		if h := cu.conns[cl]; h.branch {
			if err := h.bc.Exec(ctx, stmt); err != nil {
				return err
			}
		}
	}
	at := -1
	for i, sp := range cu.tx.savepoints {
		if n, _ := savepointOf(sp); strings.EqualFold(n, name) {
			at = i
		}
	}
	switch op {
	case "savepoint":
		if at >= 0 { // a savepoint of the same name replaces the old one
			cu.tx.savepoints = append(cu.tx.savepoints[:at], cu.tx.savepoints[at+1:]...)
		}
		cu.tx.savepoints = append(cu.tx.savepoints, stmt)
	case "rollback":
		if at < 0 && cu.tx.branches == 0 {
			return sqlerr.New(1305, "SAVEPOINT %s does not exist", name)
		}
		if at >= 0 { // later savepoints go; this one stays
			cu.tx.savepoints = cu.tx.savepoints[:at+1]
		}
	case "release":
		if at < 0 && cu.tx.branches == 0 {
			return sqlerr.New(1305, "SAVEPOINT %s does not exist", name)
		}
		if at >= 0 {
			cu.tx.savepoints = cu.tx.savepoints[:at]
		}
	}
	return nil
}

// savepointOf reads a savepoint statement's name and operation
// (savepoint, rollback, release).
func savepointOf(stmt string) (name, op string) {
	f := strings.Fields(strings.TrimRight(strings.TrimSpace(stmt), ";"))
	if len(f) == 0 {
		return "", ""
	}
	op = strings.ToLower(f[0])
	name = strings.Trim(f[len(f)-1], "`")
	return name, op
}

// clientStatus is the server status Courier reports for the session:
// autocommit as the session set it, in a transaction while one is open.
func (ss *session) clientStatus() uint16 {
	var st uint16
	if !autocommitOff(ss.state) {
		st |= wire.StatusAutocommit
	}
	if ss.cur.tx.open || (autocommitOff(ss.state) && ss.cur.tx.branches > 0) {
		st |= wire.StatusInTrans
	}
	if ss.mode.Has(parser.NoBackslashEscapes) {
		st |= wire.StatusNoBackslashEsc
	}
	return st
}

var _ = fmt.Sprint
