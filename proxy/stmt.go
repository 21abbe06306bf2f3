package proxy

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"

	"github.com/go-mysql-org/go-mysql/mysql"
	"vitess.io/vitess/go/sqltypes"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/sqlerr"
)

// maxStmtsPerBackendConn bounds the statements prepared on one backend
// connection (shared by every session that borrows it). The server's
// max_prepared_stmt_count (16382 by default) bounds all connections
// together, so this stays small.
const maxStmtsPerBackendConn = 64

// clientStmt is a statement a client prepared. Courier gives it its own
// id; on each backend connection it is prepared once, on first use, and
// found again by key (schema and text). Its executions run through the
// plan of its shape, the same plan as the text statements of that shape.
type clientStmt struct {
	id      uint32
	sql     string
	text    []byte // sql, for the cursor
	key     string
	schema  string
	info    parser.Info
	params  uint16
	columns uint16
	// shape and args are the statement's shape and its values (literals,
	// and the client's ?s); shape is nil when it does not normalize.
	shape []byte
	args  []parser.Arg
	mode  parser.Mode // the session's mode when it was normalized
	// typesAt is where the new-params-bound flag sits in an execute
	// packet; types are the parameter types the client last sent.
	typesAt int
	types   []byte
	long    [][]byte // COM_STMT_SEND_LONG_DATA payloads since the last execute
	longLen int
	vals    []paramValue // decoded parameters of the running execution
	arena   []byte
}

func stmtKey(schema, sql string) string { return schema + "\x00" + sql }

// stmtTable is a session's prepared statements, by Courier's ids.
type stmtTable struct {
	m    map[uint32]*clientStmt
	next uint32
}

// newStmt makes Courier's side of a statement prepared in session ss:
// its id, its kind, and its shape for the plan cache.
func (t *stmtTable) newStmt(ss *session, sql []byte) *clientStmt {
	for {
		t.next++
		if _, used := t.m[t.next]; !used && t.next != 0 {
			break
		}
	}
	cs := &clientStmt{id: t.next, sql: string(sql), text: bytes.Clone(sql), schema: ss.state.Schema, info: parser.ClassifyMode(sql, ss.mode)}
	cs.key = stmtKey(cs.schema, cs.sql)
	cs.normalize(ss)
	return cs
}

// add keeps a prepared statement.
func (t *stmtTable) add(cs *clientStmt) {
	if t.m == nil {
		t.m = make(map[uint32]*clientStmt)
	}
	t.m[cs.id] = cs
}

// lookup finds the statement a COM_STMT_* packet names.
func (t *stmtTable) lookup(p []byte, cmd string) (*clientStmt, error) {
	if len(p) < 5 {
		return nil, errMalformed
	}
	id := binary.LittleEndian.Uint32(p[1:])
	if cs := t.m[id]; cs != nil {
		return cs, nil
	}
	return nil, sqlerr.New(sqlerr.ErrUnknownStmtHandler, "Unknown prepared statement handler (%d) given to %s", id, cmd)
}

// normalize takes the statement's shape under the session's mode.
func (cs *clientStmt) normalize(ss *session) {
	cs.mode, cs.shape, cs.args = ss.mode, nil, nil
	if !normalizable(cs.info.Kind) || !ss.shape.Normalize(cs.text, ss.mode) {
		return
	}
	cs.shape = bytes.Clone(ss.shape.Text)
	cs.args = make([]parser.Arg, len(ss.shape.Args))
	for i, a := range ss.shape.Args {
		cs.args[i] = a
		if a.Param < 0 {
			cs.args[i].Val = cloneValue(a.Val)
		}
	}
}

// stmtPrepare runs COM_STMT_PREPARE: it plans the statement (refusing
// what cannot run), prepares it on a connection of the cluster its
// tables live on — never opening a transaction there — and relays the
// reply with Courier's statement id in it.
func (ss *session) stmtPrepare(p []byte) error {
	limit := ss.srv.conf().Limits.MaxPreparedStatements
	if len(ss.stmts.m) >= limit {
		return ss.writeErr(sqlerr.New(sqlerr.ErrTooManyStatements,
			"Can't create more than max_prepared_stmt_count statements (current value: %d); close statements you no longer use", limit))
	}
	cs := ss.stmts.newStmt(ss, p[1:])
	if ss.cur.tx.branches == 0 {
		ss.snap = ss.srv.snapshot()
	}
	plan, _ := ss.plan(&statement{stmt: cs, info: cs.info})
	var pe *router.ParseError
	switch {
	case errors.As(plan.Err, &pe):
		if err := ss.user.authorizeUnparsed(cs.text, ss.mode); err != nil {
			return ss.writeErr(err)
		}
	default:
		if err := ss.user.authorize(plan, cs.info, ss.state.Schema, ss.snap.internalTable); err != nil {
			return ss.writeErr(err)
		}
		if plan.Err != nil {
			return ss.writeErr(plan.Err)
		}
	}
	ctx := ss.cmd.start(ss.user.queryTimeout(ss.srv.queryTimeout()))
	defer ss.cmd.end()
	cu := ss.cur
	cu.begin(current{info: cs.info})
	defer cu.finish(false)
	bc, err := cu.prepareConn(ctx, plan.Home())
	if err != nil {
		return ss.writeErr(err)
	}
	if err := bc.WriteCommand(p); err != nil {
		_, err := cu.backendFailed(bc, err)
		return ss.answerErr(err)
	}
	first, err := bc.Wire().ReadPacket(1 << 20)
	if err != nil {
		_, err := cu.backendFailed(bc, err)
		return ss.answerErr(err)
	}
	if len(first) > 0 && first[0] == wire.ErrHeader {
		return ss.writeFlush(first)
	}
	bst, err := backend.ParsePrepareOK(first)
	if err != nil {
		bc.MarkBroken()
		return ss.writeErr(sqlerr.Wrap(err, sqlerr.ErrMalformedPacket, "malformed reply to prepare from backend %s", bc.Addr()))
	}
	cs.params, cs.columns = bst.Params, bst.Columns
	bc.AddStmt(cs.key, bst, maxStmtsPerBackendConn)
	ss.stmts.add(cs)
	binary.LittleEndian.PutUint32(first[1:], cs.id)
	if err := ss.c.WritePacket(first); err != nil {
		return err
	}
	for _, n := range []uint16{bst.Params, bst.Columns} {
		for range int(n) + min(int(n), 1) { // the definitions and their EOF
			if _, _, err := ss.w.forward(bc, false); err != nil {
				_, err := cu.backendFailed(bc, err)
				return ss.answerErr(err)
			}
		}
	}
	return ss.c.Flush()
}

// prepareConn is the connection a statement is prepared on: the one the
// session holds on cluster cl, else a pooled primary one (preparing never
// opens a transaction's branch).
func (cu *cursor) prepareConn(ctx context.Context, cl int) (*backend.Conn, error) {
	if h := cu.conns[cl]; h.bc != nil {
		return h.bc, cu.ready(ctx, h.bc)
	}
	bc, _, err := cu.pooled(ctx, cu.srv.clusterList[cl].Primary, cl, nil)
	return bc, err
}

// stmtErr answers a failed statement look-up.
func (ss *session) stmtErr(err error) error {
	if errors.Is(err, errMalformed) {
		return ss.malformed()
	}
	return ss.writeErr(err)
}

// backendStmt returns the statement prepared on bc for cs, preparing it
// there first if needed (under the schema it was prepared in).
func (cu *cursor) backendStmt(ctx context.Context, bc *backend.Conn, cs *clientStmt) (*backend.Stmt, error) {
	ss := cu.ss
	if st := bc.Stmt(cs.key); st != nil {
		return st, nil
	}
	if cs.schema != ss.state.Schema {
		if err := bc.Sync(ctx, ss.state.WithSchema(cs.schema)); err != nil {
			return nil, err
		}
	}
	st, err := bc.Prepare(ctx, cs.key, cs.sql, maxStmtsPerBackendConn)
	if err != nil {
		return nil, err
	}
	if err := bc.Sync(ctx, ss.state); err != nil {
		return nil, err
	}
	if st.Params != cs.params || st.Columns != cs.columns {
		return nil, sqlerr.New(sqlerr.ErrUnknown,
			"prepared statement %d changed shape on backend %s (table altered?); prepare it again", cs.id, bc.Addr())
	}
	return st, nil
}

// stmtExecute runs COM_STMT_EXECUTE through the statement's plan.
func (ss *session) stmtExecute(p []byte) error {
	cs, err := ss.stmts.lookup(p, "mysqld_stmt_execute")
	if err != nil {
		return ss.stmtErr(err)
	}
	if len(p) < 10 {
		return ss.malformed()
	}
	cs.typesAt = 0
	if cs.params > 0 {
		cs.typesAt = 10 + (int(cs.params)+7)/8
		if len(p) <= cs.typesAt {
			return ss.malformed()
		}
		if p[cs.typesAt] == 1 {
			end := cs.typesAt + 1 + 2*int(cs.params)
			if len(p) < end {
				return ss.malformed()
			}
			cs.types = append(cs.types[:0], p[cs.typesAt+1:end]...)
		} else if cs.types == nil {
			return ss.writeErr(sqlerr.New(sqlerr.ErrWrongArguments,
				"Incorrect arguments to mysqld_stmt_execute: parameter types were never sent"))
		}
	}
	defer func() { cs.long, cs.longLen = nil, 0 }()
	if cs.longLen > ss.srv.conf().Limits.MaxPacketSize {
		return ss.writeErr(sqlerr.New(sqlerr.ErrNetPacketTooLarge,
			"Parameter data sent with mysql_stmt_send_long_data exceeds limits.max_packet_size (%d)", ss.srv.conf().Limits.MaxPacketSize))
	}
	if cs.mode != ss.mode {
		cs.normalize(ss)
	}
	st := statement{text: cs.text, info: cs.info, stmt: cs, exec: p}
	if p[5]&0x07 != 0 { // a cursor lives on its connection
		st.info.Flags |= parser.FlagUserVar
	}
	_, err = ss.run(&st)
	return flush(ss.c, err)
}

// stmtLongData buffers COM_STMT_SEND_LONG_DATA until the execute, which
// may run on another backend connection. There is no reply.
func (ss *session) stmtLongData(p []byte) error {
	cs, err := ss.stmts.lookup(p, "mysqld_stmt_send_long_data")
	if errors.Is(err, errMalformed) || len(p) < 7 {
		return ss.malformed()
	}
	if err != nil {
		return nil // the protocol has no reply; the execute reports problems
	}
	cs.longLen += len(p)
	if cs.longLen <= ss.srv.conf().Limits.MaxPacketSize {
		cs.long = append(cs.long, bytes.Clone(p))
	}
	return nil
}

// stmtReset runs COM_STMT_RESET: it drops buffered long data (and an open
// cursor, on a pinned connection).
func (ss *session) stmtReset(p []byte) error {
	cs, err := ss.stmts.lookup(p, "mysqld_stmt_reset")
	if err != nil {
		return ss.stmtErr(err)
	}
	cs.long, cs.longLen = nil, 0
	if bc, bst := ss.cur.cursorOf(cs); bst != nil {
		var b [5]byte
		b[0] = mysql.COM_STMT_RESET
		binary.LittleEndian.PutUint32(b[1:], bst.ID)
		ctx := ss.cmd.start(ss.user.queryTimeout(ss.srv.queryTimeout()))
		defer ss.cmd.end()
		ss.w.reset(true, false, false)
		if _, err := ss.cur.execute(ctx, bc, b[:], false, &ss.w); err != nil {
			return ss.answerErr(err)
		}
		return ss.c.Flush()
	}
	return ss.writeOK(0, 0, 0)
}

// stmtClose runs COM_STMT_CLOSE (no reply). Backend statements stay
// prepared for other sessions; their number is bounded per connection.
func (ss *session) stmtClose(p []byte) {
	if len(p) >= 5 {
		delete(ss.stmts.m, binary.LittleEndian.Uint32(p[1:]))
	}
}

// stmtFetch runs COM_STMT_FETCH on the connection that holds the cursor.
func (ss *session) stmtFetch(p []byte) error {
	cs, err := ss.stmts.lookup(p, "mysqld_stmt_fetch")
	if err != nil {
		return ss.stmtErr(err)
	}
	bc, bst := ss.cur.cursorOf(cs)
	if bst == nil || len(p) < 9 {
		return ss.writeErr(sqlerr.New(1421, "The statement (%d) has no open cursor.", cs.id))
	}
	pkt := append([]byte(nil), p...)
	binary.LittleEndian.PutUint32(pkt[1:], bst.ID)
	ctx := ss.cmd.start(ss.user.queryTimeout(ss.srv.queryTimeout()))
	defer ss.cmd.end()
	_ = ctx
	ss.w.reset(true, false, false)
	cu := ss.cur
	cu.run.add(bc)
	defer cu.run.remove(bc)
	if err := bc.WriteCommand(pkt); err != nil {
		_, err := cu.backendFailed(bc, err)
		return ss.answerErr(err)
	}
	// A fetch answers with rows and an EOF (no column definitions), or ERR.
	prefix, n, err := ss.w.forward(bc, true)
	if err != nil {
		_, err := cu.backendFailed(bc, err)
		return ss.answerErr(err)
	}
	if !(n > 0 && prefix[0] == wire.ErrHeader) && !wire.IsEOF(prefix, n) {
		var res result
		if _, err := ss.w.relayRows(bc, &res); err != nil {
			return ss.answerErr(err)
		}
	}
	return ss.c.Flush()
}

// cursorOf finds the pinned connection holding cs's server-side cursor.
func (cu *cursor) cursorOf(cs *clientStmt) (*backend.Conn, *backend.Stmt) {
	for _, h := range cu.conns {
		if h.pinned {
			if bst := h.bc.Stmt(cs.key); bst != nil {
				return h.bc, bst
			}
		}
	}
	return nil, nil
}

// cloneValue copies a value's bytes, so that it outlives the packet it
// was read from.
func cloneValue(v sqltypes.Value) sqltypes.Value {
	if v.IsNull() {
		return v
	}
	return sqltypes.MakeTrusted(v.Type(), bytes.Clone(v.Raw()))
}
