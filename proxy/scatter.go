package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/merge"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/sqlerr"
)

// maxRowPacket bounds one row read from a shard during a merge.
const maxRowPacket = 256 << 20

// shardStream is one shard's result set during a merge: a merge.Source
// over the backend connection.
type shardStream struct {
	bc       *backend.Conn
	pool     *backend.Pool
	row      merge.Row
	done     bool   // the closing EOF was read
	shardErr []byte // an ERR packet the shard ended its result with
	failed   error  // the read from the shard that failed
	warnings uint16
	held     bool // the session's transaction connection: not given back
}

// errShard reports an ERR packet a shard answered with.
var errShard = errors.New("shard answered with an error")

func (s *shardStream) Next() (merge.Row, error) {
	if s.done {
		return nil, nil
	}
	p, err := s.bc.Wire().ReadPacket(maxRowPacket)
	if err != nil {
		s.failed = err
		return nil, err
	}
	switch {
	case wire.IsEOF(p, len(p)):
		s.done = true
		s.warnings, _ = wire.ParseEOF(p)
		return nil, nil
	case len(p) > 0 && p[0] == wire.ErrHeader:
		s.done = true
		s.shardErr = append([]byte{}, p...)
		return nil, errShard
	}
	s.row = s.row[:0]
	for len(p) > 0 {
		if p[0] == 0xfb {
			s.row = append(s.row, nil)
			p = p[1:]
			continue
		}
		v, n, err := wire.ReadLenEncString(p)
		if err != nil {
			s.failed = fmt.Errorf("row from %s: %w", s.bc.Addr(), err)
			return nil, s.failed
		}
		if v == nil {
			v = []byte{}
		}
		s.row = append(s.row, v)
		p = p[n:]
	}
	return s.row, nil
}

// release returns the stream's connection: to the pool when its result
// was read to the end, closed otherwise.
func (s *shardStream) release() {
	if !s.done {
		s.bc.MarkBroken()
	}
	s.bc.SetDeadline(time.Time{})
	if !s.held {
		s.pool.Put(s.bc)
	}
}

// mergeGather runs a SELECT on every target in parallel and merges their
// rows as the plan says, streaming the result to the client.
func (ss *session) mergeGather(ctx context.Context, info parser.Info, targets []shardTarget, spec *router.Merge, binary bool) error {
	streams := make([]*shardStream, 0, len(targets))
	defer func() {
		for _, s := range streams {
			s.release()
		}
	}()
	deadline := time.Time{}
	if t := ss.srv.queryTimeout(); t > 0 {
		deadline = time.Now().Add(t)
	}
	for _, t := range targets {
		pool := t.ci.Primary
		if target, _ := router.Decide(info, ss.routing(t.ci)); target == router.Replica {
			if r := t.ci.Pick(nil); r != nil {
				pool = r.Pool
			}
		}
		bc, held, err := ss.shardConn(ctx, pool)
		if err != nil {
			return ss.writeErr(err)
		}
		pool.Queries.Add(1)
		streams = append(streams, &shardStream{bc: bc, pool: pool, held: held})
		bc.SetDeadline(deadline)
		if err := bc.WriteCommand(t.sql); err != nil {
			return ss.shardFailed(bc, err)
		}
	}
	cols, defs, err := ss.readHeaders(streams)
	if err != nil || cols == nil {
		return err
	}
	m, err := merge.New(spec, cols, ss.srv.cfg.Sharding.MaxMergeRows, ss.srv.columnMeta)
	if err != nil {
		return ss.writeErr(err)
	}
	ss.c.SetSeq(1)
	ss.scratch = wire.AppendLenEncInt(ss.scratch[:0], uint64(m.Visible()))
	if err := ss.c.WritePacket(ss.scratch); err != nil {
		return err
	}
	for _, d := range defs[:m.Visible()] {
		if err := ss.c.WritePacket(d); err != nil {
			return err
		}
	}
	status := ss.localStatus() &^ wire.StatusMoreResults
	ss.scratch = wire.AppendEOF(ss.scratch[:0], 0, status)
	if err := ss.c.WritePacket(ss.scratch); err != nil {
		return err
	}
	sources := make([]merge.Source, len(streams))
	for i, s := range streams {
		sources[i] = s
	}
	visible := m.Visible()
	var clientErr error
	err = m.Run(sources, func(r merge.Row) error {
		if binary {
			ss.scratch = appendBinaryRow(ss.scratch[:0], cols[:visible], r)
		} else {
			ss.scratch = appendTextRow(ss.scratch[:0], r[:visible])
		}
		if err := ss.c.WritePacket(ss.scratch); err != nil {
			clientErr = err
			return err
		}
		return nil
	})
	if err == nil {
		err = drain(streams)
	}
	switch {
	case clientErr != nil:
		return clientErr
	case err != nil:
		return ss.mergeFailed(streams, err)
	}
	var warnings uint16
	for _, s := range streams {
		warnings += s.warnings
	}
	ss.scratch = wire.AppendEOF(ss.scratch[:0], warnings, status)
	if err := ss.c.WritePacket(ss.scratch); err != nil {
		return err
	}
	return ss.c.Flush()
}

// readHeaders reads every shard's column definitions. It returns the
// first shard's (decoded, and raw for the client); nil columns mean an
// error was already sent to the client.
func (ss *session) readHeaders(streams []*shardStream) ([]merge.Column, [][]byte, error) {
	var cols []merge.Column
	var defs [][]byte
	for i, s := range streams {
		w := s.bc.Wire()
		p, err := w.ReadPacket(maxRowPacket)
		if err != nil {
			return nil, nil, ss.shardFailed(s.bc, err)
		}
		switch p[0] {
		case wire.ErrHeader:
			s.done = true
			return nil, nil, ss.forwardErr(p)
		case wire.OKHeader:
			s.bc.MarkBroken() // more results may follow
			return nil, nil, ss.writeErr(sqlerr.New(sqlerr.ErrUnknown, "shard %s answered a multi-shard query without rows", s.bc.Addr()))
		}
		n, _, _, _ := wire.ReadLenEncInt(p)
		if i > 0 && int(n) != len(cols) {
			return nil, nil, ss.writeErr(sqlerr.New(sqlerr.ErrUnknown, "shards answered with different columns (%d and %d); is the table's schema the same on every shard?", len(cols), n))
		}
		for range n {
			p, err := w.ReadPacket(maxRowPacket)
			if err != nil {
				return nil, nil, ss.shardFailed(s.bc, err)
			}
			if i > 0 {
				continue
			}
			c, err := merge.ParseColumn(p)
			if err != nil {
				return nil, nil, ss.shardFailed(s.bc, err)
			}
			cols = append(cols, c)
			defs = append(defs, append([]byte{}, p...))
		}
		if _, err := w.ReadPacket(maxRowPacket); err != nil { // EOF after the definitions
			return nil, nil, ss.shardFailed(s.bc, err)
		}
	}
	return cols, defs, nil
}

// drain reads what the shards still send after the merge stopped early
// (LIMIT reached), so their connections can be reused.
func drain(streams []*shardStream) error {
	for _, s := range streams {
		for !s.done {
			if _, err := s.Next(); err != nil {
				return err
			}
		}
	}
	return nil
}

// mergeFailed answers a merge that failed part-way: a shard's own error
// is passed on; a lost or timed-out shard gets 2013 or 1317; anything
// else (the merge's own errors) is sent as is. ERR packets may end a
// result at any point, so the client stays in step.
func (ss *session) mergeFailed(streams []*shardStream, err error) error {
	if errors.Is(err, errShard) {
		for _, s := range streams {
			if s.shardErr != nil {
				return ss.forwardErr(s.shardErr)
			}
		}
	}
	if _, ok := sqlerr.From(err); ok {
		return ss.writeErr(err)
	}
	for _, s := range streams {
		if s.failed != nil {
			return ss.shardFailed(s.bc, s.failed)
		}
	}
	return ss.writeErr(sqlerr.Wrap(err, sqlerr.ErrUnknown, "multi-shard query failed: %v", err))
}

// shardFailed answers an I/O failure on one shard's connection.
func (ss *session) shardFailed(bc *backend.Conn, err error) error {
	bc.MarkBroken()
	bc.Pool().Errors.Add(1)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		ss.srv.metrics.timeouts.Inc()
		return ss.writeErr(sqlerr.New(sqlerr.ErrQueryInterrupted,
			"Query execution was interrupted: query_timeout (%s) exceeded on shard backend %s", ss.srv.queryTimeout(), bc.Addr()))
	}
	return ss.writeErr(sqlerr.Wrap(err, sqlerr.ErrBackendUnavailable,
		"Lost connection to backend %s during a multi-shard query", bc.Addr()))
}

// forwardErr sends a backend's ERR packet to the client as the reply.
func (ss *session) forwardErr(p []byte) error {
	if err := ss.c.WritePacket(p); err != nil {
		return err
	}
	return ss.c.Flush()
}

// metaCache remembers what the catalog says about table columns the merge
// sorts by (collation, ENUM members). DDL through Courier clears it.
type metaCache struct {
	mu sync.Mutex
	m  map[string]*merge.Meta
}

func (c *metaCache) clear() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// columnMeta looks up a table column in the first shard's catalog.
func (s *Server) columnMeta(col *merge.Column) (*merge.Meta, error) {
	key := col.Schema + "." + col.OrgTable + "." + col.OrgName
	s.meta.mu.Lock()
	md, ok := s.meta.m[key]
	s.meta.mu.Unlock()
	if ok {
		return md, nil
	}
	pool := s.shardOf[s.planner.FirstShard()].Primary
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	bc, err := pool.Get(ctx, backend.FlavourPlain)
	if err != nil {
		return nil, err
	}
	defer pool.Put(bc)
	rows, err := bc.Query(ctx, fmt.Sprintf(
		"SELECT COLLATION_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND COLUMN_NAME = %s",
		backend.QuoteString(col.Schema), backend.QuoteString(col.OrgTable), backend.QuoteString(col.OrgName)))
	if err != nil {
		bc.MarkBroken()
		return nil, err
	}
	md = &merge.Meta{}
	if len(rows) == 1 {
		md.Collation = rows[0][0].Text
		if t := rows[0][1].Text; strings.HasPrefix(strings.ToLower(t), "enum(") {
			md.Enum = enumMembers(t[5 : len(t)-1])
		}
	}
	s.meta.mu.Lock()
	if s.meta.m == nil {
		s.meta.m = map[string]*merge.Meta{}
	}
	s.meta.m[key] = md
	s.meta.mu.Unlock()
	return md, nil
}

// enumMembers splits an ENUM definition's list: 'a','b”c' -> [a b'c].
func enumMembers(list string) []string {
	var out []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(list); i++ {
		c := list[i]
		switch {
		case !in && c == '\'':
			in = true
		case in && c == '\'' && i+1 < len(list) && list[i+1] == '\'':
			cur.WriteByte('\'')
			i++
		case in && c == '\'':
			in = false
			out = append(out, cur.String())
			cur.Reset()
		case in:
			cur.WriteByte(c)
		}
	}
	return out
}
