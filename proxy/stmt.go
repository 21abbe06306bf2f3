package proxy

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/sqlerr"
)

// maxStmtsPerBackendConn bounds the statements prepared on one backend
// connection (shared by every session that borrows it). The server's
// max_prepared_stmt_count (16382 by default) bounds all connections
// together, so this stays small.
const maxStmtsPerBackendConn = 64

// clientStmt is a statement a client prepared. Courier gives it its own
// id; on each backend connection it is prepared once, on first use, and
// found again by key (schema and text).
type clientStmt struct {
	id      uint32
	sql     string
	key     string
	schema  string
	info    parser.Info
	params  uint16
	columns uint16
	tpl     *router.Template // routes executions over a sharded schema
	types   []byte           // parameter types the client last sent
	long    [][]byte         // COM_STMT_SEND_LONG_DATA payloads since the last execute
	longLen int
}

func stmtKey(schema, sql string) string { return schema + "\x00" + sql }

// stmtPrepare runs COM_STMT_PREPARE: it prepares on a backend connection
// and relays the reply with Courier's statement id in it.
func (ss *session) stmtPrepare(ctx context.Context, p []byte) error {
	limit := ss.srv.cfg.Limits.MaxPreparedStatements
	if len(ss.stmts) >= limit {
		return ss.writeErr(sqlerr.New(sqlerr.ErrTooManyStatements,
			"Can't create more than max_prepared_stmt_count statements (current value: %d); close statements you no longer use", limit))
	}
	sql := string(p[1:])
	pool := ss.srv.primary
	if ss.srv.planner != nil && planned(parser.Classify(p[1:])) {
		plan, err := ss.srv.planner.Plan(sql, nil)
		if err != nil && !errors.Is(err, router.ErrUnparsed) {
			var se *sqlerr.Error
			if !errors.As(err, &se) || se.Num != sqlerr.ErrNotSupported {
				return ss.writeErr(err)
			}
		}
		if plan != nil && plan.Kind != router.RouteUnsharded {
			// Sharded and reference tables exist on every shard alike:
			// the first shard describes the statement.
			pool = ss.srv.shardOf[ss.srv.planner.FirstShard()].Primary
		}
	}
	bc, ok, err := ss.sendTo(ctx, pool, p)
	if !ok {
		return err
	}
	first, err := bc.Wire().ReadPacket(1 << 20)
	if err != nil {
		_, err := ss.backendFailed(bc, err)
		ss.releaseIdle()
		return err
	}
	if len(first) > 0 && first[0] == wire.ErrHeader {
		err := ss.writeFlush(first)
		ss.releaseIdle()
		return err
	}
	bst, err := backend.ParsePrepareOK(first)
	if err != nil {
		bc.MarkBroken()
		ss.releaseIdle()
		return ss.writeErr(sqlerr.Wrap(err, sqlerr.ErrMalformedPacket, "malformed reply to prepare from backend %s", bc.Addr()))
	}
	cs := &clientStmt{id: ss.nextStmtID(), sql: sql, schema: ss.state.Schema, info: parser.Classify(p[1:]),
		params: bst.Params, columns: bst.Columns}
	cs.key = stmtKey(cs.schema, sql)
	bc.AddStmt(cs.key, bst, maxStmtsPerBackendConn)
	if ss.stmts == nil {
		ss.stmts = make(map[uint32]*clientStmt)
	}
	ss.stmts[cs.id] = cs

	binary.LittleEndian.PutUint32(first[1:], cs.id)
	ss.c.SetSeq(1)
	if err := ss.c.WritePacket(first); err != nil {
		return err
	}
	for _, n := range []uint16{bst.Params, bst.Columns} {
		if n == 0 {
			continue
		}
		for range int(n) + 1 {
			if _, _, err := ss.forward(ctx, bc); err != nil {
				_, err := ss.backendFailed(bc, err)
				ss.releaseIdle()
				return err
			}
		}
	}
	ss.releaseIdle()
	return ss.c.Flush()
}

func (ss *session) nextStmtID() uint32 {
	for {
		ss.nextStmt++
		if _, used := ss.stmts[ss.nextStmt]; !used && ss.nextStmt != 0 {
			return ss.nextStmt
		}
	}
}

// lookupStmt finds the statement a COM_STMT_* packet names.
func (ss *session) lookupStmt(p []byte, cmd string) (*clientStmt, error) {
	if len(p) < 5 {
		return nil, errMalformed
	}
	id := binary.LittleEndian.Uint32(p[1:])
	if cs := ss.stmts[id]; cs != nil {
		return cs, nil
	}
	return nil, sqlerr.New(sqlerr.ErrUnknownStmtHandler,
		"Unknown prepared statement handler (%d) given to %s", id, cmd)
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
func (ss *session) backendStmt(ctx context.Context, bc *backend.Conn, cs *clientStmt) (*backend.Stmt, error) {
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

// stmtExecute runs COM_STMT_EXECUTE.
func (ss *session) stmtExecute(ctx context.Context, p []byte) error {
	start := time.Now()
	cs, err := ss.lookupStmt(p, "mysqld_stmt_execute")
	if err != nil {
		return ss.stmtErr(err)
	}
	if len(p) < 10 {
		return ss.malformed()
	}
	flags := p[5]
	typesAt := 0 // position of the new-params-bound flag
	if cs.params > 0 {
		typesAt = 10 + (int(cs.params)+7)/8
		if len(p) <= typesAt {
			return ss.malformed()
		}
		if p[typesAt] == 1 {
			end := typesAt + 1 + 2*int(cs.params)
			if len(p) < end {
				return ss.malformed()
			}
			cs.types = append(cs.types[:0], p[typesAt+1:end]...)
		} else if cs.types == nil {
			return ss.writeErr(sqlerr.New(sqlerr.ErrWrongArguments,
				"Incorrect arguments to mysqld_stmt_execute: parameter types were never sent"))
		}
	}
	if sticky(cs.info) || cs.info.Kind == parser.KindSet || cs.info.Kind == parser.KindUse ||
		flags&0x07 != 0 { // a cursor lives on its connection
		ss.pinned = true
	}
	if cs.longLen > ss.srv.cfg.Limits.MaxPacketSize {
		cs.long, cs.longLen = nil, 0
		return ss.writeErr(sqlerr.New(sqlerr.ErrNetPacketTooLarge,
			"Parameter data sent with mysql_stmt_send_long_data exceeds limits.max_packet_size (%d)", ss.srv.cfg.Limits.MaxPacketSize))
	}

	ci := ss.srv.def
	var rewritten []byte // a COM_QUERY run instead of the execution
	if ss.srv.planner != nil && planned(cs.info) {
		var err error
		var handled bool
		ci, rewritten, handled, err = ss.shardForExecute(ctx, cs, p, typesAt)
		if handled {
			cs.long, cs.longLen = nil, 0
			ss.srv.metrics.observe(start, nil, cs.sql, ss)
			return err
		}
	}
	res, ok, err := ss.runStatement(ctx, cs.info, ci, func(bc *backend.Conn) ([]byte, error) {
		if rewritten != nil {
			return rewritten, nil
		}
		bst, err := ss.backendStmt(ctx, bc, cs)
		if err != nil {
			return nil, err
		}
		for _, ld := range cs.long {
			binary.LittleEndian.PutUint32(ld[1:], bst.ID)
			if err := bc.WriteCommand(ld); err != nil {
				return nil, sqlerr.Wrap(err, sqlerr.ErrBackendUnavailable, "Lost connection to backend %s", bc.Addr())
			}
		}
		// The client's packet, with the backend's id, and with the
		// parameter types added when this backend statement has not seen
		// these types.
		ss.scratch = append(ss.scratch[:0], p...)
		binary.LittleEndian.PutUint32(ss.scratch[1:], bst.ID)
		if cs.params > 0 {
			if p[typesAt] == 0 && !bytes.Equal(bst.Types, cs.types) {
				ss.scratch = append(ss.scratch[:typesAt], 1)
				ss.scratch = append(ss.scratch, cs.types...)
				ss.scratch = append(ss.scratch, p[typesAt+1:]...)
			}
			bst.Types = append(bst.Types[:0], cs.types...)
		}
		return ss.scratch, nil
	})
	cs.long, cs.longLen = nil, 0
	if err != nil || !ok {
		return err
	}
	ss.finish(cs.info, res)
	ss.srv.metrics.observe(start, nil, cs.sql, ss)
	return nil
}

// stmtLongData buffers COM_STMT_SEND_LONG_DATA until the execute, which
// may run on another backend connection. There is no reply.
func (ss *session) stmtLongData(p []byte) error {
	cs, err := ss.lookupStmt(p, "mysqld_stmt_send_long_data")
	if errors.Is(err, errMalformed) || len(p) < 7 {
		return ss.malformed()
	}
	if err != nil {
		return nil // the protocol has no reply; the execute reports problems
	}
	cs.longLen += len(p)
	if cs.longLen <= ss.srv.cfg.Limits.MaxPacketSize {
		cs.long = append(cs.long, bytes.Clone(p))
	}
	return nil
}

// stmtReset runs COM_STMT_RESET: it drops buffered long data (and an open
// cursor, on a pinned connection).
func (ss *session) stmtReset(ctx context.Context, p []byte) error {
	cs, err := ss.lookupStmt(p, "mysqld_stmt_reset")
	if err != nil {
		return ss.stmtErr(err)
	}
	cs.long, cs.longLen = nil, 0
	if bc := ss.bc; bc != nil && ss.pinned {
		if bst := bc.Stmt(cs.key); bst != nil {
			var b [5]byte
			b[0] = mysql.COM_STMT_RESET
			binary.LittleEndian.PutUint32(b[1:], bst.ID)
			res, err := ss.execute(ctx, bc, b[:], false)
			if err == nil {
				ss.status = res.status
			}
			return err
		}
	}
	return ss.writeOK(0, 0, 0)
}

// stmtClose runs COM_STMT_CLOSE (no reply). Backend statements stay
// prepared for other sessions; their number is bounded per connection.
func (ss *session) stmtClose(p []byte) {
	if len(p) >= 5 {
		delete(ss.stmts, binary.LittleEndian.Uint32(p[1:]))
	}
}

// stmtFetch runs COM_STMT_FETCH on the connection that holds the cursor.
func (ss *session) stmtFetch(ctx context.Context, p []byte) error {
	cs, err := ss.lookupStmt(p, "mysqld_stmt_fetch")
	if err != nil {
		return ss.stmtErr(err)
	}
	bc := ss.bc
	var bst *backend.Stmt
	if bc != nil {
		bst = bc.Stmt(cs.key)
	}
	if bst == nil || len(p) < 9 {
		return ss.writeErr(sqlerr.New(1421, "The statement (%d) has no open cursor.", cs.id))
	}
	ss.scratch = append(ss.scratch[:0], p...)
	binary.LittleEndian.PutUint32(ss.scratch[1:], bst.ID)
	ss.running.Store(bc)
	defer ss.running.Store(nil)
	if err := bc.WriteCommand(ss.scratch); err != nil {
		_, err := ss.backendFailed(bc, err)
		return err
	}
	var res result
	prefix, n, err := ss.forward(ctx, bc)
	if err != nil {
		_, err := ss.backendFailed(bc, err)
		return err
	}
	switch {
	case n > 0 && prefix[0] == wire.ErrHeader:
	case wire.IsEOF(prefix, n):
		res.warnings, res.status = wire.ParseEOF(prefix)
		ss.status = res.status
	default:
		if _, err := ss.relayRows(ctx, bc, &res); err != nil {
			return err
		}
		ss.status = res.status
	}
	return ss.c.Flush()
}

// shardForExecute plans a prepared statement with its bound values and
// returns the one cluster it runs on, or handled=true when it answered
// itself: an execution that reaches several shards runs on each as text
// with the values bound in, and its rows are merged and sent in the
// binary protocol. A write the planner had to rewrite (keys from a
// sequence) runs on its shard as the text returned in rewritten.
func (ss *session) shardForExecute(ctx context.Context, cs *clientStmt, p []byte, typesAt int) (ci *clusterInfo, rewritten []byte, handled bool, err error) {
	args := decodeParams(p, int(cs.params), typesAt, cs.types, cs.long)
	if cs.tpl == nil {
		cs.tpl = ss.srv.planner.Template(cs.sql)
	}
	if kind, shard, ok := cs.tpl.Route(args); ok {
		if ci := ss.routeOne(kind, shard); ci != nil {
			return ci, nil, false, nil
		}
	}
	plan, err := ss.srv.planner.Plan(cs.sql, args)
	wrote := false // the index entries the execution needs
	if err == nil && len(plan.IndexWrites) > 0 {
		if err := ss.writeIndexes(ctx, plan.IndexWrites); err != nil {
			return nil, nil, true, ss.writeErr(err)
		}
		wrote = true
	}
	switch {
	case err != nil: // perhaps only with placeholders (LIMIT ?, keys from a sequence): plan the bound text below
	case plan.Kind == router.RouteUnsharded:
		return ss.srv.def, nil, false, nil
	case plan.Kind == router.RouteAnyShard:
		return ss.anyShard(), nil, false, nil
	case plan.Kind == router.RouteShards && len(plan.Queries) == 1:
		return ss.srv.shardOf[plan.Queries[0].Shard.Name], nil, false, nil
	}
	var shards []*topo.Shard // found by a global index lookup
	if err == nil && plan.Lookup != nil {
		if shards, err = ss.lookup(ctx, plan.Lookup); err != nil {
			return nil, nil, true, ss.writeErr(err)
		}
		ss.srv.metrics.shardsLookup.Observe(float64(max(len(shards), 1)))
		if len(shards) <= 1 {
			return ss.routeOne(router.RouteShards, ss.narrow(plan, nil, shards).Queries[0].Shard), nil, false, nil
		}
	}
	lits, err := decodeLiterals(p, int(cs.params), typesAt, cs.types, cs.long)
	if err != nil {
		return nil, nil, true, ss.malformed()
	}
	sql, err := ss.srv.planner.Bind(cs.sql, lits)
	if err == nil {
		plan, err = ss.srv.planner.PlanWithIDs(sql, nil, ss.idSource(ctx))
	}
	if err != nil {
		return nil, nil, true, ss.writeErr(err)
	}
	if len(plan.IndexWrites) > 0 && !wrote {
		if err := ss.writeIndexes(ctx, plan.IndexWrites); err != nil {
			return nil, nil, true, ss.writeErr(err)
		}
	}
	if plan.Kind == router.RouteShards && len(plan.Queries) == 1 && plan.Write {
		return ss.srv.shardOf[plan.Queries[0].Shard.Name], append([]byte{mysql.COM_QUERY}, plan.Queries[0].SQL...), false, nil
	}
	if shards != nil && plan.Lookup != nil {
		plan = ss.narrow(plan, []byte(sql), shards)
	}
	return nil, nil, true, ss.runMulti(ctx, cs.info, plan, []byte(sql), true)
}
