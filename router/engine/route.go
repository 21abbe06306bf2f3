package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/courier-proxy/courier/sqlerr"
)

// RouteOp says which clusters a Route sends its statement to.
type RouteOp uint8

// Route ops.
const (
	// Fixed: one cluster, always (unsharded tables).
	Fixed RouteOp = iota
	// ByKey: the shards owning the key values in Keys.
	ByKey
	// Scatter: every shard.
	Scatter
	// AnyShard: one shard, any (reference tables, which every shard holds
	// alike): one the session holds a connection on, else the first.
	AnyShard
)

var routeOpNames = [...]string{"fixed", "by key", "scatter", "any shard"}

func (o RouteOp) String() string { return routeOpNames[o] }

// Route sends a statement to the clusters its op names and relays the
// answer: one cluster's as it comes; several clusters' rows one after
// another (reads), or one OK with their affected rows added up (writes).
//
// A statement that reaches one shard runs as the client sent it; Query,
// when set, is what each shard runs when it reaches several (or always,
// when Rewritten). With InList, Query's list hole is the key's IN list,
// and each shard gets only its own values.
type Route struct {
	Op       RouteOp
	Cluster  int // Fixed
	Keyspace *Keyspace
	Vindex   Vindex
	// Keys are the bind slots holding the key values (ByKey).
	Keys []int
	// SameShard: the key values must all name one shard (the SELECTs of a
	// UNION), else the statement is refused.
	SameShard bool
	Query     *SQL
	Rewritten bool
	InList    bool
	// Read: the statement only reads (it may run on a replica); Write:
	// several shards' OKs are added up into one.
	Read, Write bool
	// Fallback runs instead when the key values cannot name shards
	// exactly (a value equal to keys of several shards): the statement
	// planned for every shard, merged.
	Fallback Primitive
	// Table names the routed table, for descriptions.
	Table string
}

// Execute implements Primitive.
func (r *Route) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	targets, fallback, err := r.targets(c, bv)
	switch {
	case err != nil:
		return err
	case fallback:
		return r.Fallback.Execute(ctx, c, bv, w)
	}
	return r.run(ctx, c, targets, w)
}

// run sends the statement to targets and answers.
func (r *Route) run(ctx context.Context, c Cursor, targets []Target, w ResultWriter) error {
	if len(targets) == 1 || !r.Write {
		return c.Stream(ctx, targets, r.Read, w)
	}
	results, err := c.Exec(ctx, targets)
	if err != nil {
		return err
	}
	return w.OK(Sum(results))
}

// Sum adds up several clusters' outcomes of one statement: affected rows
// and warnings, and the first insert id.
func Sum(results []Result) Result {
	var total Result
	for _, res := range results {
		total.Affected += res.Affected
		total.Warnings += res.Warnings
		if total.InsertID == 0 {
			total.InsertID = res.InsertID
		}
	}
	return total
}

// Streams implements Streamer: every target's rows, for a merge.
func (r *Route) Streams(ctx context.Context, c Cursor, bv *Bind) ([]RowStream, error) {
	targets, fallback, err := r.targets(c, bv)
	switch {
	case err != nil:
		return nil, err
	case fallback:
		return nil, sqlerr.New(sqlerr.ErrUnknown, "internal error: a merged route fell back")
	}
	return c.Open(ctx, targets)
}

// targets computes where the statement runs for bv's values; fallback
// is true when Fallback must run instead.
func (r *Route) targets(c Cursor, bv *Bind) (targets []Target, fallback bool, err error) {
	s := c.Session()
	switch r.Op {
	case Fixed:
		return r.one(bv, r.Cluster, s), false, nil
	case AnyShard:
		return r.one(bv, r.anyShard(s), s), false, nil
	case Scatter:
		return r.on(bv, r.Keyspace.all(bv), s, "scatter", false), false, nil
	}
	shards, all, err := r.Keyspace.shardsOf(r.Vindex, bv, r.Keys)
	switch {
	case err != nil:
		return nil, false, err
	case all && r.Fallback != nil:
		return nil, true, nil
	case all && r.SameShard:
		return nil, false, errSeveralShards
	case all:
		return r.on(bv, r.Keyspace.all(bv), s, "scatter", false), false, nil
	case len(shards) > 1 && r.SameShard:
		return nil, false, errSeveralShards
	case len(shards) == 0: // no row can match: any one shard answers (empty)
		shards = append(shards, 0)
		bv.shards = shards
	}
	return r.on(bv, shards, s, "key", r.InList), false, nil
}

var errSeveralShards = sqlerr.NotSupported("a UNION whose SELECTs reach several shards",
	"run each SELECT separately, or give every SELECT a key of the same shard")

// one is the single target on cluster.
func (r *Route) one(bv *Bind, cluster int, s *Session) []Target {
	sql := ""
	if r.Rewritten && r.Query != nil {
		sql = r.Query.RenderString(bv, s, nil)
	}
	ts := append(bv.targets[:0], Target{Cluster: cluster, SQL: sql})
	bv.targets = ts
	return ts
}

// on is one target per shard, each with its statement; with split, each
// shard's IN list holds only its own key values.
func (r *Route) on(bv *Bind, shards []int, s *Session, route string, split bool) []Target {
	s.Stats.Route, s.Stats.Shards = route, len(shards)
	if r.Query == nil || len(shards) == 1 && !r.Rewritten {
		return r.Keyspace.targetsOf(bv, shards, "")
	}
	if !split {
		return r.Keyspace.targetsOf(bv, shards, r.Query.RenderString(bv, s, nil))
	}
	ts := bv.targets[:0]
	for _, i := range shards {
		only := r.keysOn(bv, i)
		ts = append(ts, Target{Cluster: r.Keyspace.Clusters[i], SQL: r.Query.RenderString(bv, s, only)})
	}
	bv.targets = ts
	return ts
}

// keysOn returns the key slots whose values shard i owns.
func (r *Route) keysOn(bv *Bind, shard int) []int {
	var only []int
	for _, slot := range r.Keys {
		if i, err := r.Keyspace.shard(r.Vindex, bv.Value(slot)); err == nil && i == shard {
			only = append(only, slot)
		}
	}
	if only == nil {
		only = []int{} // not nil: render none rather than all
	}
	return only
}

// anyShard picks the shard a statement any shard can answer runs on.
func (r *Route) anyShard(s *Session) int {
	for _, held := range s.Held {
		for _, cl := range r.Keyspace.Clusters {
			if cl == held {
				return cl
			}
		}
	}
	return r.Keyspace.Clusters[0]
}

// Inputs implements Primitive.
func (r *Route) Inputs() []Primitive {
	if r.Fallback != nil {
		return []Primitive{r.Fallback}
	}
	return nil
}

// String implements Primitive.
func (r *Route) String() string {
	var b strings.Builder
	b.WriteString("Route")
	if r.Write {
		b.WriteString(" write")
	}
	switch r.Op {
	case Fixed:
		fmt.Fprintf(&b, " cluster %d", r.Cluster)
	case ByKey:
		fmt.Fprintf(&b, " %s by key %v", r.Table, r.Keys)
		if r.SameShard {
			b.WriteString(" same shard")
		}
		if r.InList {
			b.WriteString(" split")
		}
	default:
		fmt.Fprintf(&b, " %s %s", r.Table, r.Op)
	}
	if r.Query != nil {
		if r.Rewritten {
			b.WriteString(" always")
		}
		b.WriteString(": ")
		b.WriteString(r.Query.String())
	}
	return b.String()
}
