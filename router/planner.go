package router

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
	"github.com/courier-proxy/courier/sqlerr"
)

// Planner plans statements against a schema. It is a pure function of
// (statement, arguments, schema): no I/O, safe for concurrent use.
type Planner struct {
	parser *sqlparser.Parser
	schema *Schema
	cache  templates // of text statements, by shape
}

// NewPlanner returns a planner over schema.
func NewPlanner(p *sqlparser.Parser, s *Schema) *Planner { return &Planner{parser: p, schema: s} }

// ErrUnparsed reports a statement the parser does not understand; the
// executor may still send it to the default cluster when no sharded table
// is configured.
var ErrUnparsed = errors.New("statement not understood by the planner")

// Plan plans one statement. args are the values of its ? placeholders,
// in order (nil for text queries).
func (pl *Planner) Plan(sql string, args []vindex.Value) (*Plan, error) {
	return pl.PlanWithIDs(sql, args, nil)
}

// IDSource hands out n consecutive key values from table t's sequence
// and returns the first.
type IDSource func(t *Table, n int) (int64, error)

// PlanWithIDs plans a statement whose INSERT rows without a key take keys
// from ids.
func (pl *Planner) PlanWithIDs(sql string, args []vindex.Value, ids IDSource) (*Plan, error) {
	stmt, err := pl.parser.Parse(sql)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnparsed, err)
	}
	return pl.planStmt(stmt, sql, &binder{args: args, ids: ids})
}

func (pl *Planner) planStmt(stmt sqlparser.Statement, sql string, b *binder) (*Plan, error) {
	args := b.args
	switch s := stmt.(type) {
	case *sqlparser.Select:
		return pl.planSelect(s, sql, b)
	case *sqlparser.Insert:
		return pl.planInsert(s, b)
	case *sqlparser.Update:
		return pl.planUpdateDelete(s, s.TableExprs, s.Where, s.Limit != nil, updatesKey(s, pl.schema), b)
	case *sqlparser.Delete:
		return pl.planUpdateDelete(s, s.TableExprs, s.Where, s.Limit != nil, "", b)
	case sqlparser.DDLStatement:
		for _, t := range s.AffectedTables() {
			if pl.schema.Table(t.Name.String()).Kind != Unsharded {
				return &Plan{Kind: RouteAllShards, Write: true}, nil
			}
		}
	case *sqlparser.Show:
		switch in := s.Internal.(type) {
		case *sqlparser.ShowBasic:
			return pl.metadata(in.Tbl), nil
		case *sqlparser.ShowCreate:
			return pl.metadata(in.Op), nil
		}
	case *sqlparser.ExplainTab:
		return pl.metadata(s.Table), nil
	case *sqlparser.Union:
		return pl.planUnion(s, sql, b)
	case *sqlparser.ExplainStmt:
		// EXPLAIN shows the plan of one shard: the statement's own shard
		// when it has one, else any.
		inner, err := pl.PlanWithIDs(sqlparser.String(s.Statement), args, nil)
		switch {
		case err == nil && inner.Kind == RouteShards && len(inner.Queries) == 1:
			return &Plan{Kind: RouteShards, Queries: []ShardQuery{{Shard: inner.Queries[0].Shard, SQL: sql}}}, nil
		case err == nil && inner.Kind == RouteUnsharded:
			return inner, nil
		}
		if sharded, reference, _ := kinds(pl.tables(s.Statement)); len(sharded)+len(reference) > 0 {
			return &Plan{Kind: RouteAnyShard}, nil
		}
		return &Plan{Kind: RouteUnsharded}, nil
	}
	if sharded, _, _ := kinds(pl.tables(stmt)); len(sharded) > 0 {
		return nil, sqlerr.NotSupported(fmt.Sprintf("this statement on sharded table %s", sharded[0].name),
			"read the rows with a SELECT first")
	}
	return &Plan{Kind: RouteUnsharded}, nil
}

// planUnion runs a UNION where all its SELECTs can run: on one shard
// (each routed there by key, or reading only reference tables), or on the
// default cluster. A UNION across shards would need its duplicates
// removed across shards: refused.
func (pl *Planner) planUnion(u *sqlparser.Union, sql string, b *binder) (*Plan, error) {
	var shard *topo.Shard
	anyShard, unsharded := false, false
	for _, ts := range sqlparser.GetAllSelects(u) {
		sel, ok := ts.(*sqlparser.Select)
		if !ok {
			return nil, sqlerr.NotSupported("this UNION part on sharded tables ("+sqlparser.String(ts)+")", "")
		}
		p, err := pl.planSelect(sel, "", b)
		if err != nil {
			return nil, err
		}
		switch {
		case p.Kind == RouteUnsharded:
			unsharded = true
		case p.Kind == RouteAnyShard:
			anyShard = true
		case p.Kind == RouteShards && len(p.Queries) == 1 && (shard == nil || shard == p.Queries[0].Shard):
			shard = p.Queries[0].Shard
		default:
			return nil, sqlerr.NotSupported("a UNION whose SELECTs reach several shards",
				"run each SELECT separately, or give every SELECT a key of the same shard")
		}
	}
	switch {
	case unsharded && (anyShard || shard != nil):
		return nil, sqlerr.NotSupported("a UNION of sharded or reference tables with unsharded ones", "query them separately")
	case shard != nil:
		return &Plan{Kind: RouteShards, Queries: []ShardQuery{{Shard: shard, SQL: sql}}}, nil
	case anyShard:
		return &Plan{Kind: RouteAnyShard}, nil
	}
	return &Plan{Kind: RouteUnsharded}, nil
}

// metadata routes SHOW and DESCRIBE of table t: a sharded or reference
// table is described by one shard (they all hold the same definition).
func (pl *Planner) metadata(t sqlparser.TableName) *Plan {
	if !t.Name.IsEmpty() && pl.schema.Table(t.Name.String()).Kind != Unsharded {
		return &Plan{Kind: RouteAnyShard}
	}
	return &Plan{Kind: RouteUnsharded}
}

// tableRef is a table named in a statement, with the name it is referred
// to by (its alias, else its name).
type tableRef struct {
	t    *Table
	name string
	db   string // the qualifier it was named with, if any
}

// tables lists every table a statement reads or writes, subqueries
// included.
func (pl *Planner) tables(node sqlparser.SQLNode) []tableRef {
	var out []tableRef
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if at, ok := n.(*sqlparser.AliasedTableExpr); ok {
			if tn, ok := at.Expr.(sqlparser.TableName); ok {
				ref := tableRef{t: pl.schema.Table(tn.Name.String()), name: strings.ToLower(tn.Name.String()), db: tn.Qualifier.String()}
				if !at.As.IsEmpty() {
					ref.name = strings.ToLower(at.As.String())
				}
				out = append(out, ref)
			}
		}
		return true, nil
	}, node)
	return out
}

// kinds splits table references by layout.
func kinds(refs []tableRef) (sharded, reference, unsharded []tableRef) {
	for _, r := range refs {
		switch r.t.Kind {
		case Sharded:
			sharded = append(sharded, r)
		case Reference:
			reference = append(reference, r)
		default:
			unsharded = append(unsharded, r)
		}
	}
	return
}

func (pl *Planner) planSelect(s *sqlparser.Select, sql string, b *binder) (*Plan, error) {
	sharded, reference, unsharded := kinds(pl.tables(s))
	switch {
	case len(sharded) == 0 && len(reference) == 0:
		return &Plan{Kind: RouteUnsharded}, nil
	case len(unsharded) > 0:
		return nil, sqlerr.NotSupported(fmt.Sprintf("a query mixing sharded or reference tables with unsharded table %s", unsharded[0].name),
			"query them separately")
	case len(sharded) == 0:
		return &Plan{Kind: RouteAnyShard}, nil
	}
	if err := pl.checkGroup(s, sharded); err != nil {
		return nil, err
	}
	if err := pl.checkSubqueries(s); err != nil {
		return nil, err
	}
	p, err := pl.routeSelect(s, sharded, b)
	if err != nil || (p.Kind != RouteScatter && len(p.Queries) < 2) {
		return p, err
	}
	if what := pl.outerReference(s); what != "" {
		return nil, sqlerr.NotSupported(what+" in a query that reaches several shards (every shard would return the reference rows)",
			"put the sharded table on the preserved side of the join, or add the sharding key to the WHERE clause")
	}
	// Several shards: they run re-printed text, so keep the client's
	// column names; rewrite a copy for the merge, then route the copy.
	pl.keepColumnNames(s, sql)
	rw := sqlparser.Clone(s)
	m, err := planMerge(rw)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return pl.routeSelect(s, sharded, b)
	}
	if p, err = pl.routeSelect(rw, sharded, b); err != nil {
		return nil, err
	}
	if p.Kind == RouteScatter {
		p.SQL = sqlparser.String(rw)
	}
	p.Merge = m
	return p, nil
}

func (pl *Planner) routeSelect(s *sqlparser.Select, sharded []tableRef, b *binder) (*Plan, error) {
	if s.Where == nil {
		return &Plan{Kind: RouteScatter}, nil
	}
	return pl.routeByKey(s, s.Where.Expr, sharded, b, false)
}

// outerReference names an outer join that preserves reference tables
// while its other side reads a sharded table, or "".
func (pl *Planner) outerReference(s *sqlparser.Select) string {
	found := ""
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		j, ok := n.(*sqlparser.JoinTableExpr)
		if !ok {
			return true, nil
		}
		kept, other := j.LeftExpr, j.RightExpr
		switch j.Join {
		case sqlparser.RightJoinType, sqlparser.NaturalRightJoinType:
			kept, other = other, kept
		case sqlparser.LeftJoinType, sqlparser.NaturalLeftJoinType:
		default:
			return true, nil
		}
		ks, _, _ := kinds(pl.tables(kept))
		os, _, _ := kinds(pl.tables(other))
		if len(ks) == 0 && len(os) > 0 {
			found = fmt.Sprintf("an outer join that keeps every row of %s while reading sharded table %s", sqlparser.String(kept), os[0].name)
		}
		return found == "", nil
	}, s)
	return found
}

// checkSubqueries refuses subqueries and derived tables over sharded
// tables: each shard would answer them from its own rows only.
func (pl *Planner) checkSubqueries(s *sqlparser.Select) error {
	var bad string
	inner := func(n sqlparser.SQLNode) {
		if sharded, _, _ := kinds(pl.tables(n)); len(sharded) > 0 {
			bad = sqlparser.String(n)
		}
	}
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		switch n := n.(type) {
		case *sqlparser.Subquery:
			inner(n)
		case *sqlparser.DerivedTable:
			inner(n)
		}
		return bad == "", nil
	}, s)
	if bad != "" {
		return sqlerr.NotSupported("a subquery or derived table in a query on sharded tables ("+bad+")",
			"run the inner query first and pass its values")
	}
	return nil
}

// checkGroup allows several sharded tables in one query only when they are
// in one key group and joined on their keys, so each shard can answer
// alone.
func (pl *Planner) checkGroup(stmt sqlparser.SQLNode, sharded []tableRef) error {
	if len(sharded) == 1 {
		return nil
	}
	first := sharded[0]
	joined := map[string]bool{first.name: true}
	var preds []sqlparser.Expr
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		switch n := n.(type) {
		case *sqlparser.JoinCondition:
			if n.On != nil {
				preds = append(preds, splitAnd(n.On)...)
			}
		case *sqlparser.Where:
			if n.Type == sqlparser.WhereClause {
				preds = append(preds, splitAnd(n.Expr)...)
			}
		}
		return true, nil
	}, stmt)
	for _, r := range sharded[1:] {
		if r.t.group() != first.t.group() {
			return sqlerr.NotSupported(fmt.Sprintf("a join of %s and %s, which are sharded differently", first.name, r.name), "")
		}
	}
	for changed := true; changed; {
		changed = false
		for _, p := range preds {
			c, ok := p.(*sqlparser.ComparisonExpr)
			if !ok || c.Operator != sqlparser.EqualOp {
				continue
			}
			l, lok := c.Left.(*sqlparser.ColName)
			r, rok := c.Right.(*sqlparser.ColName)
			if !lok || !rok {
				continue
			}
			lt, rt := keyOf(l, sharded), keyOf(r, sharded)
			if lt == "" || rt == "" || joined[lt] == joined[rt] {
				continue
			}
			joined[lt], joined[rt], changed = true, true, true
		}
	}
	for _, r := range sharded {
		if !joined[r.name] {
			return sqlerr.NotSupported(fmt.Sprintf("a join of sharded tables %s and %s not on their sharding key", first.name, r.name),
				fmt.Sprintf("join on %s.%s = %s.%s", first.name, first.t.Key, r.name, r.t.Key))
		}
	}
	return nil
}

// keyOf returns the reference name of the sharded table whose key column c
// is, or "".
func keyOf(c *sqlparser.ColName, sharded []tableRef) string {
	col := c.Name.Lowered()
	q := strings.ToLower(c.Qualifier.Name.String())
	var found string
	for _, r := range sharded {
		if r.t.Key != col || (q != "" && q != r.name) {
			continue
		}
		if found != "" && q == "" {
			return "" // ambiguous without a qualifier
		}
		found = r.name
	}
	return found
}

func splitAnd(e sqlparser.Expr) []sqlparser.Expr {
	if a, ok := e.(*sqlparser.AndExpr); ok {
		return append(splitAnd(a.Left), splitAnd(a.Right)...)
	}
	return []sqlparser.Expr{e}
}

// keyPredicate is a WHERE conjunct that pins the sharding key to values.
type keyPredicate struct {
	values []vindex.Value
	args   []int                     // per value: the ? it is bound to, or -1 for a literal
	in     *sqlparser.ComparisonExpr // an IN list that can be split by shard
}

// findKeyPredicate looks for key = v, key IN (...), or an OR of key
// equalities among the conjuncts of where.
func findKeyPredicate(where sqlparser.Expr, sharded []tableRef, b *binder) (*keyPredicate, bool) {
	for _, c := range splitAnd(where) {
		if kp, ok := keyValues(c, sharded, b); ok {
			return kp, true
		}
	}
	return nil, false
}

func keyValues(e sqlparser.Expr, sharded []tableRef, b *binder) (*keyPredicate, bool) {
	switch e := e.(type) {
	case *sqlparser.ComparisonExpr:
		col, ok := e.Left.(*sqlparser.ColName)
		if !ok || keyOf(col, sharded) == "" {
			return nil, false
		}
		switch e.Operator {
		case sqlparser.EqualOp:
			v, ok := b.value(e.Right)
			return &keyPredicate{values: []vindex.Value{v}, args: []int{argIndex(e.Right)}}, ok
		case sqlparser.InOp:
			tuple, ok := e.Right.(sqlparser.ValTuple)
			if !ok {
				return nil, false
			}
			kp := &keyPredicate{in: e}
			for _, x := range tuple {
				v, ok := b.value(x)
				if !ok {
					return nil, false
				}
				kp.values = append(kp.values, v)
				kp.args = append(kp.args, argIndex(x))
			}
			return kp, true
		}
	case *sqlparser.OrExpr:
		l, lok := keyValues(e.Left, sharded, b)
		r, rok := keyValues(e.Right, sharded, b)
		if lok && rok {
			return &keyPredicate{values: append(l.values, r.values...), args: append(l.args, r.args...)}, true
		}
	}
	return nil, false
}

// routeByKey routes stmt to the shards its key predicate names (splitting
// an IN list per shard), or scatters it when it has none.
func (pl *Planner) routeByKey(stmt sqlparser.Statement, where sqlparser.Expr, sharded []tableRef, b *binder, write bool) (*Plan, error) {
	kp, ok := findKeyPredicate(where, sharded, b)
	if !ok {
		p := &Plan{Kind: RouteScatter, Write: write}
		if b.template == nil {
			p.Lookup = pl.findLookup(where, sharded, b)
		}
		return p, nil
	}
	t := sharded[0].t
	if b.template != nil {
		return b.template.keyedBy(t, kp, write), nil
	}
	byShard := map[*topo.Shard][]int{}
	var order []*topo.Shard
	for i, v := range kp.values {
		id, err := t.Func.Map(t.KeyType, v)
		if errors.Is(err, vindex.ErrNotAKey) {
			continue // no row can match it
		} else if errors.Is(err, vindex.ErrAmbiguous) {
			return &Plan{Kind: RouteScatter, Write: write}, nil
		} else if err != nil {
			return nil, err
		}
		sh := pl.schema.Topo.Shard(id)
		if _, seen := byShard[sh]; !seen {
			order = append(order, sh)
		}
		byShard[sh] = append(byShard[sh], i)
	}
	plan := &Plan{Kind: RouteShards, Write: write}
	if len(order) == 0 { // no value can be a key: any one shard answers (empty)
		order = []*topo.Shard{&pl.schema.Topo.Shards()[0]}
	}
	for _, sh := range order {
		sql := "" // one shard runs the client's text
		switch {
		case kp.in != nil && len(order) > 1:
			sql = withInList(stmt, kp.in, byShard[sh])
		case len(order) > 1 || write:
			sql = sqlparser.String(stmt)
		}
		plan.Queries = append(plan.Queries, ShardQuery{Shard: sh, SQL: sql})
	}
	return plan, nil
}

// withInList formats stmt with the IN list reduced to the values at keep.
func withInList(stmt sqlparser.Statement, in *sqlparser.ComparisonExpr, keep []int) string {
	full := in.Right
	tuple := full.(sqlparser.ValTuple)
	part := make(sqlparser.ValTuple, 0, len(keep))
	for _, i := range keep {
		part = append(part, tuple[i])
	}
	in.Right = part
	defer func() { in.Right = full }()
	return sqlparser.String(stmt)
}

func (pl *Planner) planInsert(s *sqlparser.Insert, b *binder) (*Plan, error) {
	tn, err := s.Table.TableName()
	if err != nil {
		return nil, sqlerr.NotSupported("this INSERT target", "")
	}
	t := pl.schema.Table(tn.Name.String())
	switch t.Kind {
	case Unsharded:
		if sharded, reference, _ := kinds(pl.tables(s)); len(sharded)+len(reference) > 0 {
			return nil, sqlerr.NotSupported("INSERT ... SELECT across clusters", "")
		}
		return &Plan{Kind: RouteUnsharded, Write: true}, nil
	case Reference:
		return &Plan{Kind: RouteAllShards, Write: true}, nil
	}
	rows, ok := s.Rows.(sqlparser.Values)
	if !ok {
		return nil, sqlerr.NotSupported(fmt.Sprintf("INSERT ... SELECT into sharded table %s", t.Name), "insert the rows with VALUES")
	}
	keyAt := slices.IndexFunc(s.Columns, func(c sqlparser.IdentifierCI) bool { return c.Lowered() == t.Key })
	if keyAt < 0 && len(s.Columns) > 0 && t.Sequence != "" {
		s.Columns = append(s.Columns, sqlparser.NewIdentifierCI(t.Key))
		keyAt = len(s.Columns) - 1
		for i := range rows {
			rows[i] = append(rows[i], &sqlparser.NullVal{})
		}
	}
	if keyAt < 0 {
		return nil, sqlerr.NotSupported(fmt.Sprintf("INSERT into sharded table %s without naming its key column %s", t.Name, t.Key),
			"list the columns and give every row its "+t.Key+", or configure a sequence for the table")
	}
	first, err := pl.fillKeys(t, rows, keyAt, b)
	if err != nil {
		return nil, err
	}
	for _, u := range s.OnDup {
		if u.Name.Name.Lowered() == t.Key {
			return nil, sqlerr.NotSupported(fmt.Sprintf("changing the sharding key %s of %s in ON DUPLICATE KEY UPDATE", t.Key, t.Name), "")
		}
	}
	byShard := map[*topo.Shard]sqlparser.Values{}
	var order []*topo.Shard
	for _, row := range rows {
		if keyAt >= len(row) {
			return nil, sqlerr.New(1136, "Column count doesn't match value count at row 1")
		}
		v, ok := b.value(row[keyAt])
		if !ok {
			return nil, sqlerr.NotSupported(fmt.Sprintf("a %s that is not a constant in an INSERT into %s", t.Key, t.Name), "")
		}
		id, err := t.Func.Map(t.KeyType, v)
		if err != nil {
			return nil, sqlerr.New(sqlerr.ErrWrongArguments, "%s value cannot be a sharding key of %s: %v", t.Key, t.Name, err)
		}
		sh := pl.schema.Topo.Shard(id)
		if _, seen := byShard[sh]; !seen {
			order = append(order, sh)
		}
		byShard[sh] = append(byShard[sh], row)
	}
	plan := &Plan{Kind: RouteShards, Write: true, Rewritten: first != 0, InsertID: first}
	if plan.IndexWrites, err = pl.insertEntries(s, t, tn.Qualifier.String(), rows, keyAt, b); err != nil {
		return nil, err
	}
	for _, sh := range order {
		s.Rows = byShard[sh]
		plan.Queries = append(plan.Queries, ShardQuery{Shard: sh, SQL: sqlparser.String(s)})
	}
	s.Rows = rows
	return plan, nil
}

// fillKeys gives rows whose key is NULL keys from the table's sequence;
// the first row's key is set with LAST_INSERT_ID(key), so the shard's OK
// packet and LAST_INSERT_ID() report it as MySQL reports an
// auto-increment id. It returns the first key (0: none taken).
func (pl *Planner) fillKeys(t *Table, rows sqlparser.Values, keyAt int, b *binder) (int64, error) {
	n := 0
	for _, row := range rows {
		if keyAt < len(row) && isNullLiteral(row[keyAt]) {
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	if t.Sequence == "" {
		return 0, sqlerr.NotSupported(fmt.Sprintf("a NULL %s in an INSERT into %s, which has no sequence", t.Key, t.Name),
			"give every row its key, or configure a sequence for the table")
	}
	if b.ids == nil {
		return 0, sqlerr.NotSupported("taking keys from a sequence here", "")
	}
	first, err := b.ids(t, n)
	if err != nil {
		return 0, err
	}
	next := first
	for _, row := range rows {
		if keyAt >= len(row) || !isNullLiteral(row[keyAt]) {
			continue
		}
		lit := sqlparser.NewIntLiteral(strconv.FormatInt(next, 10))
		row[keyAt] = lit
		if next == first {
			row[keyAt] = &sqlparser.FuncExpr{Name: sqlparser.NewIdentifierCI("last_insert_id"), Exprs: []sqlparser.Expr{lit}}
		}
		next++
	}
	return first, nil
}

// updatesKey returns the sharding key an UPDATE assigns, or "".
func updatesKey(s *sqlparser.Update, schema *Schema) string {
	for _, ref := range s.TableExprs {
		at, ok := ref.(*sqlparser.AliasedTableExpr)
		if !ok {
			continue
		}
		tn, ok := at.Expr.(sqlparser.TableName)
		if !ok {
			continue
		}
		t := schema.Table(tn.Name.String())
		for _, u := range s.Exprs {
			if t.Kind == Sharded && u.Name.Name.Lowered() == t.Key {
				return t.Name + "." + t.Key
			}
		}
	}
	return ""
}

func (pl *Planner) planUpdateDelete(stmt sqlparser.Statement, from []sqlparser.TableExpr, where *sqlparser.Where,
	limited bool, keyChange string, b *binder) (*Plan, error) {
	sharded, reference, unsharded := kinds(pl.tables(stmt))
	switch {
	case len(sharded) == 0 && len(reference) == 0:
		return &Plan{Kind: RouteUnsharded, Write: true}, nil
	case len(unsharded) > 0:
		return nil, sqlerr.NotSupported("a write mixing sharded or reference tables with unsharded ones", "")
	case len(from) != 1 || len(sharded)+len(reference) != 1:
		return nil, sqlerr.NotSupported("a multi-table UPDATE or DELETE on sharded or reference tables", "write each table separately")
	case len(reference) == 1:
		return &Plan{Kind: RouteAllShards, Write: true}, nil
	case keyChange != "":
		return nil, sqlerr.NotSupported("changing the sharding key "+keyChange,
			"delete the row and insert it with the new key")
	}
	var cond sqlparser.Expr
	if where != nil {
		cond = where.Expr
	}
	var writes []*IndexWrite
	if u, ok := stmt.(*sqlparser.Update); ok && updatesIndex(u, sharded[0].t) {
		if b.template != nil {
			b.template.generic = true // the entries depend on the values
			return &Plan{Kind: RouteScatter, Write: true}, nil
		}
		var keys []vindex.Value
		if cond != nil {
			if kp, ok := findKeyPredicate(cond, sharded, b); ok {
				keys = kp.values
			}
		}
		var err error
		if writes, err = pl.updateEntries(u, sharded[0].t, sharded[0].db, keys, b); err != nil {
			return nil, err
		}
	}
	if cond == nil {
		return &Plan{Kind: RouteScatter, Write: true}, nil
	}
	p, err := pl.routeByKey(stmt, cond, sharded, b, true)
	if err == nil && p.Kind == RouteScatter && limited {
		return nil, sqlerr.NotSupported("UPDATE or DELETE with LIMIT on every shard", "add the sharding key to the WHERE clause")
	}
	if err == nil {
		p.IndexWrites = writes
	}
	return p, err
}

// updatesIndex reports whether an UPDATE assigns an indexed column of t.
func updatesIndex(u *sqlparser.Update, t *Table) bool {
	for _, e := range u.Exprs {
		if t.Index(e.Name.Name.Lowered()) != nil {
			return true
		}
	}
	return false
}

// binder turns literals and ? placeholders into key values, and hands
// out keys from sequences. While a template is built, placeholders have
// no values yet: the template records which of them name keys.
type binder struct {
	args     []vindex.Value
	ids      IDSource
	template *Template
}

// argIndex is the position of the ? e is, or -1.
func argIndex(e sqlparser.Expr) int {
	if a, ok := e.(*sqlparser.Argument); ok {
		if n, err := strconv.Atoi(strings.TrimPrefix(a.Name, "v")); err == nil && n >= 1 {
			return n - 1
		}
	}
	return -1
}

func (b *binder) value(e sqlparser.Expr) (vindex.Value, bool) {
	switch e := e.(type) {
	case *sqlparser.Literal:
		switch e.Type {
		case sqlparser.IntVal:
			if i, err := strconv.ParseInt(e.Val, 10, 64); err == nil {
				return vindex.IntValue(i), true
			}
			if u, err := strconv.ParseUint(e.Val, 10, 64); err == nil {
				return vindex.UintValue(u), true
			}
		case sqlparser.StrVal:
			return vindex.StrValue(e.Val), true
		}
	case *sqlparser.UnaryExpr:
		if e.Operator == sqlparser.UMinusOp {
			if l, ok := e.Expr.(*sqlparser.Literal); ok && l.Type == sqlparser.IntVal {
				if i, err := strconv.ParseInt("-"+l.Val, 10, 64); err == nil {
					return vindex.IntValue(i), true
				}
			}
		}
	case *sqlparser.FuncExpr: // LAST_INSERT_ID(v) is v
		if e.Name.EqualString("last_insert_id") && len(e.Exprs) == 1 {
			return b.value(e.Exprs[0])
		}
	case *sqlparser.Argument:
		if b.template != nil {
			return vindex.Value{}, true
		}
		n, err := strconv.Atoi(strings.TrimPrefix(e.Name, "v"))
		if err == nil && n >= 1 && n <= len(b.args) {
			return b.args[n-1], true
		}
	}
	return vindex.Value{}, false
}

// ShardNames lists the shards in key order.
func (pl *Planner) ShardNames() []string {
	var out []string
	for _, s := range pl.schema.Topo.Shards() {
		out = append(out, s.Name)
	}
	return out
}

// FirstShard names the shard that reads of reference tables go to.
func (pl *Planner) FirstShard() string { return pl.schema.Topo.Shards()[0].Name }
