package proxy

import (
	"context"
	"sync"
	"time"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/router/engine"
)

// cursor runs one session's statements on the backends: it is the
// session's engine.Cursor. It owns the session's backend connections —
// the ones it holds (a transaction's branch on each cluster it reached, a
// connection pinned by session state) and the ones a statement borrows —
// and applies the routing rules: read/write split, causal reads per
// cluster, transaction branches opened where statements execute, the
// re-send rule for reads that failed on a replica.
type cursor struct {
	ss  *session
	srv *Server

	// conns holds, per cluster (an index into the schema's clusters), the
	// connection the session keeps there.
	conns []held
	// last is the connection the previous statement ran on, kept for the
	// next one when it may read what the statement left (ROW_COUNT(),
	// warnings, FOUND_ROWS()); lastCluster is its cluster.
	last        *backend.Conn
	lastCluster int
	// causal is, per cluster, the GTID of the session's last write there.
	causal  []causal
	gtidMu  sync.Mutex
	pending []pendingGTID // GTIDs read by Exec goroutines, for collectGTIDs
	tx      txn

	info    engine.Session
	cur     current
	used    []borrowed     // connections the statement borrowed, given back when it ends
	streams []*shardStream // streams the statement opened
	run     running
	pkt     []byte
}

var _ engine.Cursor = (*cursor)(nil)

// held is a connection the session keeps on one cluster.
type held struct {
	bc     *backend.Conn
	branch bool // it holds the session's transaction there
	wrote  bool // the transaction wrote there
	pinned bool // it holds session state (user variables, locks, ...) for the session's life
}

// borrowed is a connection one statement uses.
type borrowed struct {
	bc      *backend.Conn
	cluster int
	replica *backend.Replica
	held    bool // the session keeps it: not given back at the end
}

// causal is what a causal session knows of one cluster.
type causal struct {
	gtid string                      // its last write's GTID there
	seen map[*backend.Replica]string // replicas known to have applied gtid
}

// current is the statement being executed, as the client sent it: the
// target the engine sends "the client's statement" to runs this.
type current struct {
	info parser.Info
	text []byte // the statement's text
	// packet is the COM_QUERY packet whose payload is text, when the
	// client's packet held just this statement (nil in a batch).
	packet []byte
	stmt   *clientStmt // a prepared execution: its statement
	exec   []byte      // and its COM_STMT_EXECUTE packet
	// sticky: the statement leaves state on its connection that the
	// session must keep.
	sticky bool
	// writes: the statement changes rows or definitions (refused on a
	// read-only cluster).
	writes bool
	ddl    bool
}

func newCursor(ss *session) *cursor {
	n := len(ss.srv.clusterList)
	return &cursor{ss: ss, srv: ss.srv, conns: make([]held, n), causal: make([]causal, n), lastCluster: -1}
}

// begin readies the cursor for one statement.
func (cu *cursor) begin(c current) {
	cu.cur = c
	ss := cu.ss
	cu.info = engine.Session{
		Mode:              ss.mode,
		Charset:           charsetOf(ss.state),
		DB:                ss.state.Schema,
		MaxRows:           cu.ss.snap.maxMergeRows(),
		Budget:            cu.srv.budget,
		GroupConcatMaxLen: groupConcatMaxLen(ss.state),
		Statement:         c.text,
		Held:              cu.info.Held[:0],
	}
	if c.stmt != nil {
		cu.info.Statement = c.stmt.text
	}
	for i, h := range cu.conns {
		if h.bc != nil {
			cu.info.Held = append(cu.info.Held, i)
		}
	}
}

// Session implements engine.Cursor.
func (cu *cursor) Session() *engine.Session { return &cu.info }

// NextIDs implements engine.Cursor.
func (cu *cursor) NextIDs(ctx context.Context, seq *engine.Sequence, n int) (int64, error) {
	db := seq.DB
	if db == "" {
		db = cu.ss.state.Schema
	}
	return cu.srv.nextIDs(ctx, db, seq, n)
}

// running is the set of connections a session is executing statements
// on now, so that KILL QUERY (from another session, or the statement's
// deadline) can stop them on every shard they reached.
type running struct {
	mu    sync.Mutex
	conns []*backend.Conn
}

func (r *running) add(bc *backend.Conn) {
	r.mu.Lock()
	r.conns = append(r.conns, bc)
	r.mu.Unlock()
}

func (r *running) remove(bc *backend.Conn) {
	r.mu.Lock()
	for i, c := range r.conns {
		if c == bc {
			r.conns[i] = r.conns[len(r.conns)-1]
			r.conns = r.conns[:len(r.conns)-1]
			break
		}
	}
	r.mu.Unlock()
}

// busy reports whether a statement is running.
func (r *running) busy() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.conns) > 0
}

// kill asks the server of every running connection to stop its
// statement, and bounds how long each may still take to answer (a hung
// server never will). The connections are marked broken first: once a
// KILL is on its way, a connection is never handed to another session,
// whose statement the KILL could otherwise stop.
func (r *running) kill(ctx context.Context, grace time.Duration) {
	r.mu.Lock()
	conns := append([]*backend.Conn(nil), r.conns...)
	r.mu.Unlock()
	for _, bc := range conns {
		bc.MarkBroken()
		bc.SetDeadline(time.Now().Add(grace))
		go func() {
			kctx, cancel := context.WithTimeout(ctx, 2*grace)
			defer cancel()
			_ = bc.Pool().KillQuery(kctx, bc.ThreadID)
		}()
	}
}
