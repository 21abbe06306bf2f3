package proxy

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// set runs a SET. Courier's own variables (courier_*) never reach a
// backend. Session variables are set on the default cluster, then read
// back, so that any later connection gets exactly what the server
// computed; what cannot be replayed that way (user variables) pins the
// session to the connection.
func (ss *session) set(ctx context.Context, st *statement) error {
	if containsWord(st.text, "select") { // SET @n = (SELECT ... FROM orders)
		p := ss.srv.plans.Text(st.text, router.Options{Mode: ss.mode})
		var pe *router.ParseError
		if p.Err != nil && !errors.As(p.Err, &pe) {
			return p.Err
		}
	}
	eff, err := ss.srv.parser.ParseSet(string(parser.ForParse(nil, st.text, ss.mode)))
	if err == nil && len(eff.Courier) > 0 {
		return ss.setCourierVars(eff)
	}
	if err == nil && eff.Global {
		if err := ss.mayAdminister("SET GLOBAL"); err != nil {
			return err
		}
	}
	cu := ss.cur
	sticky := err != nil || eff.Sticky
	cl := 0
	for i, h := range cu.conns { // where the session holds a connection, if anywhere
		if h.bc != nil {
			cl = i
			break
		}
	}
	cu.begin(currentOf(st, sticky))
	if err := cu.streamOne(ctx, targetOf(cl), false, &ss.w); err != nil || ss.w.failed {
		return err
	}
	if !sticky && len(eff.Vars) > 0 && len(cu.used) > 0 {
		if !ss.trackSet(ctx, cu.used[len(cu.used)-1].bc, eff.Vars) {
			cu.cur.sticky = true // cannot replay it: keep this connection
		}
	}
	ss.refreshMode()
	if !ss.autocommitOff() && !cu.tx.open && cu.tx.branches > 0 { // autocommit=1 commits
		_, err := cu.endTxn(ctx, true, "COMMIT")
		return err
	}
	return nil
}

// setCourierVars runs a SET of Courier's own session variables.
func (ss *session) setCourierVars(eff parser.SetEffect) error {
	if len(eff.Vars) > 0 || eff.Global || eff.Sticky {
		return sqlerr.NotSupported("mixing courier_* variables with server variables in one SET",
			"set courier_* variables in a SET statement of their own")
	}
	cons := ss.consistency
	for _, a := range eff.Courier {
		if a.Name != "courier_consistency" {
			return sqlerr.New(sqlerr.ErrUnknownSystemVar, "Unknown system variable '%s'", a.Name)
		}
		c, ok := router.ParseConsistency(strings.ToLower(a.Value))
		if !a.Valid || !ok || a.Value == "" {
			return sqlerr.New(sqlerr.ErrWrongValueForVar, "Variable 'courier_consistency' can't be set to the value of '%s'; use eventual, causal or primary", a.Value)
		}
		cons = c
	}
	ss.consistency = cons
	return ss.w.OK(engine.Result{})
}

// varAliases are the other names of variables that MySQL and MariaDB
// spell differently (MariaDB 10.11 knows only tx_*).
var varAliases = map[string]string{
	"transaction_isolation": "tx_isolation", "tx_isolation": "transaction_isolation",
	"transaction_read_only": "tx_read_only", "tx_read_only": "transaction_read_only",
}

// trackSet reads back the session variables a SET changed, so they can
// be replayed on other connections exactly as the server evaluated them.
func (ss *session) trackSet(ctx context.Context, bc *backend.Conn, names []string) bool {
	if ss.readBack(ctx, bc, names) {
		return true
	}
	aliased := make([]string, len(names))
	changed := false
	for i, n := range names {
		aliased[i] = n
		if a, ok := varAliases[n]; ok {
			aliased[i], changed = a, true
		}
	}
	return changed && ss.readBack(ctx, bc, aliased)
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

// refreshMode reads the session's Mode from its sql_mode and character
// set, after a SET may have changed them.
func (ss *session) refreshMode() {
	mode, _ := ss.state.Var("sql_mode")
	cs, _ := ss.state.Var("character_set_client")
	ss.mode = parser.ModeOf(mode, cs)
}

// charset is the session's client character set name.
func (ss *session) charset() string {
	cs, ok := ss.state.Var("character_set_client")
	if !ok {
		return "utf8mb4"
	}
	return strings.Trim(cs, "'")
}

// groupConcatMaxLen is the session's group_concat_max_len.
func (ss *session) groupConcatMaxLen() int {
	if v, ok := ss.state.Var("group_concat_max_len"); ok {
		if n, err := strconv.Atoi(strings.Trim(v, "'")); err == nil {
			return n
		}
	}
	return 1 << 20 // MariaDB 10.11's default
}

// internalState is the state Courier's own statements run in on a
// connection: the session's database and character set, nothing else
// (not its sql_mode: Courier writes them in the default one).
func (ss *session) internalState() *backend.State {
	if st := ss.internal; st != nil && st.Schema == ss.state.Schema {
		return st
	}
	st := &backend.State{Schema: ss.state.Schema}
	for _, name := range []string{"character_set_client", "character_set_connection", "collation_connection"} {
		if v, ok := ss.state.Var(name); ok {
			st = st.WithVars(backend.Var{Name: name, Value: v})
		}
	}
	ss.internal = st
	return st
}

// use runs USE db: the server checks the database exists; the session's
// schema follows it to every connection.
func (ss *session) use(ctx context.Context, st *statement) error {
	text := st.text
	if st.stmt != nil {
		text = []byte(st.stmt.sql)
	}
	db, perr := ss.srv.parser.ParseUse(string(parser.ForParse(nil, text, ss.mode)))
	if perr == nil && !ss.user.mayUse(db) {
		return ss.dbDenied(db)
	}
	cu := ss.cur
	cu.begin(currentOf(st, perr != nil))
	if err := cu.streamOne(ctx, targetOf(0), false, &ss.w); err != nil || ss.w.failed || perr != nil {
		return err
	}
	ss.state = ss.state.WithSchema(db)
	if len(cu.used) > 0 {
		cu.used[len(cu.used)-1].bc.SetApplied(ss.state)
	}
	return nil
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
	ss.scratch = wire.AppendEOF(ss.scratch[:0], 0, ss.clientStatus())
	return ss.writeFlush(ss.scratch)
}

// resetConnection runs COM_RESET_CONNECTION: the session starts afresh
// but keeps its user, schema and handshake charset.
func (ss *session) resetConnection() error {
	ss.cur.releaseAll()
	ss.state = ss.initial().WithSchema(ss.state.Schema)
	ss.refreshMode()
	ss.lastInsertID = 0
	ss.stmts = nil
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
