package engine

import (
	"context"
	"fmt"
	"math/big"
	"strconv"

	"github.com/courier-proxy/courier/sqlerr"
)

// aggWriter is the writer an Aggregate gives its input: it folds the
// rows into groups. It lives for one execution and keeps that
// execution's context for the catalog reads the column definitions need.
type aggWriter struct {
	a        *Aggregate
	ctx      context.Context
	cur      Cursor
	sess     *Session
	cols     []Column
	groupBy  []keyCol
	folds    []folder // by column
	numeric  bool     // some fold keeps numbers (count, sum)
	groups   map[string]*group
	order    []*group // in the order first seen
	key      []byte   // scratch: a group's key, then a distinct fold's
	warnings uint16
	ok       *Result
	held     holding
}

// folder is a Fold resolved against the result's columns.
type folder struct {
	Fold
	col        *Column
	cmp        *comparer // FoldMin, FoldMax: the column's, as strings
	sum, count int       // FoldAvg: positions
	args       []keyCol  // distinct folds, GROUP_CONCAT(DISTINCT)
	arg        *Column   // FoldSumDistinct, FoldAvgDistinct: Args[0]'s column
	argCmp     *comparer // ... and its comparison
	by         []keyCol  // distinct folds: what tells values apart (args, or the column for a FLOAT)
	at         int       // the column's position
	order      []sortKey // FoldGroupConcat: over the part's order values
	orderAt    []int     // ... taken from these positions
}

// group is one group while the shards' partial rows are folded into it.
type group struct {
	vals  Row         // FoldAny, FoldMin, FoldMax: the value so far
	nums  []*big.Rat  // FoldCount, FoldSum over exact types
	flts  []float64   // FoldSum over FLOAT and DOUBLE
	seen  []bool      // FoldCount, FoldSum: a non-NULL partial result was seen
	sets  []*valueSet // distinct folds
	parts []*partList // FoldGroupConcat
	rows  int         // rows folded in
}

func (aw *aggWriter) Fields(cols []Column) error {
	a := aw.a
	if len(a.Folds) != len(cols) {
		return sqlerr.New(sqlerr.ErrUnknown, "engine: %d folds for %d columns", len(a.Folds), len(cols))
	}
	s, err := newColumns(a.Cat, cols, a.Hidden)
	if err != nil {
		return err
	}
	if aw.groupBy, err = s.keyCols(aw.ctx, aw.cur, a.GroupBy); err != nil {
		return err
	}
	aw.folds = make([]folder, len(cols))
	for i, f := range a.Folds {
		if err := aw.resolve(s, i, f); err != nil {
			return err
		}
	}
	aw.cols = cols
	return nil
}

// resolve prepares column i's fold.
func (aw *aggWriter) resolve(s *columns, i int, f Fold) error {
	fd := &aw.folds[i]
	fd.Fold, fd.col, fd.at = f, &s.cols[i], i
	var err error
	switch f.Kind {
	case FoldAny:
	case FoldCount, FoldSum:
		aw.numeric = true
	case FoldMin, FoldMax:
		fd.cmp, err = s.comparer(aw.ctx, aw.cur, i, false)
	case FoldAvg:
		return aw.resolveAvg(s, fd)
	case FoldCountDistinct:
		if len(f.Args) == 0 {
			return sqlerr.New(sqlerr.ErrUnknown, "engine: %s of no arguments", f.Kind)
		}
		fd.args, err = s.keyCols(aw.ctx, aw.cur, f.Args)
		fd.by = fd.args
	case FoldSumDistinct, FoldAvgDistinct:
		return aw.resolveSumDistinct(s, fd)
	case FoldGroupConcat:
		return aw.resolveConcat(s, fd)
	default:
		return sqlerr.New(sqlerr.ErrUnknown, "engine: fold kind %d", f.Kind)
	}
	return err
}

func (aw *aggWriter) resolveAvg(s *columns, fd *folder) error {
	var err error
	if fd.sum, err = s.index(fd.Sum); err != nil {
		return err
	}
	if fd.count, err = s.index(fd.Count); err != nil {
		return err
	}
	if aw.a.Folds[fd.sum].Kind != FoldSum || aw.a.Folds[fd.count].Kind != FoldCount {
		return sqlerr.New(sqlerr.ErrUnknown, "engine: avg over %s and %s, which are no sum and count", fd.Sum, fd.Count)
	}
	return nil
}

func (aw *aggWriter) resolveSumDistinct(s *columns, fd *folder) error {
	if len(fd.Args) != 1 {
		return sqlerr.New(sqlerr.ErrUnknown, "engine: %s of %d arguments", fd.Kind, len(fd.Args))
	}
	var err error
	if fd.args, err = s.keyCols(aw.ctx, aw.cur, fd.Args); err != nil {
		return err
	}
	fd.arg, fd.argCmp = &s.cols[fd.args[0].i], fd.args[0].cmp
	fd.by = fd.args
	if fd.arg.Type == TypeFloat {
		fd.by = []keyCol{{i: fd.at, cmp: &comparer{kind: kindFloat}}}
	}
	if temporal(fd.arg) {
		return sqlerr.NotSupported(fmt.Sprintf("%s over a temporal value across shards", fd.Kind), "")
	}
	return nil
}

// temporal reports whether a column holds dates or times.
func temporal(c *Column) bool {
	switch c.Type {
	case TypeDate, TypeNewdate, TypeDatetime, TypeDatetime2,
		TypeTimestamp, TypeTimestamp2, TypeTime, TypeTime2:
		return true
	}
	return false
}

func (aw *aggWriter) Row(r Row) error {
	if len(r) != len(aw.cols) {
		return sqlerr.New(sqlerr.ErrUnknown, "engine: a row of %d values for %d columns", len(r), len(aw.cols))
	}
	aw.key, _ = appendKey(aw.key[:0], r, aw.groupBy) // NULL is a group of its own
	g := aw.groups[string(aw.key)]
	if g == nil {
		if err := aw.held.take(1, rowCost(r)+int64(len(aw.key))); err != nil {
			return err
		}
		g = aw.newGroup()
		aw.groups[string(aw.key)] = g
		aw.order = append(aw.order, g)
	}
	return aw.add(g, r)
}

func (aw *aggWriter) End(warnings uint16) error { aw.warnings = warnings; return nil }
func (aw *aggWriter) OK(r Result) error         { aw.ok = &r; return nil }

func (aw *aggWriter) newGroup() *group {
	n := len(aw.cols)
	g := &group{vals: make(Row, n)}
	if aw.numeric {
		g.nums, g.flts, g.seen = make([]*big.Rat, n), make([]float64, n), make([]bool, n)
		for i, f := range aw.folds {
			if f.Kind == FoldCount || f.Kind == FoldSum {
				g.nums[i] = new(big.Rat)
			}
		}
	}
	for i, f := range aw.folds {
		switch f.Kind {
		case FoldCountDistinct, FoldSumDistinct, FoldAvgDistinct:
			if g.sets == nil {
				g.sets = make([]*valueSet, n)
			}
			g.sets[i] = &valueSet{keys: map[string]struct{}{}}
		case FoldGroupConcat:
			if g.parts == nil {
				g.parts = make([]*partList, n)
			}
			g.parts[i] = &partList{}
		}
	}
	return g
}

// add folds a partial row into g.
func (aw *aggWriter) add(g *group, r Row) error {
	first := g.rows == 0
	g.rows++
	for i := range aw.folds {
		f := &aw.folds[i]
		v := r[i]
		var err error
		switch f.Kind {
		case FoldAny:
			if first && v != nil {
				g.vals[i] = append([]byte{}, v...)
			}
		case FoldCount, FoldSum:
			err = aw.addNumber(g, i, v)
		case FoldMin, FoldMax:
			if v == nil {
				continue
			}
			if cur := g.vals[i]; cur == nil || keep(f.Kind, f.cmp.compare(v, cur)) {
				g.vals[i] = append(g.vals[i][:0], v...)
			}
		case FoldCountDistinct, FoldSumDistinct, FoldAvgDistinct:
			err = g.sets[i].add(r, f, &aw.held, &aw.key)
		case FoldGroupConcat:
			err = g.parts[i].add(r, v, f, &aw.held, &aw.key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// keep reports whether a MIN or MAX takes a value that compares c to the
// one so far.
func keep(k FoldKind, c int) bool {
	return k == FoldMin && c < 0 || k == FoldMax && c > 0
}

func (aw *aggWriter) addNumber(g *group, i int, v []byte) error {
	if v == nil {
		return nil
	}
	c := &aw.cols[i]
	g.seen[i] = true
	if aw.folds[i].Kind == FoldSum && !exact(c) {
		g.flts[i] += parseFloat(v)
		return nil
	}
	x, err := parseExact(v, c)
	if err != nil {
		return err
	}
	g.nums[i].Add(g.nums[i], x)
	return nil
}

// finish turns a folded group into its result row, and counts the
// GROUP_CONCAT values it cut.
func (aw *aggWriter) finish(g *group) (Row, uint16, error) {
	out := make(Row, len(aw.cols))
	var cuts uint16
	for i := range aw.folds {
		f := &aw.folds[i]
		c := f.col
		switch f.Kind {
		case FoldAny, FoldMin, FoldMax:
			out[i] = g.vals[i]
		case FoldCount:
			out[i] = []byte(g.nums[i].FloatString(0))
		case FoldSum:
			switch {
			case !g.seen[i]:
			case exact(c):
				out[i] = []byte(formatRat(g.nums[i], c))
			default:
				out[i] = formatFloat(g.flts[i], c)
			}
		case FoldAvg:
			out[i] = aw.average(g, f)
		case FoldCountDistinct:
			out[i] = strconv.AppendInt(nil, int64(len(g.sets[i].keys)), 10)
		case FoldSumDistinct, FoldAvgDistinct:
			v, err := g.sets[i].result(f)
			if err != nil {
				return nil, 0, err
			}
			out[i] = v
		case FoldGroupConcat:
			v, cut, err := g.parts[i].result(f, aw.sess.GroupConcatMaxLen)
			if err != nil {
				return nil, 0, err
			}
			out[i] = v
			if cut {
				cuts = addWarnings(cuts, 1)
			}
		}
	}
	return out, cuts, nil
}

// average is an AVG from the folded SUM and COUNT: exact when both the
// sum and the result are, printed with the result column's decimals.
func (aw *aggWriter) average(g *group, f *folder) []byte {
	count := g.nums[f.count]
	if !g.seen[f.sum] || count.Sign() == 0 {
		return nil
	}
	sumCol := &aw.cols[f.sum]
	if exact(sumCol) && exact(f.col) {
		return []byte(formatRat(new(big.Rat).Quo(g.nums[f.sum], count), f.col))
	}
	sum := g.flts[f.sum]
	if exact(sumCol) {
		sum, _ = g.nums[f.sum].Float64()
	}
	n, _ := count.Float64()
	return formatFloat(sum/n, f.col)
}
