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

	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/sqlerr"
)

// session is one client connection.
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

	// bc is the backend connection the session holds between statements
	// (nil when it holds none); pinned keeps it for the session's life.
	// heldReplica is bc's replica when bc is on one.
	bc          *backend.Conn
	heldReplica *backend.Replica
	pinned      bool

	// Read consistency: the mode, and for causal reads the GTID of the
	// session's last write and the replicas known to have applied it.
	consistency router.Consistency
	lastGTID    string
	causalSeen  map[*backend.Replica]string
	// running is the connection executing a statement now, for KILL.
	running atomic.Pointer[backend.Conn]
	// killed is set by KILL CONNECTION from another session.
	killed atomic.Bool

	status       uint16 // server status of the last reply
	lastInsertID uint64
	// pendingBegin is a BEGIN not sent yet: with sharding, a transaction
	// starts on the shard its first statement goes to.
	pendingBegin string
	// beginText is the statement that began the transaction, sent again
	// on each further shard a multi-shard transaction reaches.
	beginText string
	// others are a multi-shard transaction's connections to shards other
	// than ss.bc's (see txn.go).
	others map[*backend.Pool]*backend.Conn

	stmts    map[uint32]*clientStmt
	nextStmt uint32
	scratch  []byte
}

// serveConn runs one client from greeting to goodbye.
func (s *Server) serveConn(ctx context.Context, nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	ss := &session{srv: s, id: s.nextID.Add(1), nc: nc, c: wire.NewConn(nc, 16<<10, 16<<10),
		status: wire.StatusAutocommit}
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("session panic", zap.Uint32("conn", ss.id), zap.Any("panic", r),
				zap.ByteString("stack", debug.Stack()))
		}
		ss.close()
	}()
	if !s.admit() {
		s.metrics.refused.Inc()
		e := sqlerr.New(sqlerr.ErrTooManyConnections, "Too many connections (limits.max_connections = %d)",
			s.cfg.Limits.MaxConnections)
		ss.c.SetSeq(0)
		_ = ss.writeErr(e)
		return
	}
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

// loop reads and runs commands until the client quits or fails.
func (ss *session) loop(ctx context.Context) {
	limit := ss.srv.cfg.Limits.MaxPacketSize
	idle := ss.srv.cfg.Limits.IdleClientTimeout
	var deadlineSet time.Time
	for {
		// Moving the read deadline costs a timer update; do it only when
		// an eighth of the idle timeout has passed since the last move,
		// so a client is closed after between 7/8 and all of it.
		if now := time.Now(); idle > 0 && now.Sub(deadlineSet) > idle/8 {
			_ = ss.nc.SetReadDeadline(now.Add(idle))
			deadlineSet = now
		}
		p, err := ss.c.ReadPacket(limit)
		if err != nil {
			if errors.Is(err, wire.ErrPacketTooLarge) {
				_ = ss.writeErr(sqlerr.New(sqlerr.ErrNetPacketTooLarge,
					"Got a packet bigger than 'max_allowed_packet' bytes (limits.max_packet_size = %d)", limit))
			}
			return
		}
		if len(p) == 0 {
			_ = ss.malformed()
			return
		}
		if err := ss.dispatch(ctx, p); err != nil {
			if !errors.Is(err, errQuit) && !errors.Is(err, io.EOF) && !ss.killed.Load() {
				ss.logger().Debug("connection closed", zap.Error(err))
			}
			return
		}
		ss.c.ShrinkBuffer(1 << 20)
	}
}

var errQuit = errors.New("client quit")

// dispatch runs one command. A returned error ends the connection; errors
// meant for the client are written by the command itself.
func (ss *session) dispatch(ctx context.Context, p []byte) error {
	m := ss.srv.metrics
	switch p[0] {
	case mysql.COM_QUERY:
		m.cmdQuery.Inc()
		return ss.query(ctx, p)
	case mysql.COM_STMT_EXECUTE:
		m.cmdExecute.Inc()
		return ss.stmtExecute(ctx, p)
	case mysql.COM_STMT_PREPARE:
		m.cmdPrepare.Inc()
		return ss.stmtPrepare(ctx, p)
	case mysql.COM_STMT_CLOSE:
		ss.stmtClose(p)
		return nil
	case mysql.COM_STMT_SEND_LONG_DATA:
		return ss.stmtLongData(p)
	case mysql.COM_STMT_RESET:
		return ss.stmtReset(ctx, p)
	case mysql.COM_STMT_FETCH:
		return ss.stmtFetch(ctx, p)
	case mysql.COM_QUIT:
		return errQuit
	case mysql.COM_PING:
		m.cmdOther.Inc()
		return ss.writeOK(0, 0, 0)
	case mysql.COM_INIT_DB:
		m.cmdOther.Inc()
		return ss.initDB(ctx, string(p[1:]))
	case mysql.COM_FIELD_LIST:
		m.cmdOther.Inc()
		return ss.fieldList(ctx, p)
	case mysql.COM_SET_OPTION:
		m.cmdOther.Inc()
		return ss.setOption(p)
	case mysql.COM_RESET_CONNECTION:
		m.cmdOther.Inc()
		return ss.resetConnection(ctx)
	case mysql.COM_CHANGE_USER:
		m.cmdOther.Inc()
		return ss.changeUser(ctx, p)
	case mysql.COM_STATISTICS:
		m.cmdOther.Inc()
		return ss.statistics(ctx, p)
	case mysql.COM_PROCESS_KILL:
		m.cmdOther.Inc()
		if len(p) < 5 {
			return ss.malformed()
		}
		id := uint64(p[1]) | uint64(p[2])<<8 | uint64(p[3])<<16 | uint64(p[4])<<24
		_, err := ss.kill(ctx, []byte("KILL "+strconv.FormatUint(id, 10)))
		return err
	}
	m.cmdOther.Inc()
	return ss.writeErr(sqlerr.New(sqlerr.ErrUnknownCommand, "Unknown command %d: Courier does not support it", p[0]))
}

// close gives back any backend connection, cleaning what the session
// left on it.
func (ss *session) close() {
	ss.dropOthers()
	if bc := ss.bc; bc != nil {
		ss.bc = nil
		if ss.pinned || ss.status&wire.StatusInTrans != 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if err := bc.Reset(ctx); err != nil {
				bc.MarkBroken()
			}
			cancel()
		}
		bc.Pool().Put(bc)
	}
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
	ss.scratch = wire.AppendOK(ss.scratch[:0], affected, insertID, ss.localStatus(), warnings)
	return ss.writeFlush(ss.scratch)
}

// localStatus is the status to report in replies Courier makes itself.
func (ss *session) localStatus() uint16 {
	st := ss.status &^ (wire.StatusMoreResults | wire.StatusCursorExists | wire.StatusLastRowSent)
	if ss.bc == nil {
		st &^= wire.StatusInTrans | wire.StatusInTransReadonly
	}
	return st
}

// errMalformed ends a connection that sent a malformed packet.
var errMalformed = errors.New("client sent a malformed packet")

// malformed answers a malformed packet with error 1835 and ends the
// connection: what follows it cannot be trusted to be in step.
func (ss *session) malformed() error {
	_ = ss.writeErr(sqlerr.New(sqlerr.ErrMalformedPacket, "Malformed communication packet"))
	return errMalformed
}

// writeErr sends a coded error to the client; uncoded errors become 1105
// and are logged as bugs.
func (ss *session) writeErr(err error) error {
	se, coded := sqlerr.From(err)
	if !coded {
		ss.logger().Error("uncoded error reached the client", zap.Error(err))
	}
	ss.srv.metrics.errors.Inc()
	ss.scratch = wire.AppendErr(ss.scratch[:0], se.Num, se.State, se.Message)
	return ss.writeFlush(ss.scratch)
}

// acquire returns a primary connection for the session (see acquireOn).
func (ss *session) acquire(ctx context.Context) (*backend.Conn, error) {
	return ss.acquireOn(ctx, ss.srv.primary)
}

// acquireOn returns a connection to p brought to the session's state:
// the one the session holds when it is on p, else a pooled one (giving
// back one held elsewhere).
func (ss *session) acquireOn(ctx context.Context, p *backend.Pool) (*backend.Conn, error) {
	bc := ss.bc
	if bc != nil && bc.Pool() != p {
		ss.bc, ss.heldReplica = nil, nil
		bc.Pool().Put(bc)
		bc = nil
	}
	if bc == nil {
		var err error
		if bc, err = p.Get(ctx, ss.flavour); err != nil {
			return nil, err
		}
		ss.bc = bc
	}
	if err := bc.Sync(ctx, ss.state); err != nil {
		ss.releaseIdle()
		return nil, err
	}
	return bc, nil
}

// releaseIdle gives the backend connection back unless something on it
// belongs to the session.
func (ss *session) releaseIdle() {
	bc := ss.bc
	if bc == nil {
		return
	}
	if bc.Broken() {
		ss.bc, ss.heldReplica = nil, nil
		ss.status &^= wire.StatusInTrans | wire.StatusInTransReadonly
		bc.Pool().Put(bc)
		return
	}
	if ss.pinned || ss.status&(wire.StatusInTrans|wire.StatusCursorExists) != 0 {
		return
	}
	ss.bc, ss.heldReplica = nil, nil
	bc.Pool().Put(bc)
}
