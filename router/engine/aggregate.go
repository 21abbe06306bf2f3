package engine

import (
	"context"
	"fmt"
	"strings"
)

// Aggregate folds the shards' partial groups into whole ones: rows with
// equal GroupBy columns (compared as their types and collations compare;
// one group when GroupBy is empty) become one row, each column folded by
// its Fold. Groups are written in the order they were first seen; a Sort
// above orders them. An ungrouped aggregate over no rows at all is one
// row (COUNT 0, everything else NULL), as MariaDB answers it.
//
// What the shards' statement must return for each fold kind (the
// planner's contract). Rows may come from any number of shards, in any
// order; each is the shard's part of one group:
//
//   - FoldAny: the column itself (a GROUP BY column, or a column MariaDB
//     lets an aggregate query select ungrouped).
//   - FoldCount, FoldSum, FoldMin, FoldMax: the shard's COUNT(x), SUM(x),
//     MIN(x), MAX(x).
//   - FoldAvg: the shard's AVG(x) (only its definition is used: the
//     result's type and decimals), Sum and Count the hidden columns SUM(x)
//     and COUNT(x), folded as FoldSum and FoldCount.
//   - FoldCountDistinct: the shard's GROUP BY extended by the arguments;
//     the column COUNT(DISTINCT args) (for its definition), Args one hidden
//     column per argument holding it (a FLOAT one as CAST(x AS DOUBLE):
//     FLOAT values print with six digits, too few to tell them apart).
//   - FoldSumDistinct, FoldAvgDistinct: the GROUP BY extended by the
//     argument; the column SUM(DISTINCT x) or AVG(DISTINCT x), which is the
//     row's x as the result's type (MariaDB's own conversion, summed; the
//     definition gives the decimals), Args[0] a hidden column holding x,
//     which tells the values apart.
//   - FoldGroupConcat: the GROUP BY extended by the arguments and the ORDER
//     BY expressions; the column the shard's GROUP_CONCAT with the
//     client's arguments, ORDER BY and SEPARATOR (one sub-group's partial
//     concatenation), Order keys over hidden columns holding the ORDER BY
//     expressions, and with Distinct, Args hidden columns holding the
//     arguments (FLOAT ones as for FoldCountDistinct). Aggregate cuts the
//     result at the session's GroupConcatMaxLen and counts a warning
//     (1260) per value cut; the shards must not cut the partials (a
//     shard's cut is a warning too many, and a wrong value if its limit is
//     below the session's): run the statement as SET STATEMENT
//     group_concat_max_len = 1073741824 FOR SELECT ... (MariaDB's ceiling,
//     taken without a warning).
//
// Several distinct folds in one statement extend the GROUP BY by all
// their arguments; the other folds stay right, since every shard row is
// still a part of one group.
type Aggregate struct {
	Input   Primitive
	GroupBy []Col
	Folds   []Fold // one per input column, hidden ones included
	Hidden  int
	Cat     *Catalog
}

// FoldKind is how a column's values from several rows become one.
type FoldKind uint8

// Fold kinds.
const (
	FoldAny           FoldKind = iota // a value from one of the rows (a group column, or an ungrouped one as MariaDB allows)
	FoldCount                         // sum of the shards' counts
	FoldSum                           // sum of the shards' sums
	FoldMin                           // least of the shards' minimums
	FoldMax                           // greatest of the shards' maximums
	FoldAvg                           // Sum / Count, from the hidden SUM and COUNT columns
	FoldCountDistinct                 // distinct non-NULL tuples of Args
	FoldSumDistinct                   // sum of the distinct non-NULL values of Args[0]
	FoldAvgDistinct                   // average of the distinct non-NULL values of Args[0]
	FoldGroupConcat                   // the shards' partial concatenations, ordered by Order, joined by Separator
)

var foldNames = [...]string{"any", "count", "sum", "min", "max", "avg", "count_distinct", "sum_distinct",
	"avg_distinct", "group_concat"}

// String names the kind as plans print it.
func (k FoldKind) String() string {
	if int(k) < len(foldNames) {
		return foldNames[k]
	}
	return fmt.Sprintf("fold(%d)", k)
}

// Fold folds one column.
type Fold struct {
	Kind       FoldKind
	Sum, Count Col // FoldAvg
	// Args are the hidden columns holding the values a distinct aggregate
	// or a GROUP_CONCAT(DISTINCT ...) is over.
	Args []Col
	// Order sorts a GROUP_CONCAT's partial concatenations (its ORDER BY,
	// over hidden columns); Separator joins them.
	Order     []SortKey
	Separator string
	Distinct  bool // GROUP_CONCAT(DISTINCT ...)
}

// String describes the fold as plans print it.
func (f Fold) String() string {
	switch f.Kind {
	case FoldAvg:
		return fmt.Sprintf("avg(%s/%s)", f.Sum, f.Count)
	case FoldCountDistinct, FoldSumDistinct, FoldAvgDistinct:
		return fmt.Sprintf("%s(%s)", f.Kind, colsString(f.Args))
	case FoldGroupConcat:
		s := "group_concat("
		if f.Distinct {
			s += "distinct "
		}
		s += colsString(f.Args)
		if len(f.Order) > 0 {
			s += " order by " + keysString(f.Order)
		}
		return s + fmt.Sprintf(" separator %q)", f.Separator)
	}
	return f.Kind.String()
}

func colsString(cs []Col) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, ",")
}

// Execute folds the input's rows and writes one row per group. Nothing
// reaches w before the input ended, so an error on the way (a shard's,
// too many groups) is the whole answer.
func (a *Aggregate) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	aw := &aggWriter{a: a, ctx: ctx, cur: c, sess: c.Session(), groups: map[string]*group{},
		held: newHolding(c.Session(), "groups and distinct values")}
	defer aw.held.release()
	if err := a.Input.Execute(ctx, c, bv, aw); err != nil {
		return err
	}
	if aw.ok != nil {
		return w.OK(*aw.ok)
	}
	if aw.cols == nil {
		return nil
	}
	if len(aw.order) == 0 && len(a.GroupBy) == 0 {
		aw.order = append(aw.order, aw.newGroup())
	}
	rows := make([]Row, len(aw.order))
	warnings := aw.warnings
	for i, g := range aw.order {
		r, cuts, err := aw.finish(g)
		if err != nil {
			return err
		}
		rows[i] = r
		warnings = addWarnings(warnings, cuts)
	}
	return emit(w, aw.cols, rows, warnings)
}

// Inputs implements Primitive.
func (a *Aggregate) Inputs() []Primitive { return []Primitive{a.Input} }

// String implements Primitive.
func (a *Aggregate) String() string {
	folds := make([]string, len(a.Folds))
	for i, f := range a.Folds {
		folds[i] = f.String()
	}
	return fmt.Sprintf("Aggregate group by [%s] folds [%s]", colsString(a.GroupBy), strings.Join(folds, ", "))
}
