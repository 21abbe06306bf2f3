package proxy

import (
	"context"
	"errors"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/sqlerr"
)

// planned reports whether the sharding planner routes a statement;
// everything else (SET, BEGIN, SHOW WARNINGS, ...) runs on the default
// cluster, or where the session's connection is.
func planned(info parser.Info) bool {
	if info.Flags&parser.FlagDiagnostics != 0 {
		return false
	}
	switch info.Kind {
	case parser.KindSelect, parser.KindInsert, parser.KindUpdate, parser.KindDelete, parser.KindReplace, parser.KindDDL,
		parser.KindShow, parser.KindExplain:
		return true
	}
	return false
}

// routeSharded plans a COM_QUERY over the sharded schema. It returns the
// cluster a single-backend statement runs on, with the text it runs when
// that is not the client's (rewritten is nil otherwise), or handled=true
// when it ran the statement itself on several shards or answered with an
// error.
func (ss *session) routeSharded(ctx context.Context, info parser.Info, q []byte) (ci *clusterInfo, rewritten []byte, handled bool, err error) {
	switch info.Kind {
	case parser.KindSelect, parser.KindUpdate, parser.KindDelete:
		if kind, shard, ok := ss.srv.planner.RouteText(string(q)); ok {
			if ci := ss.routeOne(kind, shard); ci != nil {
				if kind == router.RouteShards {
					ss.srv.metrics.shardsKey.Observe(1)
				}
				return ci, nil, false, nil
			}
		}
	}
	p, perr := ss.srv.planner.PlanWithIDs(string(q), nil, ss.idSource(ctx))
	if perr != nil {
		if errors.Is(perr, router.ErrUnparsed) && (info.Kind == parser.KindShow || info.Kind == parser.KindExplain) {
			return ss.srv.def, nil, false, nil // SHOW ENGINE ..., SHOW SLAVE STATUS: the default cluster's
		}
		if errors.Is(perr, router.ErrUnparsed) {
			perr = sqlerr.NotSupported("a statement the sharding planner cannot parse ("+perr.Error()+")",
				"use MySQL syntax for statements on sharded tables")
		}
		return nil, nil, true, ss.writeErr(perr)
	}
	if len(p.IndexWrites) > 0 {
		if err := ss.writeIndexes(ctx, p.IndexWrites); err != nil {
			return nil, nil, true, ss.writeErr(err)
		}
	}
	if p.Lookup != nil {
		shards, err := ss.lookup(ctx, p.Lookup)
		if err != nil {
			return nil, nil, true, ss.writeErr(err)
		}
		ss.srv.metrics.shardsLookup.Observe(float64(max(len(shards), 1)))
		if len(shards) <= 1 {
			return ss.routeOne(router.RouteShards, ss.narrow(p, q, shards).Queries[0].Shard), nil, false, nil
		}
		return nil, nil, true, ss.runMulti(ctx, info, ss.narrow(p, q, shards), q, false)
	}
	switch p.Kind {
	case router.RouteShards:
		ss.srv.metrics.shardsKey.Observe(float64(len(p.Queries)))
	case router.RouteScatter:
		ss.srv.metrics.shardsScatter.Observe(float64(len(ss.srv.planner.ShardNames())))
	}
	switch {
	case p.Kind == router.RouteUnsharded && (info.Kind == parser.KindShow || info.Kind == parser.KindExplain) && ss.bc != nil:
		return ss.srv.ofPool[ss.bc.Pool()], nil, false, nil
	case p.Kind == router.RouteUnsharded:
		return ss.srv.def, nil, false, nil
	case p.Kind == router.RouteAnyShard:
		return ss.anyShard(), nil, false, nil
	case p.Kind == router.RouteShards && len(p.Queries) == 1:
		if p.Rewritten {
			rewritten = append([]byte{mysql.COM_QUERY}, p.Queries[0].SQL...)
		}
		return ss.srv.shardOf[p.Queries[0].Shard.Name], rewritten, false, nil
	}
	return nil, nil, true, ss.runMulti(ctx, info, p, q, false)
}

// routeOne is the cluster a statement a template routed runs on: nil
// when it needs its full plan after all.
func (ss *session) routeOne(kind router.RouteKind, shard *topo.Shard) *clusterInfo {
	switch kind {
	case router.RouteUnsharded:
		return ss.srv.def
	case router.RouteAnyShard:
		return ss.anyShard()
	case router.RouteShards:
		return ss.srv.shardOf[shard.Name]
	}
	return nil
}

// anyShard is the shard a statement any shard can answer runs on: the
// one the session's connection (its transaction) is on, else the first.
func (ss *session) anyShard() *clusterInfo {
	if ss.bc != nil {
		if ci := ss.srv.ofPool[ss.bc.Pool()]; ss.srv.isShard(ci) {
			return ci
		}
	}
	return ss.srv.shardOf[ss.srv.planner.FirstShard()]
}

// isShard reports whether cluster ci holds a shard.
func (s *Server) isShard(ci *clusterInfo) bool {
	for _, sh := range s.shardOf {
		if sh == ci {
			return true
		}
	}
	return false
}

// idSource hands the planner keys from sequences in the session's
// database.
func (ss *session) idSource(ctx context.Context) router.IDSource {
	return func(t *router.Table, n int) (int64, error) {
		return ss.srv.nextIDs(ctx, ss.state.Schema, t, n)
	}
}

// runMulti runs a statement that reaches several shards and answers the
// client: one OK for writes, one merged result for reads (in the binary
// protocol for a prepared statement's execution).
func (ss *session) runMulti(ctx context.Context, info parser.Info, p *router.Plan, q []byte, binary bool) error {
	ss.srv.metrics.multiShard.Inc()
	inTxn := ss.status&wire.StatusInTrans != 0 || ss.pinned || ss.autocommitOff()
	if inTxn && !ss.bestEffort() {
		return ss.writeErr(sqlerr.NotSupported("a statement that reaches several shards inside a transaction",
			"run it outside the transaction, give it the sharding key of the transaction's shard, or set sharding.multi_shard_transactions: best_effort"))
	}
	if p.Kind == router.RouteScatter && p.Write && !ss.srv.cfg.Sharding.ScatterWrites {
		return ss.writeErr(sqlerr.NotSupported("UPDATE or DELETE without the sharding key (a write to every shard)",
			"add the sharding key to the WHERE clause, or set sharding.scatter_writes"))
	}
	if !inTxn {
		ss.releaseIdle()
	} else {
		ss.status |= wire.StatusInTrans // autocommit=0 starts it here
	}
	err := ss.runTargets(ctx, info, p, q, binary)
	if inTxn && ss.txnBroken() {
		return errSessionLost
	}
	return err
}

// runTargets runs a multi-shard statement's parts.
func (ss *session) runTargets(ctx context.Context, info parser.Info, p *router.Plan, q []byte, binary bool) error {
	targets := ss.targets(p, q)
	if p.Write || p.Kind == router.RouteAllShards {
		if info.Kind == parser.KindDDL {
			defer ss.srv.meta.clear()
		}
		return ss.writeAll(ctx, targets, p.Kind == router.RouteAllShards)
	}
	if p.Merge != nil || binary || ss.bestEffort() {
		spec := p.Merge
		if spec == nil {
			spec = &router.Merge{Limit: -1}
		}
		return ss.mergeGather(ctx, info, targets, spec, binary)
	}
	return ss.gather(ctx, info, targets)
}

// shardTarget is one shard's part of a multi-shard statement.
type shardTarget struct {
	ci  *clusterInfo
	sql []byte // a COM_QUERY packet
}

// targets lists every shard a multi-shard plan reaches with its statement.
func (ss *session) targets(p *router.Plan, q []byte) []shardTarget {
	packet := func(sql []byte) []byte { return append([]byte{mysql.COM_QUERY}, sql...) }
	var out []shardTarget
	if p.Kind == router.RouteShards {
		for _, sq := range p.Queries {
			out = append(out, shardTarget{ci: ss.srv.shardOf[sq.Shard.Name], sql: packet([]byte(sq.SQL))})
		}
		return out
	}
	sql := packet(q)
	if p.SQL != "" {
		sql = packet([]byte(p.SQL))
	}
	for _, name := range ss.srv.planner.ShardNames() {
		out = append(out, shardTarget{ci: ss.srv.shardOf[name], sql: sql})
	}
	return out
}

// borrow gets a connection to pool brought to the session's state, for
// one statement of a multi-shard plan (not held by the session).
// shardConn gets a connection to pool for one part of a multi-shard
// statement: the transaction's own inside a multi-shard transaction
// (held: it stays with the session), else a borrowed one.
func (ss *session) shardConn(ctx context.Context, pool *backend.Pool) (bc *backend.Conn, held bool, err error) {
	if ss.bestEffort() {
		bc, err = ss.txnConn(ctx, pool)
		return bc, true, err
	}
	bc, err = ss.borrow(ctx, pool)
	return bc, false, err
}

// txnBroken reports whether a connection holding the session's
// transaction was lost.
func (ss *session) txnBroken() bool {
	if ss.bc != nil && ss.bc.Broken() {
		return true
	}
	for _, bc := range ss.others {
		if bc.Broken() {
			return true
		}
	}
	return false
}

func (ss *session) borrow(ctx context.Context, pool *backend.Pool) (*backend.Conn, error) {
	bc, err := pool.Get(ctx, ss.flavour)
	if err != nil {
		return nil, err
	}
	if err := bc.Sync(ctx, ss.state); err != nil {
		pool.Put(bc)
		return nil, err
	}
	return bc, nil
}

// writeAll runs a write on each target's primary and answers with one OK:
// the sum of affected rows, or (for copies of one write, like DDL and
// reference tables) the first shard's. The first error stops it and is
// returned; shards already written keep their change (best effort, no
// two-phase commit yet).
func (ss *session) writeAll(ctx context.Context, targets []shardTarget, copies bool) error {
	var total wire.OK
	for i, t := range targets {
		bc, held, err := ss.shardConn(ctx, t.ci.Primary)
		if err != nil {
			return ss.writeErr(err)
		}
		ok, err := bc.ExecOK(ctx, string(t.sql[1:]))
		t.ci.Primary.Queries.Add(1)
		if !held {
			t.ci.Primary.Put(bc)
		}
		if err != nil {
			return ss.writeErr(err)
		}
		switch {
		case copies && i > 0:
		default:
			total.AffectedRows += ok.AffectedRows
			total.Warnings += ok.Warnings
			if ok.InsertID != 0 {
				total.InsertID = ok.InsertID
			}
		}
	}
	if total.InsertID != 0 {
		ss.lastInsertID = total.InsertID
	}
	return ss.writeOK(total.AffectedRows, total.InsertID, total.Warnings)
}

// gather runs a read on every target (a replica where the routing rules
// allow) and streams the rows as one result: the first shard's column
// definitions, every shard's rows, one closing EOF. Memory stays bounded:
// rows are forwarded as they arrive.
func (ss *session) gather(ctx context.Context, info parser.Info, targets []shardTarget) error {
	// Every shard gets its statement first, so they all work at once; their
	// replies are then relayed one shard after another (the ones not read
	// yet wait in their sockets: memory stays bounded).
	type part struct {
		bc   *backend.Conn
		pool *backend.Pool
		sent error
	}
	parts := make([]part, 0, len(targets))
	defer func() {
		for _, p := range parts {
			p.pool.Put(p.bc)
		}
	}()
	for _, t := range targets {
		pool := t.ci.Primary
		if target, _ := router.Decide(info, ss.routing(t.ci)); target == router.Replica {
			if r := t.ci.Pick(nil); r != nil {
				pool = r.Pool
			}
		}
		bc, err := ss.borrow(ctx, pool)
		if err != nil {
			for _, p := range parts {
				p.bc.MarkBroken() // its reply is never read
			}
			return ss.writeErr(err)
		}
		pool.Queries.Add(1)
		parts = append(parts, part{bc: bc, pool: pool, sent: bc.WriteCommand(t.sql)})
	}
	var warnings uint16
	status := ss.localStatus()
	ss.c.SetSeq(1)
	for i, p := range parts {
		w, stop, err := ss.gatherOne(p.bc, p.sent, i == 0)
		if err != nil || stop {
			for _, rest := range parts[i+1:] {
				rest.bc.MarkBroken() // its reply is never read
			}
			return err
		}
		warnings += w
	}
	ss.scratch = wire.AppendEOF(ss.scratch[:0], warnings, status&^wire.StatusMoreResults)
	if err := ss.c.WritePacket(ss.scratch); err != nil {
		return err
	}
	return ss.c.Flush()
}

// gatherOne forwards one shard's rows (and, for the first shard, its
// column definitions), renumbered into the merged reply; sent is the
// error of sending it the statement. It returns the shard's warning
// count, and stop=true when the reply ended early (an error, already sent
// to the client: ERR packets may end a result at any point, so the
// connection stays in step).
func (ss *session) gatherOne(bc *backend.Conn, sent error, first bool) (warnings uint16, stop bool, err error) {
	src := bc.Wire()
	fail := func(err error) (uint16, bool, error) {
		bc.MarkBroken()
		return 0, true, ss.writeErr(sqlerr.Wrap(err, sqlerr.ErrBackendUnavailable,
			"Lost connection to backend %s during a multi-shard query", bc.Addr()))
	}
	if sent != nil {
		return fail(sent)
	}
	head, err := src.Peek(prefixLen)
	if err != nil {
		return fail(err)
	}
	switch head.Payload[0] {
	case wire.ErrHeader:
		if _, _, err := src.ForwardPacketRenumbered(ss.c, 0); err != nil {
			return 0, true, err
		}
		return 0, true, ss.c.Flush()
	case wire.OKHeader:
		_, _, _ = src.SkipPacket(0)
		bc.MarkBroken() // more results may follow; do not reuse it
		return 0, true, ss.writeErr(sqlerr.New(sqlerr.ErrUnknown, "shard %s answered a multi-shard query without rows", bc.Addr()))
	}
	n, _, _, _ := wire.ReadLenEncInt(head.Payload)
	if first {
		_, _, err = src.ForwardPacketRenumbered(ss.c, 0)
	} else {
		_, _, err = src.SkipPacket(0)
	}
	if err != nil {
		return fail(err)
	}
	for range int(n) + 1 { // column definitions and their EOF
		if first {
			_, _, err = src.ForwardPacketRenumbered(ss.c, 0)
		} else {
			_, _, err = src.SkipPacket(0)
		}
		if err != nil {
			return fail(err)
		}
	}
	continuation := false
	for {
		p, err := src.Peek(prefixLen)
		if err != nil {
			return fail(err)
		}
		switch {
		case !continuation && wire.IsEOF(p.Payload, p.Length):
			w, _ := wire.ParseEOF(p.Payload)
			if _, _, err := src.SkipPacket(0); err != nil {
				return fail(err)
			}
			return w, false, nil
		case !continuation && p.Length > 0 && p.Payload[0] == wire.ErrHeader:
			if _, _, err := src.ForwardPacketRenumbered(ss.c, 0); err != nil {
				return 0, true, err
			}
			return 0, true, ss.c.Flush()
		}
		continuation = p.Length == wire.MaxPayload
		if _, _, err := src.ForwardPacketRenumbered(ss.c, 0); err != nil {
			bc.MarkBroken()
			var we *wire.WriteError
			if errors.As(err, &we) {
				return 0, true, err
			}
			return fail(err)
		}
	}
}
