package router

import (
	"fmt"
	"strconv"
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/sqlerr"
)

// Merge says how the rows of a SELECT that reaches several shards become
// the one result a single server would return. The shards run a rewritten
// statement: extra trailing columns the merge needs (ORDER BY and GROUP BY
// expressions not selected, the SUM and COUNT behind an AVG), LIMIT raised
// to offset+limit, HAVING, ORDER BY and LIMIT removed when rows are
// aggregated.
type Merge struct {
	// Hidden is how many trailing columns of each shard row exist only
	// for the merge; the client never sees them.
	Hidden int
	// Aggregate: rows are grouped by GroupBy (one group when it is
	// empty) and each column folded by Folds[column].
	Aggregate bool
	GroupBy   []Col
	Folds     []Fold
	// Having filters aggregated rows (nil: no filter).
	Having Expr
	// Distinct drops repeated rows (over the visible columns).
	Distinct bool
	// OrderBy sorts the result. Without aggregation each shard returns
	// its rows already sorted and they are merged as they stream.
	OrderBy []SortKey
	// Limit and Offset apply to the merged result; Limit < 0 means none.
	Limit, Offset int64
}

// Col is a column of a shard row: its position when >= 0, or hidden
// column k (counted from the first hidden column) as -(k+1), since with
// SELECT * the visible column count is known only from the result.
type Col int

// Index is the column's position in a row of total columns.
func (c Col) Index(total, hidden int) int {
	if c >= 0 {
		return int(c)
	}
	return total - hidden + int(-c-1)
}

// SortKey is one ORDER BY term.
type SortKey struct {
	Col  Col
	Desc bool
}

// FoldKind is how a column's values from several rows become one.
type FoldKind uint8

// Fold kinds.
const (
	FoldAny   FoldKind = iota // a value from one of the rows (a group column, or an ungrouped one as MariaDB allows)
	FoldCount                 // sum of the shards' counts
	FoldSum
	FoldMin
	FoldMax
	FoldAvg // Sum / Count, from the hidden SUM and COUNT columns
)

var foldNames = [...]string{"any", "count", "sum", "min", "max", "avg"}

func (k FoldKind) String() string { return foldNames[k] }

// Fold folds one column of an aggregated result.
type Fold struct {
	Kind       FoldKind
	Sum, Count Col // FoldAvg
}

// Expr is a HAVING condition compiled for evaluation on merged rows.
type Expr interface{ expr() }

// Expression nodes.
type (
	// ColExpr is the value of a merged column.
	ColExpr struct{ Col Col }
	// LitExpr is a constant: a number, a string or NULL.
	LitExpr struct {
		Val       string
		Num, Null bool
	}
	// CmpExpr compares: = <> < <= > >= <=>.
	CmpExpr struct {
		Op   string
		L, R Expr
	}
	// LogicExpr is AND, OR, XOR (L and R) or NOT (L only).
	LogicExpr struct {
		Op   string
		L, R Expr
	}
	// ArithExpr is + - * /.
	ArithExpr struct {
		Op   string
		L, R Expr
	}
	// IsNullExpr is IS [NOT] NULL.
	IsNullExpr struct {
		E   Expr
		Not bool
	}
)

func (ColExpr) expr()    {}
func (LitExpr) expr()    {}
func (CmpExpr) expr()    {}
func (LogicExpr) expr()  {}
func (ArithExpr) expr()  {}
func (IsNullExpr) expr() {}

func (m *Merge) String() string {
	var parts []string
	if m.Aggregate {
		parts = append(parts, fmt.Sprintf("group by %v folds %v", m.GroupBy, m.Folds))
	}
	if m.Having != nil {
		parts = append(parts, "having")
	}
	if m.Distinct {
		parts = append(parts, "distinct")
	}
	if len(m.OrderBy) > 0 {
		parts = append(parts, fmt.Sprintf("order by %v", m.OrderBy))
	}
	if m.Limit >= 0 {
		parts = append(parts, fmt.Sprintf("limit %d,%d", m.Offset, m.Limit))
	}
	if m.Hidden > 0 {
		parts = append(parts, fmt.Sprintf("hidden %d", m.Hidden))
	}
	return "merge: " + strings.Join(parts, ", ")
}

// mergeRewriter turns a multi-shard SELECT into the statement each shard
// runs and the merge of their rows.
type mergeRewriter struct {
	sel     *sqlparser.Select
	m       *Merge
	star    bool
	visible int
}

// planMerge rewrites sel (a copy the caller owns) for the shards and
// returns the merge; nil when the shards' rows need only be appended.
func planMerge(sel *sqlparser.Select) (*Merge, error) {
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
	r := &mergeRewriter{sel: sel, m: &Merge{Limit: -1}}
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
	if !m.Aggregate && !m.Distinct && len(m.OrderBy) == 0 && m.Limit < 0 && m.Hidden == 0 {
		return nil, nil
	}
	return m, nil
}

// rows plans a SELECT whose rows are not aggregated: each shard sorts and
// limits its own rows; the merge interleaves them.
func (r *mergeRewriter) rows() error {
	sel, m := r.sel, r.m
	m.Distinct = sel.Distinct
	for _, o := range sel.OrderBy {
		if isNullLiteral(o.Expr) {
			continue
		}
		c, err := r.resolve(o.Expr, !sel.Distinct)
		if err != nil {
			return err
		}
		m.OrderBy = append(m.OrderBy, SortKey{Col: c, Desc: o.Direction == sqlparser.DescOrder})
	}
	if err := r.limit(); err != nil {
		return err
	}
	if m.Limit >= 0 {
		sel.Limit = &sqlparser.Limit{Rowcount: sqlparser.NewIntLiteral(strconv.FormatInt(m.Offset+m.Limit, 10))}
	}
	return nil
}

// aggregate plans a grouped or aggregated SELECT: the shards group their
// own rows; the merge folds the partial groups, then applies HAVING,
// DISTINCT, ORDER BY and LIMIT.
func (r *mergeRewriter) aggregate(grouped bool) error {
	sel, m := r.sel, r.m
	if r.star {
		return sqlerr.NotSupported("SELECT * with GROUP BY or an aggregate in a query that reaches several shards", "name the columns")
	}
	m.Aggregate = true
	m.Folds = make([]Fold, r.visible) // hidden columns append theirs
	for i, se := range sel.SelectExprs.Exprs[:r.visible] {
		f, err := r.fold(se.(*sqlparser.AliasedExpr).Expr)
		if err != nil {
			return err
		}
		m.Folds[i] = f
	}
	if grouped {
		for _, e := range sel.GroupBy.Exprs {
			c, err := r.resolve(e, true)
			if err != nil {
				return err
			}
			m.GroupBy = append(m.GroupBy, c)
		}
	}
	if sel.Having != nil {
		h, err := r.compile(sel.Having.Expr)
		if err != nil {
			return err
		}
		m.Having = h
		sel.Having = nil
	}
	explicit := len(sel.OrderBy) > 0
	for _, o := range sel.OrderBy {
		if isNullLiteral(o.Expr) {
			continue
		}
		c, err := r.resolve(o.Expr, true)
		if err != nil {
			return err
		}
		m.OrderBy = append(m.OrderBy, SortKey{Col: c, Desc: o.Direction == sqlparser.DescOrder})
	}
	if !explicit { // MariaDB sorts grouped rows by the GROUP BY columns
		for _, c := range m.GroupBy {
			m.OrderBy = append(m.OrderBy, SortKey{Col: c})
		}
	}
	if err := r.limit(); err != nil {
		return err
	}
	m.Distinct = sel.Distinct && grouped
	sel.Distinct = false
	sel.OrderBy, sel.Limit = nil, nil
	return nil
}

// fold says how an aggregated SELECT expression merges.
func (r *mergeRewriter) fold(e sqlparser.Expr) (Fold, error) {
	agg, ok := e.(sqlparser.AggrFunc)
	if !ok {
		if containsAggr(e) {
			return Fold{}, sqlerr.NotSupported(fmt.Sprintf("an expression over aggregate functions (%s) in a query that reaches several shards", sqlparser.String(e)),
				"select the aggregates themselves and compute the expression in the application")
		}
		return Fold{Kind: FoldAny}, nil
	}
	name := sqlparser.String(e)
	switch a := agg.(type) {
	case *sqlparser.CountStar:
		return Fold{Kind: FoldCount}, nil
	case *sqlparser.Count:
		if !a.Distinct {
			return Fold{Kind: FoldCount}, nil
		}
	case *sqlparser.Sum:
		if !a.Distinct {
			return Fold{Kind: FoldSum}, nil
		}
	case *sqlparser.Min:
		return Fold{Kind: FoldMin}, nil
	case *sqlparser.Max:
		return Fold{Kind: FoldMax}, nil
	case *sqlparser.Avg:
		if !a.Distinct {
			sum := r.hide(&sqlparser.Sum{Arg: a.Arg}, Fold{Kind: FoldSum})
			count := r.hide(&sqlparser.Count{Args: []sqlparser.Expr{a.Arg}}, Fold{Kind: FoldCount})
			return Fold{Kind: FoldAvg, Sum: sum, Count: count}, nil
		}
	}
	return Fold{}, sqlerr.NotSupported(fmt.Sprintf("%s in a query that reaches several shards (it cannot be merged from per-shard results)", name),
		"add the sharding key to the WHERE clause, or compute it in the application")
}

// resolve finds the column that holds e: a position (ORDER BY 2), an
// alias, a selected expression, or else a new hidden column (when
// allowed).
func (r *mergeRewriter) resolve(e sqlparser.Expr, hide bool) (Col, error) {
	exprs := r.sel.SelectExprs.Exprs
	if lit, ok := e.(*sqlparser.Literal); ok && lit.Type == sqlparser.IntVal {
		n, err := strconv.Atoi(lit.Val)
		switch {
		case r.star:
			return 0, sqlerr.NotSupported("ORDER BY or GROUP BY a column position with SELECT * in a query that reaches several shards", "name the column")
		case err != nil || n < 1 || n > r.visible:
			return 0, sqlerr.New(1054, "Unknown column '%s' in 'order clause'", lit.Val)
		}
		return Col(n - 1), nil
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
		return 0, sqlerr.NotSupported(fmt.Sprintf("ORDER BY %s, which is not selected, with SELECT DISTINCT in a query that reaches several shards", text),
			"add it to the select list")
	}
	f := Fold{Kind: FoldAny}
	if r.m.Aggregate {
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
func (r *mergeRewriter) col(i int) Col {
	if i < r.visible || !r.star {
		return Col(i)
	}
	return Col(-(i - r.visible + 1))
}

// hide appends e as a hidden column and returns it.
func (r *mergeRewriter) hide(e sqlparser.Expr, f Fold) Col {
	r.sel.SelectExprs.Exprs = append(r.sel.SelectExprs.Exprs, &sqlparser.AliasedExpr{Expr: e})
	r.m.Hidden++
	if r.m.Aggregate {
		r.m.Folds = append(r.m.Folds, f)
	}
	return r.col(len(r.sel.SelectExprs.Exprs) - 1)
}

// limit reads LIMIT [offset,] count, which must be constants.
func (r *mergeRewriter) limit() error {
	l := r.sel.Limit
	if l == nil {
		return nil
	}
	num := func(e sqlparser.Expr) (int64, error) {
		if lit, ok := e.(*sqlparser.Literal); ok && lit.Type == sqlparser.IntVal {
			if n, err := strconv.ParseInt(lit.Val, 10, 64); err == nil {
				return n, nil
			}
		}
		return 0, sqlerr.NotSupported("a LIMIT that is not a number in a query that reaches several shards", "")
	}
	var err error
	if l.Rowcount != nil {
		if r.m.Limit, err = num(l.Rowcount); err != nil {
			return err
		}
	}
	if l.Offset != nil {
		if r.m.Offset, err = num(l.Offset); err != nil {
			return err
		}
		if r.m.Limit < 0 {
			r.m.Limit = 1<<62 - r.m.Offset
		}
	}
	return nil
}

// compile turns a HAVING condition into an Expr over merged columns.
func (r *mergeRewriter) compile(e sqlparser.Expr) (Expr, error) {
	bin := func(l, rt sqlparser.Expr) (Expr, Expr, error) {
		a, err := r.compile(l)
		if err != nil {
			return nil, nil, err
		}
		b, err := r.compile(rt)
		return a, b, err
	}
	switch e := e.(type) {
	case *sqlparser.AndExpr:
		l, rt, err := bin(e.Left, e.Right)
		return LogicExpr{Op: "and", L: l, R: rt}, err
	case *sqlparser.OrExpr:
		l, rt, err := bin(e.Left, e.Right)
		return LogicExpr{Op: "or", L: l, R: rt}, err
	case *sqlparser.XorExpr:
		l, rt, err := bin(e.Left, e.Right)
		return LogicExpr{Op: "xor", L: l, R: rt}, err
	case *sqlparser.NotExpr:
		l, err := r.compile(e.Expr)
		return LogicExpr{Op: "not", L: l}, err
	case *sqlparser.ComparisonExpr:
		switch e.Operator {
		case sqlparser.EqualOp, sqlparser.NotEqualOp, sqlparser.LessThanOp, sqlparser.LessEqualOp,
			sqlparser.GreaterThanOp, sqlparser.GreaterEqualOp, sqlparser.NullSafeEqualOp:
			l, rt, err := bin(e.Left, e.Right)
			return CmpExpr{Op: e.Operator.ToString(), L: l, R: rt}, err
		}
	case *sqlparser.BetweenExpr:
		if !e.IsBetween {
			break
		}
		x, err := r.compile(e.Left)
		if err != nil {
			return nil, err
		}
		lo, hi, err := bin(e.From, e.To)
		return LogicExpr{Op: "and", L: CmpExpr{Op: ">=", L: x, R: lo}, R: CmpExpr{Op: "<=", L: x, R: hi}}, err
	case *sqlparser.BinaryExpr:
		switch e.Operator {
		case sqlparser.PlusOp, sqlparser.MinusOp, sqlparser.MultOp, sqlparser.DivOp:
			l, rt, err := bin(e.Left, e.Right)
			return ArithExpr{Op: e.Operator.ToString(), L: l, R: rt}, err
		}
	case *sqlparser.IsExpr:
		switch e.Right {
		case sqlparser.IsNullOp, sqlparser.IsNotNullOp:
			x, err := r.compile(e.Left)
			return IsNullExpr{E: x, Not: e.Right == sqlparser.IsNotNullOp}, err
		}
	case *sqlparser.Literal:
		switch e.Type {
		case sqlparser.IntVal, sqlparser.DecimalVal, sqlparser.FloatVal:
			return LitExpr{Val: e.Val, Num: true}, nil
		case sqlparser.StrVal:
			return LitExpr{Val: e.Val}, nil
		}
	case *sqlparser.NullVal:
		return LitExpr{Null: true}, nil
	case *sqlparser.UnaryExpr:
		if l, ok := e.Expr.(*sqlparser.Literal); ok && e.Operator == sqlparser.UMinusOp && l.Type != sqlparser.StrVal {
			return LitExpr{Val: "-" + l.Val, Num: true}, nil
		}
	case *sqlparser.ColName, sqlparser.AggrFunc:
		c, err := r.resolve(e, true)
		return ColExpr{Col: c}, err
	}
	return nil, sqlerr.NotSupported(fmt.Sprintf("HAVING %s in a query that reaches several shards", sqlparser.String(e)),
		"use comparisons of selected columns and aggregates with constants")
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
