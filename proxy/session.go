package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"go.uber.org/zap"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// session is one client connection: its protocol state, the session
// state it set (schema, variables, read consistency), its prepared
// statements, and the cursor that runs its statements on the backends.
type session struct {
	srv  *Server
	id   uint32
	nc   net.Conn
	c    *wire.Conn
	tls  bool
	user *account
	caps uint32
	salt []byte // the handshake's scramble; COM_CHANGE_USER answers to it

	flavour backend.Flavour
	state   *backend.State
	// charsetVars set the handshake's collation, when it is not the
	// backends' default.
	charsetVars []backend.Var
	internal    *backend.State // state for Courier's own statements (see internalState)
	// mode is how the session's server reads SQL (sql_mode, charset).
	mode        parser.Mode
	consistency router.Consistency
	// lastInsertID is LAST_INSERT_ID() for the session, as the answers it
	// got said.
	lastInsertID uint64

	cur *cursor
	w   clientWriter
	cmd cmdContext
	// snap is the layout the session plans on (see snapshot); mark is
	// what write holds know of its work in flight (see writeHolds).
	snap *snapshot
	mark atomic.Uint64
	// killed is set by KILL CONNECTION from another session.
	killed atomic.Bool
	// busy is set while the session runs a command; inTxn says, between
	// commands, whether a transaction is open (a drain waits for it).
	busy  atomic.Bool
	inTxn atomic.Bool
	// act is what the session is doing, for SHOW PROCESSLIST; host is the
	// client's address.
	act  activity
	host string

	stmts   stmtTable
	shape   parser.Shape
	bind    engine.Bind
	pieces  []parser.Statement
	scratch []byte
}

// serveConn runs one client from greeting to goodbye.
func (s *Server) serveConn(ctx context.Context, nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	ss := &session{srv: s, id: s.nextID.Add(1), nc: nc, c: wire.NewConn(nc, 16<<10, 16<<10)}
	ss.w.ss = ss
	ss.snap = s.snapshot()
	ss.cur = newCursor(ss)
	ss.cmd.init(ctx, ss.cur)
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("session panic", zap.Uint32("conn", ss.id), zap.Any("panic", r),
				zap.ByteString("stack", debug.Stack()))
		}
		ss.close()
	}()
	s.clients.Add(1) // the door bounds sockets not logged in; max_connections counts sessions (startLogin)
	defer s.clients.Add(-1)
	s.metrics.connections.Inc()
	defer s.metrics.connections.Dec()

	_ = nc.SetDeadline(time.Now().Add(s.cfg.Limits.HandshakeTimeout))
	if err := ss.handshake(ctx); err != nil {
		s.metrics.authFailures.Inc()
		var se *sqlerr.Error
		if errors.As(err, &se) {
			_ = ss.writeErr(se)
		}
		if !errors.Is(err, io.EOF) {
			s.log.Debug("handshake failed", zap.Uint32("conn", ss.id),
				zap.String("remote", nc.RemoteAddr().String()), zap.Error(err))
		}
		return
	}
	_ = nc.SetDeadline(time.Time{})
	ss.host = nc.RemoteAddr().String()
	ss.act.idle(ss)
	s.register(ss)
	defer s.unregister(ss)
	if err := ss.writeOK(0, 0, 0); err != nil {
		return
	}
	ss.loop(ctx)
}

func (ss *session) logger() *zap.Logger {
	l := ss.srv.log.With(zap.Uint32("conn", ss.id))
	if ss.user != nil {
		l = l.With(zap.String("user", ss.user.name), zap.String("schema", ss.state.Schema))
	}
	return l
}

// loop reads and runs commands until the client quits or fails. The
// client connection's read deadlines (idle between commands, and the rest
// of a packet once it started) are kept by the wire layer.
func (ss *session) loop(ctx context.Context) {
	limit := ss.srv.conf().Limits.MaxPacketSize
	for {
		p, err := ss.c.ReadPacket(limit)
		if err != nil && ss.srv.drain.on.Load() {
			return // a drain ended the wait for a command
		}
		if err != nil {
			switch {
			case errors.Is(err, wire.ErrPacketTooLarge):
				_ = ss.writeErr(sqlerr.New(sqlerr.ErrNetPacketTooLarge,
					"Got a packet bigger than 'max_allowed_packet' bytes (limits.max_packet_size = %d)", limit))
			case errors.Is(err, wire.ErrPacketTimeout):
				_ = ss.writeErr(sqlerr.New(sqlerr.ErrNetReadInterrupted,
					"Got timeout reading communication packets (limits.packet_timeout = %s)", ss.srv.conf().Limits.PacketTimeout))
			}
			return
		}
		if len(p) == 0 {
			_ = ss.malformed()
			return
		}
		ss.busy.Store(true)
		ss.act.begin(ss, p)
		err = ss.dispatch(ctx, p)
		ss.act.idle(ss)
		ss.inTxn.Store(ss.cur.tx.active(ss))
		ss.busy.Store(false)
		if err != nil {
			if !errors.Is(err, errQuit) && !errors.Is(err, io.EOF) && !ss.killed.Load() {
				ss.logger().Debug("connection closed", zap.Error(err))
			}
			return
		}
		if ss.srv.drain.on.Load() && !ss.inTxn.Load() {
			// Draining, between commands, outside a transaction: one the
			// client sent before the drain began may still be on its way;
			// read until the drain's cutoff, then end.
			cutoff := ss.srv.drain.until()
			if !time.Now().Before(cutoff) {
				return
			}
			ss.c.SetReadTimeouts(0, ss.srv.conf().Limits.PacketTimeout) // the wait's deadline is the cutoff now
			_ = ss.nc.SetReadDeadline(cutoff)
		}
		ss.c.ShrinkBuffer(1 << 20)
	}
}

var errQuit = errors.New("client quit")

// dispatch runs one command. A returned error ends the connection; errors
// meant for the client are written by the command itself.
func (ss *session) dispatch(ctx context.Context, p []byte) error {
	m := ss.srv.metrics
	ss.c.SetSeq(1)
	switch p[0] {
	case mysql.COM_QUERY:
		m.cmdQuery.Inc()
		return ss.query(p)
	case mysql.COM_STMT_EXECUTE:
		m.cmdExecute.Inc()
		return ss.stmtExecute(p)
	case mysql.COM_STMT_PREPARE:
		m.cmdPrepare.Inc()
		return ss.stmtPrepare(p)
	case mysql.COM_STMT_CLOSE:
		ss.stmtClose(p)
		return nil
	case mysql.COM_STMT_SEND_LONG_DATA:
		return ss.stmtLongData(p)
	case mysql.COM_STMT_RESET:
		return ss.stmtReset(p)
	case mysql.COM_STMT_FETCH:
		return ss.stmtFetch(p)
	case mysql.COM_QUIT:
		return errQuit
	}
	m.cmdOther.Inc()
	switch p[0] {
	case mysql.COM_PING:
		return ss.writeOK(0, 0, 0)
	case mysql.COM_INIT_DB:
		return ss.initDB(ctx, string(p[1:]))
	case mysql.COM_FIELD_LIST:
		return ss.passthrough(p, true)
	case mysql.COM_SET_OPTION:
		return ss.setOption(p)
	case mysql.COM_RESET_CONNECTION:
		return ss.resetConnection()
	case mysql.COM_CHANGE_USER:
		return ss.changeUser(ctx, p)
	case mysql.COM_STATISTICS:
		return ss.passthrough(p, false)
	case mysql.COM_PROCESS_KILL:
		if len(p) < 5 {
			return ss.malformed()
		}
		id := uint64(p[1]) | uint64(p[2])<<8 | uint64(p[3])<<16 | uint64(p[4])<<24
		q := []byte("KILL " + strconv.FormatUint(id, 10))
		_, err := ss.run(&statement{text: q, info: parser.Info{Kind: parser.KindKill}})
		return flush(ss.c, err)
	}
	return ss.writeErr(sqlerr.New(sqlerr.ErrUnknownCommand, "Unknown command %d: Courier does not support it", p[0]))
}

// close gives back every backend connection, cleaning what the session
// left on them (a client that disconnects inside a transaction has it
// rolled back).
func (ss *session) close() {
	if ss.cur != nil {
		ss.cur.releaseAll()
	}
	ss.cmd.stop()
	ss.nc.Close()
}

func (ss *session) writeFlush(p []byte) error {
	if err := ss.c.WritePacket(p); err != nil {
		return err
	}
	return ss.c.Flush()
}

// writeOK sends an OK packet with the session's status flags.
func (ss *session) writeOK(affected, insertID uint64, warnings uint16) error {
	ss.scratch = wire.AppendOK(ss.scratch[:0], affected, insertID, ss.clientStatus(), warnings)
	return ss.writeFlush(ss.scratch)
}

// errMalformed ends a connection that sent a malformed packet.
var errMalformed = errors.New("client sent a malformed packet")

// malformed answers a malformed packet with error 1835 and ends the
// connection: what follows it cannot be trusted to be in step.
func (ss *session) malformed() error {
	_ = ss.writeErr(sqlerr.New(sqlerr.ErrMalformedPacket, "Malformed communication packet"))
	return errMalformed
}

// writeErr sends an error to the client: the one place where errors
// become packets. A coded error (Courier's own, or a backend's passed on
// unchanged) keeps its number, SQLSTATE and message; an uncoded one
// becomes 1105 and is logged as a bug.
func (ss *session) writeErr(err error) error {
	se, coded := sqlerr.From(err)
	if !coded {
		ss.logger().Error("uncoded error reached the client", zap.Error(err))
	}
	ss.srv.metrics.errors.Inc()
	ss.scratch = wire.AppendErr(ss.scratch[:0], se.Num, se.State, se.Message)
	return ss.writeFlush(ss.scratch)
}

// passthrough sends a command to the default cluster's primary and
// relays its reply: one packet (COM_STATISTICS), or column definitions up
// to EOF or an ERR (COM_FIELD_LIST, when list is set).
func (ss *session) passthrough(p []byte, list bool) error {
	cu := ss.cur
	ctx := ss.cmd.start(ss.user.queryTimeout(ss.srv.queryTimeout()))
	defer ss.cmd.end()
	cu.begin(current{info: parser.Info{Kind: parser.KindOther}})
	defer cu.finish(false)
	bc, _, err := cu.acquire(ctx, 0, false)
	if err != nil {
		return ss.writeErr(err)
	}
	if err := bc.WriteCommand(p); err != nil {
		_, err := cu.backendFailed(bc, err)
		return ss.answerErr(err)
	}
	for {
		prefix, n, err := ss.w.forward(bc, false)
		if err != nil {
			_, err := cu.backendFailed(bc, err)
			return ss.answerErr(err)
		}
		if !list || wire.IsEOF(prefix, n) || (n > 0 && prefix[0] == wire.ErrHeader) {
			break
		}
	}
	return ss.c.Flush()
}

// answerErr writes an error a statement ended with; it ends the session
// (after the client got the error) when the error says its transaction
// or state was lost, or when the client itself failed.
func (ss *session) answerErr(err error) error {
	if isWriteErr(err) {
		return err
	}
	var lost *lostError
	if errors.As(err, &lost) {
		_ = ss.writeErr(lost.err)
		return errSessionLost
	}
	return ss.writeErr(err)
}
