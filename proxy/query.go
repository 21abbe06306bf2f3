package proxy

import (
	"context"
	"errors"

	"github.com/go-mysql-org/go-mysql/mysql"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/sqlerr"
)

// stickyFlags mark statements that leave state on the backend connection
// that Courier cannot move elsewhere: the session keeps that connection.
const stickyFlags = parser.FlagUserVar | parser.FlagLockFunc | parser.FlagTemporary | parser.FlagMulti

// sticky reports whether a statement pins the session to its connection.
func sticky(info parser.Info) bool {
	switch info.Kind {
	case parser.KindSetTransaction, parser.KindLock, parser.KindPrepare, parser.KindHandler, parser.KindXA:
		return true
	}
	return info.Flags&stickyFlags != 0
}

// keepForNext reports whether the next statement may need what this one
// left on the connection (row count, warnings, FOUND_ROWS).
func keepForNext(info parser.Info, res result) bool {
	switch info.Kind {
	case parser.KindInsert, parser.KindUpdate, parser.KindDelete, parser.KindReplace:
		return true
	}
	return res.warnings > 0 || info.Flags&parser.FlagCalcFoundRows != 0
}

// query runs a COM_QUERY.
func (ss *session) query(ctx context.Context, p []byte) error {
	start := time.Now()
	q := p[1:]
	info := parser.Classify(q)
	var (
		set    parser.SetEffect
		useDB  string
		hasUse bool
	)
	switch info.Kind {
	case parser.KindUse:
		db, err := ss.srv.parser.ParseUse(string(q))
		if err == nil {
			if !ss.user.mayUse(db) {
				return ss.writeErr(ss.dbDenied(db))
			}
			useDB, hasUse = db, true
		}
	case parser.KindSet:
		if ss.srv.planner != nil && containsWord(q, "select") { // SET @n = (SELECT ... FROM orders)
			if _, err := ss.srv.planner.Plan(string(q), nil); err != nil && !errors.Is(err, router.ErrUnparsed) {
				return ss.writeErr(err)
			}
		}
		eff, err := ss.srv.parser.ParseSet(string(q))
		if err == nil && len(eff.Courier) > 0 {
			return ss.setCourierVars(eff)
		}
		if err != nil || eff.Sticky {
			ss.pinned = true
		}
		set = eff
	case parser.KindKill:
		if handled, err := ss.kill(ctx, q); handled {
			return err
		}
	case parser.KindLoad:
		// Backends accept LOAD DATA LOCAL; a client that did not ask for
		// local files must not be sent the server's request for one.
		if ss.caps&mysql.CLIENT_LOCAL_FILES == 0 && containsWord(q, "local") {
			return ss.writeErr(sqlerr.New(4166,
				"The used command is not allowed because the client has disabled the local infile capability"))
		}
	}
	if sticky(info) {
		ss.pinned = true
	}

	var err error
	ci := ss.srv.def
	if ss.srv.planner != nil {
		if handled, err := ss.lazyTransaction(info, q); handled {
			return err
		}
		if len(ss.others) > 0 {
			switch info.Kind {
			case parser.KindCommit, parser.KindRollback:
				if err := ss.endOthers(ctx, info.Kind == parser.KindCommit, string(q)); err != nil {
					if bc := ss.bc; bc != nil {
						if rerr := bc.Exec(ctx, "ROLLBACK"); rerr != nil {
							bc.MarkBroken()
						}
					}
					ss.status &^= wire.StatusInTrans | wire.StatusInTransReadonly
					ss.beginText = ""
					ss.releaseIdle()
					return ss.writeErr(err)
				}
			case parser.KindSavepoint:
				return ss.writeErr(sqlerr.NotSupported("savepoints in a transaction that reached several shards", ""))
			}
		}
	}
	if bc := ss.bc; bc != nil && ss.srv.planner != nil && !planned(info) {
		ci = ss.srv.ofPool[bc.Pool()] // transaction control and SET go where the session is
	}
	if ss.srv.planner != nil && planned(info) {
		var handled bool
		var rewritten []byte
		if ci, rewritten, handled, err = ss.routeSharded(ctx, info, q); handled {
			ss.srv.metrics.observe(start, q, "", ss)
			return err
		}
		if rewritten != nil {
			p = rewritten
		}
	}
	res, ok, err := ss.runStatement(ctx, info, ci, func(bc *backend.Conn) ([]byte, error) {
		if info.Flags&parser.FlagLastInsertID != 0 && bc.LastInsertID != ss.lastInsertID {
			if err := bc.Exec(ctx, "DO LAST_INSERT_ID("+strconv.FormatUint(ss.lastInsertID, 10)+")"); err != nil {
				return nil, err
			}
			bc.LastInsertID = ss.lastInsertID
		}
		return p, nil
	})
	if err != nil || !ok {
		return err
	}
	if bc := ss.bc; bc != nil && !res.failed {
		switch {
		case hasUse:
			ss.state = ss.state.WithSchema(useDB)
			bc.SetApplied(ss.state)
		case len(set.Vars) > 0 && !ss.pinned:
			ss.trackSet(ctx, bc, set.Vars)
		}
	}
	ss.finish(info, res)
	if ss.status&wire.StatusInTrans == 0 {
		ss.settleOthers(ctx, info)
		ss.beginText = ""
	}
	ss.srv.metrics.observe(start, q, "", ss)
	return nil
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

// lazyTransaction defers BEGIN under sharding until the transaction's
// first statement picks its shard, and answers COMMIT and ROLLBACK of a
// transaction that never reached a backend.
func (ss *session) lazyTransaction(info parser.Info, q []byte) (handled bool, err error) {
	switch info.Kind {
	case parser.KindBegin:
		if ss.bc != nil && ss.status&wire.StatusInTrans != 0 {
			return false, nil // BEGIN inside a transaction commits it: the server does that
		}
		ss.pendingBegin = string(q)
		ss.status |= wire.StatusInTrans
		return true, ss.writeOK(0, 0, 0)
	case parser.KindCommit, parser.KindRollback:
		if ss.pendingBegin != "" {
			ss.pendingBegin = ""
			ss.status &^= wire.StatusInTrans | wire.StatusInTransReadonly
			return true, ss.writeOK(0, 0, 0)
		}
	}
	return false, nil
}

// setCourierVars runs a SET of Courier's own session variables.
func (ss *session) setCourierVars(eff parser.SetEffect) error {
	if len(eff.Vars) > 0 || eff.Global || eff.Sticky {
		return ss.writeErr(sqlerr.NotSupported("mixing courier_* variables with server variables in one SET",
			"set courier_* variables in a SET statement of their own"))
	}
	cons := ss.consistency
	for _, a := range eff.Courier {
		if a.Name != "courier_consistency" {
			return ss.writeErr(sqlerr.New(sqlerr.ErrUnknownSystemVar, "Unknown system variable '%s'", a.Name))
		}
		c, ok := router.ParseConsistency(strings.ToLower(a.Value))
		if !a.Valid || !ok || a.Value == "" {
			return ss.writeErr(sqlerr.New(sqlerr.ErrWrongValueForVar, "Variable 'courier_consistency' can't be set to the value of '%s'; use eventual, causal or primary", a.Value))
		}
		cons = c
	}
	ss.consistency = cons
	return ss.writeOK(0, 0, 0)
}

// finish decides whether the session keeps its backend connection.
func (ss *session) finish(info parser.Info, res result) {
	if ss.bc != nil && !ss.bc.Broken() && keepForNext(info, res) {
		return
	}
	ss.releaseIdle()
}

// varAliases are the other names of variables that MySQL and MariaDB
// spell differently (MariaDB 10.11 knows only tx_*).
var varAliases = map[string]string{
	"transaction_isolation": "tx_isolation", "tx_isolation": "transaction_isolation",
	"transaction_read_only": "tx_read_only", "tx_read_only": "transaction_read_only",
}

// trackSet reads back the session variables a SET changed, so they can
// be replayed on other connections exactly as the server evaluated them.
func (ss *session) trackSet(ctx context.Context, bc *backend.Conn, names []string) {
	if ss.readBack(ctx, bc, names) {
		return
	}
	aliased := make([]string, len(names))
	changed := false
	for i, n := range names {
		aliased[i] = n
		if a, ok := varAliases[n]; ok {
			aliased[i], changed = a, true
		}
	}
	if !changed || !ss.readBack(ctx, bc, aliased) {
		ss.pinned = true // cannot replay it: keep this connection
	}
}

// readBack reads the current values of names and records them as the
// session's; it reports whether that worked.
func (ss *session) readBack(ctx context.Context, bc *backend.Conn, names []string) bool {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("@@session.")
		b.WriteString(n)
	}
	rows, err := bc.Query(ctx, b.String())
	if err != nil || len(rows) != 1 || len(rows[0]) != len(names) {
		return false
	}
	vars := make([]backend.Var, len(names))
	for i, n := range names {
		vars[i] = backend.Var{Name: n, Value: rows[0][i].SQL()}
	}
	ss.state = ss.state.WithVars(vars...)
	bc.SetApplied(ss.state)
	return true
}

// initDB runs COM_INIT_DB.
func (ss *session) initDB(ctx context.Context, db string) error {
	if !ss.user.mayUse(db) {
		return ss.writeErr(ss.dbDenied(db))
	}
	old := ss.state
	ss.state = ss.state.WithSchema(db)
	if err := ss.checkSchema(ctx); err != nil {
		ss.state = old
		return ss.writeErr(err)
	}
	return ss.writeOK(0, 0, 0)
}

// setOption runs COM_SET_OPTION (multi-statements on or off).
func (ss *session) setOption(p []byte) error {
	if len(p) < 3 || p[2] != 0 || p[1] > 1 {
		return ss.writeErr(sqlerr.New(sqlerr.ErrUnknownCommand, "Unknown COM_SET_OPTION value"))
	}
	ss.state = ss.state.WithMultiStatements(p[1] == 0)
	ss.scratch = wire.AppendEOF(ss.scratch[:0], 0, ss.localStatus())
	return ss.writeFlush(ss.scratch)
}

// resetConnection runs COM_RESET_CONNECTION: the session starts afresh
// but keeps its user, schema and handshake charset.
func (ss *session) resetConnection(ctx context.Context) error {
	if bc := ss.bc; bc != nil && (ss.pinned || ss.status&wire.StatusInTrans != 0) {
		if err := bc.Reset(ctx); err != nil {
			bc.MarkBroken()
		}
	}
	ss.pinned = false
	ss.status = wire.StatusAutocommit
	ss.state = ss.initial().WithSchema(ss.state.Schema)
	ss.lastInsertID = 0
	ss.stmts = nil
	ss.releaseIdle()
	return ss.writeOK(0, 0, 0)
}

// initial is the state a session had right after the handshake, minus
// the schema.
func (ss *session) initial() *backend.State {
	st := &backend.State{NoMultiStatements: ss.state.NoMultiStatements}
	if len(ss.charsetVars) > 0 {
		st = st.WithVars(ss.charsetVars...)
	}
	return st
}

// kill handles KILL [CONNECTION | QUERY] id for ids of Courier sessions.
// It returns handled=false for anything else, which goes to the backend.
func (ss *session) kill(ctx context.Context, q []byte) (handled bool, err error) {
	f := strings.Fields(strings.TrimRight(strings.TrimSpace(string(q)), ";"))
	if len(f) < 2 || len(f) > 3 {
		return false, nil
	}
	onlyQuery := false
	if len(f) == 3 {
		switch strings.ToUpper(f[1]) {
		case "QUERY":
			onlyQuery = true
		case "CONNECTION":
		default:
			return false, nil
		}
	}
	id, perr := strconv.ParseUint(f[len(f)-1], 10, 32)
	if perr != nil {
		return false, nil
	}
	target := ss.srv.session(uint32(id))
	if target == nil {
		return true, ss.writeErr(sqlerr.New(1094, "Unknown thread id: %d", id))
	}
	if target.user != ss.user {
		return true, ss.writeErr(sqlerr.New(1095, "You are not owner of thread %d", id))
	}
	if bc := target.running.Load(); bc != nil {
		if err := bc.Pool().KillQuery(ctx, bc.ThreadID); err != nil {
			ss.logger().Warn("KILL QUERY on backend failed", zap.Error(err))
		}
	}
	if !onlyQuery {
		target.killed.Store(true)
		target.nc.Close()
		if target == ss {
			return true, errQuit
		}
	}
	return true, ss.writeOK(0, 0, 0)
}

// sendToPrimary sends a command on a primary connection whose reply the
// caller reads. ok is false when an error already went to the client
// (err is then non-nil only if the client connection is unusable).
func (ss *session) sendToPrimary(ctx context.Context, p []byte) (bc *backend.Conn, ok bool, err error) {
	return ss.sendTo(ctx, ss.srv.primary, p)
}

// sendTo is sendToPrimary on the primary pool given.
func (ss *session) sendTo(ctx context.Context, pool *backend.Pool, p []byte) (bc *backend.Conn, ok bool, err error) {
	bc, err = ss.acquireOn(ctx, pool)
	if err != nil {
		return nil, false, ss.writeErr(err)
	}
	if err := bc.WriteCommand(p); err != nil {
		_, err := ss.backendFailed(bc, err)
		ss.releaseIdle()
		return nil, false, err
	}
	return bc, true, nil
}

// fieldList runs COM_FIELD_LIST: column definitions up to EOF, or ERR.
func (ss *session) fieldList(ctx context.Context, p []byte) error {
	bc, ok, err := ss.sendToPrimary(ctx, p)
	if !ok {
		return err
	}
	for {
		prefix, n, err := ss.forward(ctx, bc)
		if err != nil {
			_, err := ss.backendFailed(bc, err)
			ss.releaseIdle()
			return err
		}
		if wire.IsEOF(prefix, n) || (n > 0 && prefix[0] == wire.ErrHeader) {
			break
		}
	}
	ss.releaseIdle()
	return ss.c.Flush()
}
