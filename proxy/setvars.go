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
		p := ss.snap.plans.Text(st.text, router.Options{Mode: ss.mode})
		var pe *router.ParseError
		if p.Err != nil && !errors.As(p.Err, &pe) {
			return p.Err
		}
	}
	eff, err := ss.srv.parser.ParseSet(string(parser.ForParse(nil, st.text, ss.mode)))
	if err == nil && len(eff.Courier) > 0 {
		cons, err := courierVars(eff, ss.consistency)
		if err != nil {
			return err
		}
		ss.consistency = cons
		return ss.w.OK(engine.Result{})
	}
	if err == nil && eff.Global {
		if err := ss.user.mayAdminister("SET GLOBAL"); err != nil {
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
		st, ok := trackSet(ctx, cu.used[len(cu.used)-1].bc, ss.state, eff.Vars)
		if !ok {
			cu.cur.sticky = true // cannot replay it: keep this connection
		}
		ss.state = st
	}
	ss.mode = modeOf(ss.state)
	if !autocommitOff(ss.state) && !cu.tx.open && cu.tx.branches > 0 { // autocommit=1 commits
		_, err := cu.endTxn(ctx, true, "COMMIT")
		return err
	}
	return nil
}

// courierVars reads a SET of Courier's own session variables: the read
// consistency it sets (cons when it sets none).
func courierVars(eff parser.SetEffect, cons router.Consistency) (router.Consistency, error) {
	if len(eff.Vars) > 0 || eff.Global || eff.Sticky {
		return cons, sqlerr.NotSupported("mixing courier_* variables with server variables in one SET",
			"set courier_* variables in a SET statement of their own")
	}
	for _, a := range eff.Courier {
		if a.Name != "courier_consistency" {
			return cons, sqlerr.New(sqlerr.ErrUnknownSystemVar, "Unknown system variable '%s'", a.Name)
		}
		c, ok := router.ParseConsistency(strings.ToLower(a.Value))
		if !a.Valid || !ok || a.Value == "" {
			return cons, sqlerr.New(sqlerr.ErrWrongValueForVar, "Variable 'courier_consistency' can't be set to the value of '%s'; use eventual, causal or primary", a.Value)
		}
		cons = c
	}
	return cons, nil
}

// varAliases are the other names of variables that MySQL and MariaDB
// spell differently (MariaDB 10.11 knows only tx_*).
var varAliases = map[string]string{
	"transaction_isolation": "tx_isolation", "tx_isolation": "transaction_isolation",
	"transaction_read_only": "tx_read_only", "tx_read_only": "transaction_read_only",
}

// trackSet reads back the session variables a SET changed on bc, so they
// can be replayed on other connections exactly as the server evaluated
// them: it returns st with their values, and false when that failed.
func trackSet(ctx context.Context, bc *backend.Conn, st *backend.State, names []string) (*backend.State, bool) {
	if next, ok := readBack(ctx, bc, st, names); ok {
		return next, true
	}
	aliased := make([]string, len(names))
	changed := false
	for i, n := range names {
		aliased[i] = n
		if a, ok := varAliases[n]; ok {
			aliased[i], changed = a, true
		}
	}
	if !changed {
		return st, false
	}
	return readBack(ctx, bc, st, aliased)
}

// readBack reads the current values of names on bc and returns st with
// them; it reports whether that worked.
func readBack(ctx context.Context, bc *backend.Conn, st *backend.State, names []string) (*backend.State, bool) {
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
		return st, false
	}
	vars := make([]backend.Var, len(names))
	for i, n := range names {
		vars[i] = backend.Var{Name: n, Value: rows[0][i].SQL()}
	}
	st = st.WithVars(vars...)
	bc.SetApplied(st)
	return st, true
}

// modeOf reads how a session's server reads SQL from its sql_mode and
// character set.
func modeOf(st *backend.State) parser.Mode {
	mode, _ := st.Var("sql_mode")
	cs, _ := st.Var("character_set_client")
	return parser.ModeOf(mode, cs)
}

// charsetOf is a session's client character set name.
func charsetOf(st *backend.State) string {
	cs, ok := st.Var("character_set_client")
	if !ok {
		return "utf8mb4"
	}
	return strings.Trim(cs, "'")
}

// groupConcatMaxLen is a session's group_concat_max_len.
func groupConcatMaxLen(st *backend.State) int {
	if v, ok := st.Var("group_concat_max_len"); ok {
		if n, err := strconv.Atoi(strings.Trim(v, "'")); err == nil {
			return n
		}
	}
	return 1 << 20 // MariaDB 10.11's default
}

// autocommitOff reports whether a session set autocommit=0.
func autocommitOff(st *backend.State) bool {
	v, ok := st.Var("autocommit")
	return ok && (v == "0" || v == "'OFF'")
}

// internalState is the state Courier's own statements run in on a
// connection for a session in state st: its database and character set,
// nothing else (not its sql_mode: Courier writes them in the default
// one). *cache keeps the last one made.
func internalState(st *backend.State, cache **backend.State) *backend.State {
	if in := *cache; in != nil && in.Schema == st.Schema {
		return in
	}
	in := &backend.State{Schema: st.Schema}
	for _, name := range []string{"character_set_client", "character_set_connection", "collation_connection"} {
		if v, ok := st.Var(name); ok {
			in = in.WithVars(backend.Var{Name: name, Value: v})
		}
	}
	*cache = in
	return in
}

// use runs USE db: the server checks the database exists; the session's
// schema follows it to every connection.
func (ss *session) use(ctx context.Context, st *statement) error {
	text := st.text
	if st.stmt != nil {
		text = st.stmt.text
	}
	db, perr := ss.srv.parser.ParseUse(string(parser.ForParse(nil, text, ss.mode)))
	if perr == nil && !ss.user.mayUse(db) {
		return ss.user.dbDenied(db)
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
		return ss.writeErr(ss.user.dbDenied(db))
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
	ss.state = initialState(ss.state, ss.charsetVars).WithSchema(ss.state.Schema)
	ss.mode = modeOf(ss.state)
	ss.lastInsertID = 0
	ss.stmts = stmtTable{}
	return ss.writeOK(0, 0, 0)
}

// initialState is the state a session had right after the handshake
// (its handshake character set), minus the schema.
func initialState(st *backend.State, charsetVars []backend.Var) *backend.State {
	in := &backend.State{NoMultiStatements: st.NoMultiStatements}
	if len(charsetVars) > 0 {
		in = in.WithVars(charsetVars...)
	}
	return in
}
