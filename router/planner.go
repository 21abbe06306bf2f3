package router

import (
	"fmt"
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// Planner plans statements against a schema. It is a pure function of
// (statement, schema, options): no I/O, safe for concurrent use.
type Planner struct {
	schema *Schema
	parser *sqlparser.Parser // tokenizes client statements for column names
}

// NewPlanner returns a planner over schema.
func NewPlanner(s *Schema, p *sqlparser.Parser) *Planner { return &Planner{schema: s, parser: p} }

// Schema returns the schema the planner plans against.
func (pl *Planner) Schema() *Schema { return pl.schema }

// Plan plans one parsed statement whose placeholders :v1 ... :vN stand
// for the shape's nargs values. A statement that cannot run gets a plan
// whose Err says why (error 1235 and the construct).
func (pl *Planner) Plan(stmt sqlparser.Statement, nargs int, o Options) *Plan {
	b := &build{pl: pl, opts: o, slots: nargs}
	root, err := b.statement(stmt)
	p := &Plan{Root: root, Slots: b.slots, Consts: b.consts, Err: err}
	p.Access, p.Class = b.pl.accessOf(stmt)
	_, p.DDL = stmt.(sqlparser.DDLStatement)
	return p
}

// statement plans stmt by its type.
func (b *build) statement(stmt sqlparser.Statement) (engine.Primitive, error) {
	switch s := stmt.(type) {
	case *sqlparser.Select:
		return b.selectPlan(s)
	case *sqlparser.Union:
		return b.unionPlan(s)
	case *sqlparser.Insert:
		return b.insertPlan(s)
	case *sqlparser.Update:
		return b.updatePlan(s)
	case *sqlparser.Delete:
		return b.deletePlan(s)
	case sqlparser.DDLStatement:
		return b.ddlPlan(s)
	case sqlparser.DBDDLStatement:
		return b.everyCluster(), nil
	case *sqlparser.Show:
		return b.showPlan(s), nil
	case *sqlparser.ExplainTab:
		return b.metadata(s.Table), nil
	case *sqlparser.ExplainStmt:
		return b.explainPlan(s)
	case *sqlparser.LockTables:
		for _, t := range s.Tables {
			if at, ok := t.Table.(*sqlparser.AliasedTableExpr); ok {
				if tn, ok := at.Expr.(sqlparser.TableName); ok && b.pl.schema.Table(tn.Name.String()).Kind != Unsharded {
					return nil, sqlerr.NotSupported("LOCK TABLES on sharded or reference table "+strings.ToLower(tn.Name.String()),
						"lock rows in a transaction with SELECT ... FOR UPDATE instead")
				}
			}
		}
	}
	sharded, _, unsharded := kinds(b.pl.tables(stmt))
	if len(sharded) > 0 {
		return nil, sqlerr.NotSupported(fmt.Sprintf("this statement on sharded table %s", sharded[0].name),
			"read the rows with a SELECT first")
	}
	return b.fixed(unsharded, false)
}

// fixed routes the client's statement to the cluster its unsharded
// tables live on (the default cluster when they name none, or only
// tables not listed). Tables on two clusters cannot meet in one
// statement: refused.
func (b *build) fixed(unsharded []tableRef, read bool) (*engine.Route, error) {
	home := 0
	for i, r := range unsharded {
		if r.t.home != unsharded[0].t.home {
			s := b.pl.schema
			return nil, sqlerr.NotSupported(fmt.Sprintf("a statement on table %s (cluster %s) and table %s (cluster %s)",
				unsharded[0].t.Name, s.Clusters[unsharded[0].t.home], r.t.Name, s.Clusters[r.t.home]),
				"tables on different clusters cannot meet in one statement; query them separately")
		}
		if i == 0 {
			home = r.t.home
		}
	}
	return &engine.Route{Op: engine.Fixed, Cluster: home, Read: read}, nil
}

// fixedDefault routes the client's statement to the default cluster.
func (b *build) fixedDefault(read bool) *engine.Route {
	return &engine.Route{Op: engine.Fixed, Cluster: 0, Read: read}
}

// anyShard routes the client's statement to one shard, any (a statement
// on reference tables, or on a table's definition).
func (b *build) anyShard(read bool, table string) *engine.Route {
	return &engine.Route{Op: engine.AnyShard, Keyspace: b.pl.schema.keyspace, Read: read, Table: table}
}

// everyCluster runs the client's statement on every cluster (CREATE and
// DROP DATABASE: a database must exist wherever its tables may live).
func (b *build) everyCluster() engine.Primitive {
	s := b.pl.schema
	if !s.Sharded() {
		return b.fixedDefault(false)
	}
	clusters := make([]int, len(s.Clusters))
	for i := range clusters {
		clusters[i] = i
	}
	return &engine.WriteAll{Keyspace: s.keyspace, Clusters: clusters, Table: "every cluster"}
}

// ddlPlan runs DDL on sharded or reference tables on every shard, and
// the rest on the cluster of its unsharded tables.
func (b *build) ddlPlan(s sqlparser.DDLStatement) (engine.Primitive, error) {
	var laidOut []string
	var plain []tableRef
	for _, t := range s.AffectedTables() {
		if tb := b.pl.schema.Table(t.Name.String()); tb.Kind != Unsharded {
			laidOut = append(laidOut, t.Name.String())
		} else {
			plain = append(plain, tableRef{t: tb, name: tb.Name})
		}
	}
	switch {
	case len(laidOut) == 0:
		return b.fixed(plain, false)
	case len(plain) > 0:
		return nil, sqlerr.NotSupported(fmt.Sprintf("one DDL statement on sharded or reference table %s and unsharded table %s", laidOut[0], plain[0].name),
			"run one statement for each")
	}
	return &engine.WriteAll{Keyspace: b.pl.schema.keyspace, Table: laidOut[0]}, nil
}

// showPlan routes SHOW: a sharded or reference table's definition comes
// from one shard (they all hold the same); everything else from the
// default cluster.
func (b *build) showPlan(s *sqlparser.Show) engine.Primitive {
	switch in := s.Internal.(type) {
	case *sqlparser.ShowBasic:
		return b.metadata(in.Tbl)
	case *sqlparser.ShowCreate:
		return b.metadata(in.Op)
	}
	return b.fixedDefault(false)
}

// metadata routes SHOW and DESCRIBE of table t: to a shard, or to the
// cluster an unsharded table lives on.
func (b *build) metadata(t sqlparser.TableName) engine.Primitive {
	if t.Name.IsEmpty() {
		return b.fixedDefault(false)
	}
	tb := b.pl.schema.Table(t.Name.String())
	if tb.Kind != Unsharded {
		return b.anyShard(false, tb.Name)
	}
	return &engine.Route{Op: engine.Fixed, Cluster: tb.home}
}

// explainPlan shows the plan of one shard: the statement's own shard when
// it has one, else any.
func (b *build) explainPlan(s *sqlparser.ExplainStmt) (engine.Primitive, error) {
	sharded, reference, unsharded := kinds(b.pl.tables(s.Statement))
	if len(sharded)+len(reference) == 0 {
		return b.fixed(unsharded, false)
	}
	inner, err := b.statement(s.Statement)
	if err == nil {
		if r, ok := inner.(*engine.Route); ok && r.Op == engine.ByKey && len(r.Keys) == 1 {
			return &engine.Route{Op: engine.ByKey, Keyspace: r.Keyspace, Vindex: r.Vindex, Keys: r.Keys, Table: r.Table}, nil
		}
	}
	return b.anyShard(false, ""), nil
}

// unionPlan runs a UNION where all its SELECTs can run: on one shard
// (each routed there by key, or reading only reference tables), or on the
// one cluster of its unsharded tables. A UNION across shards would need its duplicates
// removed across shards: refused.
func (b *build) unionPlan(u *sqlparser.Union) (engine.Primitive, error) {
	var keys []int
	var keyed, fixed *engine.Route
	anyShard := false
	for _, ts := range sqlparser.GetAllSelects(u) {
		sel, ok := ts.(*sqlparser.Select)
		if !ok {
			return nil, sqlerr.NotSupported("this UNION part on sharded tables ("+short(sqlparser.String(ts))+")", "")
		}
		p, err := b.selectPlan(sel)
		if err != nil {
			return nil, err
		}
		r, ok := p.(*engine.Route)
		switch {
		case ok && r.Op == engine.Fixed && fixed != nil && r.Cluster != fixed.Cluster:
			return nil, sqlerr.NotSupported("a UNION of tables on different clusters", "query them separately")
		case ok && r.Op == engine.Fixed:
			fixed = r
		case ok && r.Op == engine.AnyShard:
			anyShard = true
		case ok && r.Op == engine.ByKey && len(r.Keys) == 1 && r.Query == nil &&
			(keyed == nil || keyed.Vindex == r.Vindex):
			keys = append(keys, r.Keys...)
			keyed = r
		default:
			return nil, sqlerr.NotSupported("a UNION whose SELECTs reach several shards",
				"run each SELECT separately, or give every SELECT a key of the same shard")
		}
	}
	switch {
	case fixed != nil && (anyShard || keyed != nil):
		return nil, sqlerr.NotSupported("a UNION of sharded or reference tables with unsharded ones", "query them separately")
	case keyed != nil:
		return &engine.Route{Op: engine.ByKey, Keyspace: keyed.Keyspace, Vindex: keyed.Vindex, Keys: keys,
			SameShard: true, Read: true, Table: keyed.Table}, nil
	case anyShard:
		return b.anyShard(true, ""), nil
	case fixed != nil:
		return fixed, nil
	}
	return b.fixedDefault(true), nil
}
