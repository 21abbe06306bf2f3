package proxy

import (
	"context"
	"errors"
	"time"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// statement is one statement to run: a piece of a COM_QUERY, or a
// prepared statement's execution.
type statement struct {
	text   []byte
	packet []byte // the client's COM_QUERY packet, when it held just this statement
	info   parser.Info
	stmt   *clientStmt // a prepared execution
	exec   []byte      // its COM_STMT_EXECUTE packet
	// batch: a statement of a multi-statement batch; more: statements
	// follow it.
	batch, more bool
	// digest is the statement's shape for the digests, once planned (nil:
	// its kind stands for it).
	digest []byte
}

// errDeadlock is MySQL's error for a transaction rolled back by a
// deadlock.
const errDeadlock = 1213

// run runs one statement and answers it. It reports whether the
// statement succeeded (a batch stops at the first that fails); a returned
// error ends the connection.
func (ss *session) run(st *statement) (bool, error) {
	start := time.Now()
	cu := ss.cur
	ss.srv.layouts.holds.enter(ss, st.info.Kind)
	defer ss.srv.layouts.holds.leave(ss)
	ss.w.reset(st.stmt != nil, st.batch, st.more)
	if st.info.Flags&parser.FlagDiagnostics == 0 && cu.last != nil {
		cu.last.Pool().Put(cu.last)
		cu.last, cu.lastCluster = nil, -1
	}
	ctx := ss.cmd.start(ss.user.queryTimeout(ss.srv.queryTimeout()))
	defer ss.cmd.end()
	err := ss.user.admit(ctx, st.info.Kind, &ss.srv.gov)
	if err == nil {
		err = ss.dispatchStatement(ctx, st)
		ss.user.leave(st.info.Kind, &ss.srv.gov)
	}
	ok := err == nil && !ss.w.failed
	if errors.Is(err, errQuit) {
		return false, err
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, errKilled) {
			err = interrupted(err, ss.srv.metrics)
		}
		if se, coded := sqlerr.From(err); coded && se.Num == errDeadlock {
			cu.rollbackAll(ctx)
		}
		if werr := ss.answerErr(err); werr != nil {
			cu.finish(false)
			return false, werr
		}
	} else if ss.w.failed && ss.w.errNum == errDeadlock && cu.tx.branches > 0 {
		cu.rollbackAll(ctx) // the server rolled back its branch: the others go too
	}
	if ss.w.insertID != 0 {
		ss.lastInsertID = ss.w.insertID
	}
	cu.finish(ok && keepForNext(st.info, ss.w.warnings))
	ss.srv.metrics.statement(start, st, ss, &cu.info.Stats, ok)
	return ok, nil
}

// interrupted is the error for a statement stopped by its deadline or by
// KILL QUERY.
func interrupted(err error, m *Metrics) error {
	if errors.Is(err, context.DeadlineExceeded) {
		m.timeouts.Inc()
		return sqlerr.New(sqlerr.ErrQueryInterrupted, "Query execution was interrupted: the statement ran longer than its time limit (limits.query_timeout, limits.ddl_timeout for DDL)")
	}
	return sqlerr.New(sqlerr.ErrQueryInterrupted, "Query execution was interrupted")
}

// keepForNext reports whether the next statement may need what this one
// left on its connection (row count, warnings, FOUND_ROWS).
func keepForNext(info parser.Info, warnings uint16) bool {
	switch info.Kind {
	case parser.KindInsert, parser.KindUpdate, parser.KindDelete, parser.KindReplace:
		return true
	}
	return warnings > 0 || info.Flags&parser.FlagCalcFoundRows != 0
}

// dispatchStatement runs a statement by kind: what concerns the session
// itself (transactions, SET, USE, KILL, diagnostics) here, everything
// else through its plan.
func (ss *session) dispatchStatement(ctx context.Context, st *statement) error {
	cu := ss.cur
	switch st.info.Kind {
	case parser.KindEmpty:
		if !st.batch || !st.more { // the server says what an empty or comment-only query is
			return ss.direct(ctx, st, 0)
		}
		// An empty statement inside a batch is a syntax error there.
		return sqlerr.New(sqlerr.ErrParse, "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near ';' at line 1")
	case parser.KindBegin, parser.KindCommit, parser.KindRollback, parser.KindSavepoint, parser.KindSetTransaction:
		return ss.transaction(ctx, st)
	case parser.KindSet:
		return ss.set(ctx, st)
	case parser.KindUse:
		return ss.use(ctx, st)
	case parser.KindKill:
		if handled, err := ss.killStatement(st.text); handled {
			return err
		}
	case parser.KindShow:
		if ok, full := isProcesslist(st.text, ss.mode); ok {
			return ss.srv.processlist(ss.user, &ss.w, full)
		}
	}
	if st.info.Flags&parser.FlagDiagnostics != 0 {
		cl := 0
		if cu.last != nil {
			cl = cu.lastCluster
		}
		return ss.direct(ctx, st, cl)
	}
	return ss.planned(ctx, st)
}

// direct runs the client's statement on cluster cl as it came.
func (ss *session) direct(ctx context.Context, st *statement, cl int) error {
	cu := ss.cur
	c := currentOf(st, sticky(st.info))
	c.writes = mayWrite(st.info.Kind)
	cu.begin(c)
	return cu.streamOne(ctx, targetOf(cl), st.info.Kind == parser.KindSelect, &ss.w)
}

// planned runs a statement through its plan: authorised against the
// account's grants, bound to its values, executed by the engine.
func (ss *session) planned(ctx context.Context, st *statement) error {
	if st.info.Kind == parser.KindLoad && ss.caps&clientLocalFiles == 0 && containsWord(st.text, "local") {
		// Backends accept LOAD DATA LOCAL; a client that did not ask for
		// local files must not be sent the server's request for one.
		return sqlerr.New(4166, "The used command is not allowed because the client has disabled the local infile capability")
	}
	p, args := ss.plan(st)
	if st.stmt == nil && len(args) > 0 && ss.shape.Params > 0 {
		return ss.direct(ctx, st, 0) // a ? in a text statement: the server's syntax error
	}
	if pe, ok := p.Err.(*router.ParseError); ok { // (errors.As would make pe escape: an allocation per statement)
		return ss.planError(st, pe)
	}
	// Grants first: a statement beyond them is refused as such, whether
	// or not Courier could run it.
	if err := ss.user.authorize(p, st.info, ss.state.Schema, ss.snap.internalTable); err != nil {
		return err
	}
	if shapes := *ss.srv.shapes.Load(); len(shapes) > 0 && st.digest != nil {
		if l := shapes[string(st.digest)]; l != nil {
			if err := l.take(ctx, ss.user.name); err != nil {
				ss.srv.metrics.rateLimited.WithLabelValues(ss.user.name).Inc()
				return err
			}
		}
	}
	if p.Err != nil {
		return p.Err
	}
	if writes(p) {
		if again, err := ss.srv.layouts.holds.admitPlan(ctx, ss, p); err != nil {
			return err
		} else if again { // held: the layout may have changed meanwhile
			return ss.planned(ctx, st)
		}
	}
	cu := ss.cur
	if (p.DDL || st.info.Kind == parser.KindLock) && cu.tx.active(ss) && cu.tx.branches > 0 {
		if _, err := cu.endTxn(ctx, true, "COMMIT"); err != nil { // the implicit commit MySQL does first
			return err
		}
	}
	if p.DDL {
		ss.cmd.extend(ss.srv.ddlTimeout())
	}
	if err := bindValues(&ss.bind, st, p, args); err != nil {
		return err
	}
	c := currentOf(st, sticky(st.info))
	c.writes = writes(p) || p.Class == router.ClassWrite || p.Class == router.ClassDDL
	cu.begin(c)
	err := p.Root.Execute(ctx, cu, &ss.bind, &ss.w)
	if p.DDL {
		ss.snap.plans.Flush()
		if cat := ss.snap.schema.Catalog(); cat != nil {
			cat.Clear()
		}
	}
	return err
}

// planError is the client's error for a statement without a plan: an
// unparsable statement on an unsharded layout runs as it is on the
// default cluster (the server judges it).
func (ss *session) planError(st *statement, pe *router.ParseError) error {
	if err := ss.user.authorizeUnparsed(st.text, ss.mode); err != nil {
		return err
	}
	if !ss.snap.schema.Sharded() || !routedKind(st.info.Kind) {
		if mayWrite(st.info.Kind) { // its tables are unknown: any hold applies
			if _, err := ss.srv.layouts.holds.admit(&ss.cmd, ss, nil, false, true); err != nil {
				return err
			}
		}
		return ss.direct(&ss.cmd, st, 0)
	}
	return sqlerr.NotSupported("a statement the sharding planner cannot parse ("+short(pe.Err.Error())+")",
		"use MySQL syntax for statements on sharded tables")
}

// routedKind reports whether statements of kind k can touch sharded
// tables, so that one the planner cannot read must be refused.
func routedKind(k parser.Kind) bool {
	switch k {
	case parser.KindSelect, parser.KindInsert, parser.KindUpdate, parser.KindDelete, parser.KindReplace, parser.KindDDL:
		return true
	}
	return false
}

// plan returns the plan of a statement and the values of its shape: the
// cached plan of its shape when it normalizes, else a plan of its own
// text (with no values).
func (ss *session) plan(st *statement) (*router.Plan, []parser.Arg) {
	plans := ss.snap.plans
	o := router.Options{Mode: ss.mode}
	if ss.mode.Has(parser.MultibyteEscapes) {
		o.Charset = charsetOf(ss.state)
	}
	if cs := st.stmt; cs != nil {
		st.digest = cs.text
		if cs.shape != nil {
			return plans.Shape(cs.shape, len(cs.args), o), cs.args
		}
		return plans.Text(cs.text, o), nil
	}
	if normalizable(st.info.Kind) && ss.shape.Normalize(st.text, ss.mode) {
		st.digest = ss.shape.Text
		return plans.Shape(ss.shape.Text, len(ss.shape.Args), o), ss.shape.Args
	}
	return plans.Text(st.text, o), nil
}

// normalizable reports whether statements of kind k are planned by their
// shape (their values as bind values).
func normalizable(k parser.Kind) bool {
	switch k {
	case parser.KindSelect, parser.KindInsert, parser.KindUpdate, parser.KindDelete, parser.KindReplace:
		return true
	}
	return false
}

// bindValues puts the statement's values in the session's bind slots:
// the shape's literals, and for a prepared execution its parameters.
func bindValues(bv *engine.Bind, st *statement, p *router.Plan, args []parser.Arg) error {
	bv.Reset(len(args))
	var params []paramValue
	if st.stmt != nil {
		var err error
		if params, err = st.stmt.decode(st.exec); err != nil {
			return err
		}
	}
	if args == nil && st.stmt != nil { // planned from its text: the client's ?s, in order
		bv.Reset(len(params))
		for i, pv := range params {
			bv.Vals[i] = pv.v
		}
	}
	for i, a := range args {
		if a.Param < 0 {
			bv.Vals[i] = a.Val
			continue
		}
		if a.Param >= len(params) {
			return sqlerr.New(sqlerr.ErrWrongArguments, "Incorrect arguments to mysqld_stmt_execute")
		}
		bv.Vals[i] = params[a.Param].v
	}
	p.Prepare(bv)
	return nil
}

// currentOf is the cursor's view of a statement as the client sent it.
func currentOf(st *statement, sticky bool) current {
	return current{info: st.info, text: st.text, packet: st.packet, stmt: st.stmt, exec: st.exec, sticky: sticky}
}
