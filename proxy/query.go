package proxy

import (
	"context"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// clientLocalFiles is the capability flag of clients that allow LOAD DATA
// LOCAL.
const clientLocalFiles = mysql.CLIENT_LOCAL_FILES

// query runs a COM_QUERY: one statement, or a multi-statement batch whose
// statements are each classified, authorised, planned and run on their
// own, their results returned in order as MySQL returns them (the batch
// stops at the first error).
func (ss *session) query(p []byte) error {
	q := p[1:]
	info := parser.ClassifyMode(q, ss.mode)
	if info.Flags&parser.FlagMulti == 0 {
		_, err := ss.run(&statement{text: q, packet: p, info: info})
		return flush(ss.c, err)
	}
	if ss.state.NoMultiStatements { // the server answers with its syntax error
		_, err := ss.runWhole(q, p, info, false)
		return flush(ss.c, err)
	}
	pieces, ok := parser.Split(ss.pieces[:0], q, ss.mode)
	ss.pieces = pieces[:0]
	if !ok {
		if ss.srv.snapshot().schema.Sharded() {
			return flush(ss.c, ss.writeErr(sqlerr.NotSupported("a multi-statement batch whose statements Courier cannot tell apart with certainty",
				"send its statements one at a time")))
		}
		_, err := ss.runWhole(q, p, info, true)
		return flush(ss.c, err)
	}
	for i, piece := range pieces {
		st := statement{text: piece.Text, info: piece.Info, batch: true, more: i < len(pieces)-1}
		ok, err := ss.run(&st)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
	}
	return flush(ss.c, nil)
}

// runWhole sends a query as it came to the default cluster's primary,
// pinning the session there when sticky (a batch Courier cannot split
// leaves whatever state its statements set on that connection).
func (ss *session) runWhole(q, p []byte, info parser.Info, sticky bool) (bool, error) {
	info.Flags |= parser.FlagMulti
	st := &statement{text: q, packet: p, info: info}
	ss.w.reset(false, false, false)
	ctx := ss.cmd.start(ss.user.queryTimeout(ss.srv.queryTimeout()))
	defer ss.cmd.end()
	ss.srv.layouts.holds.enter(ss, parser.KindInsert) // its statements are unknown: it may write
	defer ss.srv.layouts.holds.leave(ss)
	if _, err := ss.srv.layouts.holds.admit(ctx, ss, nil, false, true); err != nil {
		return false, ss.answerErr(err)
	}
	if err := ss.user.admit(ctx, parser.KindInsert, &ss.srv.gov); err != nil {
		return false, ss.answerErr(err)
	}
	defer ss.user.leave(parser.KindInsert, &ss.srv.gov)
	cu := ss.cur
	c := currentOf(st, sticky)
	c.writes = true // its statements are unknown
	cu.begin(c)
	err := cu.streamOne(ctx, targetOf(0), false, &ss.w)
	if err != nil {
		err = ss.answerErr(err)
	}
	cu.finish(false)
	return err == nil, err
}

// flush sends what a command wrote to c, unless the connection is done
// for (err).
func flush(c *wire.Conn, err error) error {
	if err != nil {
		return err
	}
	return c.Flush()
}

// targetOf is the target running the client's statement on cluster cl.
func targetOf(cl int) engine.Target { return engine.Target{Cluster: cl} }

// transaction runs BEGIN, COMMIT, ROLLBACK, savepoints and SET
// TRANSACTION. BEGIN reaches no backend: each branch begins with it when
// a statement first executes on its cluster.
func (ss *session) transaction(ctx context.Context, st *statement) error {
	cu := ss.cur
	text := string(st.text)
	switch st.info.Kind {
	case parser.KindBegin:
		if cu.tx.branches > 0 { // BEGIN in a transaction commits it first
			if _, err := cu.endTxn(ctx, true, "COMMIT"); err != nil {
				return err
			}
		}
		next := cu.tx.next
		cu.tx = txn{open: true, begin: text, next: next}
		return ss.w.OK(engine.Result{})
	case parser.KindCommit, parser.KindRollback:
		res, err := cu.endTxn(ctx, st.info.Kind == parser.KindCommit, text)
		if err != nil {
			return err
		}
		if containsWord(st.text, "chain") && !containsWord(st.text, "no") {
			cu.tx = txn{open: true, begin: "BEGIN"}
		}
		return ss.w.OK(res)
	case parser.KindSavepoint:
		if err := cu.savepoint(ctx, text); err != nil {
			return err
		}
		return ss.w.OK(engine.Result{})
	}
	// SET TRANSACTION: for the next transaction's branches; in a
	// transaction the server says it cannot change it now.
	for cl, h := range cu.conns {
		if h.branch {
			return ss.direct(ctx, st, cl)
		}
	}
	cu.tx.next = text
	return ss.w.OK(engine.Result{})
}

// containsWord reports whether w (lower case) appears in q as a word,
// ignoring case.
func containsWord(q []byte, w string) bool {
	l := strings.ToLower(string(q))
	for i := strings.Index(l, w); i >= 0; {
		before := i == 0 || !isWordByte(l[i-1])
		after := i+len(w) == len(l) || !isWordByte(l[i+len(w)])
		if before && after {
			return true
		}
		j := strings.Index(l[i+1:], w)
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// short cuts a text quoted in an error message.
func short(s string) string {
	const max = 160
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
