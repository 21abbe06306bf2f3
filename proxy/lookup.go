package proxy

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
	"github.com/courier-proxy/courier/sqlerr"
)

// lookup reads a global index on the index tables' primaries (entries
// are written there before their rows commit, so a committed row's entry
// is always found) and returns the shards owning the keys found, in key
// space order. Rows are then read from those shards by the statement
// itself, so an orphan entry (a key without a matching row) adds a shard
// to ask but never a row to the answer.
func (ss *session) lookup(ctx context.Context, l *router.Lookup) ([]*topo.Shard, error) {
	ss.srv.metrics.indexLookups.WithLabelValues(l.Index.Source + "." + l.Index.Column).Inc()
	var keys []vindex.Value
	for _, q := range l.Queries {
		ci := ss.srv.def
		if q.Shard != nil {
			ci = ss.srv.shardOf[q.Shard.Name]
		}
		bc, err := ss.borrow(ctx, ci.Primary)
		if err != nil {
			return nil, err
		}
		rows, err := bc.Query(ctx, q.SQL)
		ci.Primary.Queries.Add(1)
		if err != nil {
			bc.MarkBroken()
		}
		ci.Primary.Put(bc)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			keys = append(keys, keyValue(r[0].Text))
		}
	}
	ss.srv.metrics.lookupKeys.Observe(float64(len(keys)))
	return ss.srv.planner.ShardsOfKeys(l.Index.Source, keys), nil
}

// keyValue reads a sharding key as the index table returned it.
func keyValue(s string) vindex.Value {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return vindex.IntValue(i)
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return vindex.UintValue(u)
	}
	return vindex.StrValue(s)
}

// narrow turns a scatter plan with a lookup into a plan over the shards
// the lookup found: the statement (rewritten for a merge, or the
// client's) runs on those shards only. With no shard found, one shard
// answers: no row matches, and it gives the empty result its shape.
func (ss *session) narrow(p *router.Plan, q []byte, shards []*topo.Shard) *router.Plan {
	sql := p.SQL
	if sql == "" {
		sql = string(q)
	}
	if len(shards) == 0 {
		first := ss.srv.planner.Shard(ss.srv.planner.FirstShard())
		shards = []*topo.Shard{first}
	}
	n := &router.Plan{Kind: router.RouteShards, Write: p.Write, Merge: p.Merge}
	for _, sh := range shards {
		n.Queries = append(n.Queries, router.ShardQuery{Shard: sh, SQL: sql})
	}
	return n
}

// writeIndexes writes global index entries before the statement that
// needs them, each on its index shard's primary and committed at once:
// a row the statement commits always finds its entry. If the statement
// then fails or is rolled back, the entries stay as orphans, which reads
// ignore and courierctl index repair removes.
func (ss *session) writeIndexes(ctx context.Context, writes []*router.IndexWrite) error {
	for _, w := range writes {
		ci := ss.srv.def
		if w.Shard != nil {
			ci = ss.srv.shardOf[w.Shard.Name]
		}
		bc, err := ss.borrow(ctx, ci.Primary)
		if err != nil {
			return err
		}
		ci.Primary.Queries.Add(1)
		if w.Index.Unique {
			err = ss.writeUnique(ctx, bc, w)
		} else {
			err = bc.Exec(ctx, w.SQL())
		}
		if err != nil {
			if _, ok := sqlerr.From(err); !ok {
				bc.MarkBroken() // not a server's answer: the connection is in doubt
			}
		}
		ci.Primary.Put(bc)
		if err != nil {
			return err
		}
	}
	return nil
}

// writeUnique writes the entries of a unique index one by one. A value
// that already has an entry for another key is a duplicate (error 1062)
// when that key's row still has the value; otherwise the entry is an
// orphan and is taken over.
func (ss *session) writeUnique(ctx context.Context, bc *backend.Conn, w *router.IndexWrite) error {
	col, key := quoteIdent(w.Index.Column), quoteIdent(w.Index.Key)
	for _, e := range w.Entries {
		v, k := e[0], e[1]
		err := bc.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s, %s) VALUES (%s, %s)", w.Table, col, key, v, k))
		if err == nil {
			continue
		}
		if se, ok := sqlerr.From(err); !ok || se.Num != sqlerr.ErrDupEntry {
			return err
		}
		rows, err := bc.Query(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s", key, w.Table, col, v))
		if err != nil || len(rows) == 0 {
			return fmt.Errorf("global index %s: reading the entry for %s: %v", w.Index.Table, v, err)
		}
		old := rows[0][0].Text
		if old == strings.Trim(k, "'") {
			continue // this row's own entry
		}
		exists, err := ss.rowHas(ctx, w, old, v)
		if err != nil {
			return err
		}
		if exists {
			return sqlerr.New(sqlerr.ErrDupEntry, "Duplicate entry '%s' for key '%s'", strings.Trim(v, "'"), w.Index.Column)
		}
		if err := bc.Exec(ctx, fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s = %s AND %s = %s",
			w.Table, key, k, col, v, key, backend.QuoteString(old))); err != nil {
			return err
		}
	}
	return nil
}

// rowHas reports whether the source row with key still has value v in
// the indexed column.
func (ss *session) rowHas(ctx context.Context, w *router.IndexWrite, key, v string) (bool, error) {
	shards := ss.srv.planner.ShardsOfKeys(w.Index.Source, []vindex.Value{keyValue(key)})
	if len(shards) == 0 {
		return false, nil
	}
	ci := ss.srv.shardOf[shards[0].Name]
	bc, err := ss.borrow(ctx, ci.Primary)
	if err != nil {
		return false, err
	}
	defer ci.Primary.Put(bc)
	rows, err := bc.Query(ctx, fmt.Sprintf("SELECT 1 FROM %s WHERE %s = %s AND %s = %s",
		w.Src, quoteIdent(w.Index.Key), backend.QuoteString(key), quoteIdent(w.Index.Column), v))
	if err != nil {
		bc.MarkBroken()
		return false, err
	}
	return len(rows) > 0, nil
}
