package router

import (
	"fmt"
	"strings"

	"github.com/courier-proxy/courier/router/topo"
)

// RouteKind says which backends a plan runs on.
type RouteKind uint8

// Route kinds.
const (
	// RouteUnsharded: the default cluster, statement unchanged.
	RouteUnsharded RouteKind = iota
	// RouteShards: the listed shards, each with its own statement text
	// (IN lists and multi-row INSERTs split by shard).
	RouteShards
	// RouteScatter: every shard, statement unchanged; results are merged.
	RouteScatter
	// RouteAnyShard: one shard of the executor's choice (reads of
	// reference tables).
	RouteAnyShard
	// RouteAllShards: every shard, statement unchanged, one result (DDL
	// and writes to reference tables).
	RouteAllShards
)

var routeNames = [...]string{"unsharded", "shards", "scatter", "any_shard", "all_shards"}

func (k RouteKind) String() string { return routeNames[k] }

// ShardQuery is the statement one shard runs.
type ShardQuery struct {
	Shard *topo.Shard
	SQL   string
}

// Plan is where a statement runs and with what text. Plans are data: they
// print themselves, for EXPLAIN and golden tests.
type Plan struct {
	Kind    RouteKind
	Write   bool
	Queries []ShardQuery // RouteShards
	// SQL is the statement every shard of a RouteScatter runs, when it
	// differs from the client's (rewritten for a merge).
	SQL string
	// Merge combines the rows of a SELECT that reaches several shards;
	// nil when they are simply appended.
	Merge *Merge
	// Rewritten: the shards must run the plan's text, not the client's
	// (an INSERT given keys from a sequence).
	Rewritten bool
	// InsertID is the first key taken from a sequence: LAST_INSERT_ID().
	InsertID int64
	// Lookup, on a RouteScatter plan, is a global index read that names
	// the only shards the statement needs: it runs there instead of on
	// every shard.
	Lookup *Lookup
	// IndexWrites are global index entries to write before the statement
	// runs (INSERT, REPLACE, UPDATE of an indexed column).
	IndexWrites []*IndexWrite
}

func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", p.Kind)
	if p.Write {
		b.WriteString(" write")
	}
	if p.SQL != "" {
		fmt.Fprintf(&b, "\n  all: %s", p.SQL)
	}
	if p.Merge != nil {
		fmt.Fprintf(&b, "\n  %s", p.Merge)
	}
	if p.Lookup != nil {
		fmt.Fprintf(&b, "\n  %s", p.Lookup)
	}
	for _, q := range p.Queries {
		fmt.Fprintf(&b, "\n  %s: %s", q.Shard.Name, q.SQL)
	}
	return b.String()
}
