package router

import (
	"fmt"
	"strconv"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// merge is how the rows of a SELECT that reaches several shards become
// the one result a single server would return. The shards run a
// rewritten statement: extra trailing columns the merge needs (ORDER BY
// and GROUP BY expressions not selected, the SUM and COUNT behind an AVG,
// the arguments of distinct aggregates), LIMIT raised to offset+limit,
// HAVING, ORDER BY and LIMIT removed when rows are aggregated.
type merge struct {
	hidden    int
	aggregate bool
	groupBy   []engine.Col
	folds     []engine.Fold
	having    engine.Expr
	distinct  bool
	orderBy   []engine.SortKey
	limited   bool
	count     engine.Count
	offset    engine.Count
	upper     int // the shards' LIMIT slot, -1 none
	// prefix goes before the shards' statement: GROUP_CONCAT's partial
	// concatenations must not be cut by the shards' own limit (the merge
	// cuts the whole one, as one server would).
	prefix string
}

// wrap puts the merge's primitives above leaf (the route to the shards).
func (m *merge) wrap(leaf engine.Primitive, cat *engine.Catalog) engine.Primitive {
	p := leaf
	switch {
	case m.aggregate:
		p = &engine.Aggregate{Input: p, GroupBy: m.groupBy, Folds: m.folds, Hidden: m.hidden, Cat: cat}
		if m.having != nil {
			p = &engine.Filter{Input: p, Cond: m.having, Hidden: m.hidden, Cat: cat}
		}
		if len(m.orderBy) > 0 {
			p = &engine.Sort{Input: p, Keys: m.orderBy, Hidden: m.hidden, Cat: cat}
		}
	case len(m.orderBy) > 0:
		p = &engine.MergeSort{Input: p, Keys: m.orderBy, Hidden: m.hidden, Cat: cat}
	}
	if m.distinct {
		p = &engine.Distinct{Input: p, Hidden: m.hidden, Cat: cat}
	}
	if m.limited {
		p = &engine.Limit{Input: p, Count: m.count, Offset: m.offset, Upper: m.upper}
	}
	if m.hidden > 0 {
		p = &engine.Trim{Input: p, Hidden: m.hidden}
	}
	return p
}

// mergeRewriter turns a multi-shard SELECT into the statement each shard
// runs and the merge of their rows.
type mergeRewriter struct {
	b       *build
	sel     *sqlparser.Select
	m       *merge
	star    bool
	visible int
}

// planMerge rewrites sel (a copy the caller owns) for the shards and
// returns the merge; nil when the shards' rows need only be appended.
func (b *build) planMerge(sel *sqlparser.Select) (*merge, error) {
	switch {
	case sel.Into != nil:
		return nil, sqlerr.NotSupported("SELECT ... INTO in a query that reaches several shards", "")
	case sel.SQLCalcFoundRows:
		return nil, sqlerr.NotSupported("SQL_CALC_FOUND_ROWS in a query that reaches several shards", "count with a separate SELECT COUNT(*)")
	case sel.GroupBy != nil && sel.GroupBy.WithRollup:
		return nil, sqlerr.NotSupported("GROUP BY ... WITH ROLLUP in a query that reaches several shards", "")
	case len(sel.Windows) > 0 || hasWindow(sel):
		return nil, sqlerr.NotSupported("a window function in a query that reaches several shards", "")
	}
	r := &mergeRewriter{b: b, sel: sel, m: &merge{upper: -1}}
	for _, se := range sel.SelectExprs.Exprs {
		switch se.(type) {
		case *sqlparser.StarExpr:
			r.star = true
		case *sqlparser.Nextval:
			return nil, sqlerr.NotSupported("NEXT VALUE in a query that reaches several shards", "")
		}
	}
	r.visible = len(sel.SelectExprs.Exprs)
	grouped := sel.GroupBy != nil && len(sel.GroupBy.Exprs) > 0
	aggregated := grouped || sel.Having != nil
	for _, se := range sel.SelectExprs.Exprs {
		if ae, ok := se.(*sqlparser.AliasedExpr); ok && containsAggr(ae.Expr) {
			aggregated = true
		}
	}
	var err error
	if aggregated {
		err = r.aggregate(grouped)
	} else {
		err = r.rows()
	}
	if err != nil {
		return nil, err
	}
	m := r.m
	if !m.aggregate && !m.distinct && len(m.orderBy) == 0 && !m.limited && m.hidden == 0 {
		return nil, nil
	}
	return m, nil
}

// rows plans a SELECT whose rows are not aggregated: each shard sorts and
// limits its own rows; the merge interleaves them.
func (r *mergeRewriter) rows() error {
	sel, m := r.sel, r.m
	m.distinct = sel.Distinct
	for _, o := range sel.OrderBy {
		if isNullLiteral(o.Expr) {
			continue
		}
		c, err := r.resolve(o.Expr, !sel.Distinct)
		if err != nil {
			return err
		}
		m.orderBy = append(m.orderBy, engine.SortKey{Col: c, Desc: o.Direction == sqlparser.DescOrder})
	}
	if err := r.limit(); err != nil {
		return err
	}
	if m.limited {
		m.upper = r.b.newSlot()
		sel.Limit = &sqlparser.Limit{Rowcount: argExpr(m.upper)}
	}
	return nil
}

// aggregate plans a grouped or aggregated SELECT: the shards group their
// own rows; the merge folds the partial groups, then applies HAVING,
// ORDER BY, DISTINCT and LIMIT.
func (r *mergeRewriter) aggregate(grouped bool) error {
	sel, m := r.sel, r.m
	if r.star {
		return sqlerr.NotSupported("SELECT * with GROUP BY or an aggregate in a query that reaches several shards", "name the columns")
	}
	m.aggregate = true
	m.folds = make([]engine.Fold, r.visible) // hidden columns append theirs
	if grouped {
		for _, e := range sel.GroupBy.Exprs {
			c, err := r.resolve(e, true)
			if err != nil {
				return err
			}
			m.groupBy = append(m.groupBy, c)
		}
	}
	for i, se := range sel.SelectExprs.Exprs[:r.visible] {
		f, err := r.fold(se.(*sqlparser.AliasedExpr).Expr)
		if err != nil {
			return err
		}
		m.folds[i] = f
	}
	if sel.Having != nil {
		h, err := r.compile(sel.Having.Expr)
		if err != nil {
			return err
		}
		m.having = h
		sel.Having = nil
	}
	for _, o := range sel.OrderBy {
		if isNullLiteral(o.Expr) {
			continue
		}
		c, err := r.resolve(o.Expr, true)
		if err != nil {
			return err
		}
		m.orderBy = append(m.orderBy, engine.SortKey{Col: c, Desc: o.Direction == sqlparser.DescOrder})
	}
	if len(sel.OrderBy) == 0 { // MariaDB sorts grouped rows by the GROUP BY columns
		for _, c := range m.groupBy {
			m.orderBy = append(m.orderBy, engine.SortKey{Col: c})
		}
	}
	if err := r.limit(); err != nil {
		return err
	}
	m.distinct = sel.Distinct && grouped
	sel.Distinct = false
	sel.OrderBy, sel.Limit = nil, nil
	return nil
}

// fold says how an aggregated SELECT expression merges.
func (r *mergeRewriter) fold(e sqlparser.Expr) (engine.Fold, error) {
	agg, ok := e.(sqlparser.AggrFunc)
	if !ok {
		if containsAggr(e) {
			return engine.Fold{}, sqlerr.NotSupported(fmt.Sprintf("an expression over aggregate functions (%s) in a query that reaches several shards", short(sqlparser.String(e))),
				"select the aggregates themselves and compute the expression in the application")
		}
		return engine.Fold{Kind: engine.FoldAny}, nil
	}
	switch a := agg.(type) {
	case *sqlparser.CountStar:
		return engine.Fold{Kind: engine.FoldCount}, nil
	case *sqlparser.Count:
		if !a.Distinct {
			return engine.Fold{Kind: engine.FoldCount}, nil
		}
		return engine.Fold{Kind: engine.FoldCountDistinct, Args: r.groupOn(a.Args...)}, nil
	case *sqlparser.Sum:
		if !a.Distinct {
			return engine.Fold{Kind: engine.FoldSum}, nil
		}
		return engine.Fold{Kind: engine.FoldSumDistinct, Args: r.groupOn(a.Arg)}, nil
	case *sqlparser.Min:
		return engine.Fold{Kind: engine.FoldMin}, nil
	case *sqlparser.Max:
		return engine.Fold{Kind: engine.FoldMax}, nil
	case *sqlparser.Avg:
		if a.Distinct {
			return engine.Fold{Kind: engine.FoldAvgDistinct, Args: r.groupOn(a.Arg)}, nil
		}
		sum := r.hide(&sqlparser.Sum{Arg: a.Arg}, engine.Fold{Kind: engine.FoldSum})
		count := r.hide(&sqlparser.Count{Args: []sqlparser.Expr{a.Arg}}, engine.Fold{Kind: engine.FoldCount})
		return engine.Fold{Kind: engine.FoldAvg, Sum: sum, Count: count}, nil
	case *sqlparser.GroupConcatExpr:
		return r.groupConcat(a)
	}
	return engine.Fold{}, sqlerr.NotSupported(fmt.Sprintf("%s in a query that reaches several shards (it cannot be merged from per-shard results)", short(sqlparser.String(e))),
		"add the sharding key to the WHERE clause, or compute it in the application")
}

// groupConcat plans GROUP_CONCAT: the shards group by its arguments and
// ORDER BY expressions too, so each shard row carries the concatenation
// of one such sub-group; the merge sorts and joins them.
func (r *mergeRewriter) groupConcat(a *sqlparser.GroupConcatExpr) (engine.Fold, error) {
	if a.Limit != nil {
		return engine.Fold{}, sqlerr.NotSupported("GROUP_CONCAT ... LIMIT in a query that reaches several shards", "")
	}
	f := engine.Fold{Kind: engine.FoldGroupConcat, Distinct: a.Distinct, Separator: unquote(a.Separator)}
	if a.Separator == "" {
		f.Separator = ","
	}
	f.Args = r.groupOn(a.Exprs...)
	r.m.prefix = "SET STATEMENT group_concat_max_len = 1073741824 FOR "
	for _, o := range a.OrderBy {
		if lit, ok := o.Expr.(*sqlparser.Literal); ok && lit.Type == sqlparser.IntVal {
			return engine.Fold{}, sqlerr.NotSupported("GROUP_CONCAT ... ORDER BY a position in a query that reaches several shards", "order by the expression")
		}
		if containsAggr(o.Expr) {
			return engine.Fold{}, sqlerr.NotSupported("GROUP_CONCAT ... ORDER BY an aggregate", "")
		}
		f.Order = append(f.Order, engine.SortKey{Col: r.groupOn(o.Expr)[0], Desc: o.Direction == sqlparser.DescOrder})
	}
	return f, nil
}

// groupOn adds each expression to the shards' GROUP BY (the user's
// groups are folded from these finer ones) and returns the columns
// holding their values: a hidden column, or one selected already that is
// not an aggregate.
func (r *mergeRewriter) groupOn(exprs ...sqlparser.Expr) []engine.Col {
	sel := r.sel
	if sel.GroupBy == nil {
		sel.GroupBy = &sqlparser.GroupBy{}
	}
	cols := make([]engine.Col, len(exprs))
	for i, e := range exprs {
		text := sqlparser.String(e)
		found := -1
		for j, se := range sel.SelectExprs.Exprs {
			if ae, ok := se.(*sqlparser.AliasedExpr); ok && !containsAggr(ae.Expr) && sqlparser.String(ae.Expr) == text {
				found = j
				break
			}
		}
		if found >= 0 {
			cols[i] = r.col(found)
		} else {
			cols[i] = r.hide(sqlparser.Clone(e), engine.Fold{Kind: engine.FoldAny})
		}
		grouped := false
		for _, g := range sel.GroupBy.Exprs {
			grouped = grouped || sqlparser.String(g) == text
		}
		if !grouped {
			sel.GroupBy.Exprs = append(sel.GroupBy.Exprs, sqlparser.Clone(e))
		}
	}
	return cols
}

// unquote reads a string literal as the parser kept it ('x', with its
// quotes and escapes).
func unquote(lit string) string {
	if len(lit) < 2 || (lit[0] != '\'' && lit[0] != '"') {
		return lit
	}
	p, err := sqlparser.New(sqlparser.Options{})
	if err != nil {
		return lit
	}
	stmt, err := p.Parse("select " + lit)
	if err != nil {
		return lit
	}
	if sel, ok := stmt.(*sqlparser.Select); ok && len(sel.SelectExprs.Exprs) == 1 {
		if ae, ok := sel.SelectExprs.Exprs[0].(*sqlparser.AliasedExpr); ok {
			if l, ok := ae.Expr.(*sqlparser.Literal); ok && l.Type == sqlparser.StrVal {
				return l.Val
			}
		}
	}
	return lit
}

// resolve finds the column that holds e: a position (ORDER BY 2), an
// alias, a selected expression, or else a new hidden column (when
// allowed).
func (r *mergeRewriter) resolve(e sqlparser.Expr, hide bool) (engine.Col, error) {
	exprs := r.sel.SelectExprs.Exprs
	if lit, ok := e.(*sqlparser.Literal); ok && lit.Type == sqlparser.IntVal {
		n, err := strconv.Atoi(lit.Val)
		switch {
		case r.star:
			return 0, sqlerr.NotSupported("ORDER BY or GROUP BY a column position with SELECT * in a query that reaches several shards", "name the column")
		case err != nil || n < 1 || n > r.visible:
			return 0, sqlerr.New(1054, "Unknown column '%s' in 'order clause'", lit.Val)
		}
		return engine.Col(n - 1), nil
	}
	if c, ok := e.(*sqlparser.ColName); ok && c.Qualifier.IsEmpty() {
		for i, se := range exprs[:r.visible] {
			if ae, ok := se.(*sqlparser.AliasedExpr); ok && !ae.As.IsEmpty() && ae.As.EqualString(c.Name.String()) {
				return r.col(i), nil
			}
		}
	}
	text := sqlparser.String(e)
	for i, se := range exprs {
		if ae, ok := se.(*sqlparser.AliasedExpr); ok && sqlparser.String(ae.Expr) == text {
			return r.col(i), nil
		}
	}
	if !hide {
		return 0, sqlerr.NotSupported(fmt.Sprintf("ORDER BY %s, which is not selected, with SELECT DISTINCT in a query that reaches several shards", short(text)),
			"add it to the select list")
	}
	f := engine.Fold{Kind: engine.FoldAny}
	if r.m.aggregate {
		if containsAggr(e) {
			var err error
			if f, err = r.fold(e); err != nil {
				return 0, err
			}
		}
	} else if containsAggr(e) {
		return 0, sqlerr.NotSupported("an aggregate function in ORDER BY of a query that is not aggregated", "")
	}
	return r.hide(sqlparser.Clone(e), f), nil
}

// col is the Col of select expression i.
func (r *mergeRewriter) col(i int) engine.Col {
	if i < r.visible || !r.star {
		return engine.Col(i)
	}
	return engine.Col(-(i - r.visible + 1))
}

// hide appends e as a hidden column and returns it.
func (r *mergeRewriter) hide(e sqlparser.Expr, f engine.Fold) engine.Col {
	r.sel.SelectExprs.Exprs = append(r.sel.SelectExprs.Exprs, &sqlparser.AliasedExpr{Expr: e})
	r.m.hidden++
	if r.m.aggregate {
		r.m.folds = append(r.m.folds, f)
	}
	return r.col(len(r.sel.SelectExprs.Exprs) - 1)
}

// limit reads LIMIT [offset,] count: constants or placeholders.
func (r *mergeRewriter) limit() error {
	l := r.sel.Limit
	if l == nil {
		return nil
	}
	r.m.limited = true
	r.m.count, r.m.offset = engine.Const(1<<62), engine.Const(0)
	var err error
	if l.Rowcount != nil {
		if r.m.count, err = r.countOf(l.Rowcount); err != nil {
			return err
		}
	}
	if l.Offset != nil {
		if r.m.offset, err = r.countOf(l.Offset); err != nil {
			return err
		}
	}
	return nil
}

// countOf reads one LIMIT value.
func (r *mergeRewriter) countOf(e sqlparser.Expr) (engine.Count, error) {
	switch e := e.(type) {
	case *sqlparser.Argument:
		return engine.Count{Slot: argSlot(e)}, nil
	case *sqlparser.Literal:
		if e.Type == sqlparser.IntVal {
			if n, err := strconv.ParseInt(e.Val, 10, 64); err == nil {
				return engine.Const(n), nil
			}
		}
	}
	return engine.Count{}, sqlerr.NotSupported("a LIMIT that is not a number in a query that reaches several shards", "")
}

func containsAggr(e sqlparser.SQLNode) bool {
	found := false
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		switch n.(type) {
		case sqlparser.AggrFunc:
			found = true
			return false, nil
		case *sqlparser.Subquery:
			return false, nil
		}
		return true, nil
	}, e)
	return found
}

func hasWindow(sel *sqlparser.Select) bool {
	found := false
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if _, ok := n.(*sqlparser.OverClause); ok {
			found = true
		}
		return !found, nil
	}, sel.SelectExprs, sel.OrderBy)
	return found
}

func isNullLiteral(e sqlparser.Expr) bool {
	_, ok := e.(*sqlparser.NullVal)
	return ok
}
