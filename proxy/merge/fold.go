package merge

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/sqlerr"
)

// group is one group of an aggregated result while shards' partial rows
// are folded into it.
type group struct {
	vals Row        // FoldAny, FoldMin, FoldMax: the value so far
	nums []*big.Rat // FoldCount, FoldSum over exact types
	flts []float64  // FoldSum over FLOAT and DOUBLE
	seen []bool     // FoldCount, FoldSum: a non-NULL partial result was seen
}

// exact reports whether a SUM column holds exact numbers (DECIMAL or an
// integer) rather than FLOAT or DOUBLE.
func exact(c *Column) bool {
	return c.Type != mysql.MYSQL_TYPE_FLOAT && c.Type != mysql.MYSQL_TYPE_DOUBLE
}

func (m *Merger) newGroup(r Row) (*group, error) {
	g := &group{vals: make(Row, m.total), nums: make([]*big.Rat, m.total), flts: make([]float64, m.total), seen: make([]bool, m.total)}
	for i, f := range m.spec.Folds {
		switch f.Kind {
		case router.FoldAny, router.FoldMin, router.FoldMax:
			if r[i] != nil {
				g.vals[i] = append([]byte{}, r[i]...)
			}
		case router.FoldCount, router.FoldSum:
			g.nums[i] = new(big.Rat)
		}
	}
	// min and max fold the row into its own copy: no change
	return g, m.add(g, r)
}

// add folds a partial row into g.
func (m *Merger) add(g *group, r Row) error {
	for i, f := range m.spec.Folds {
		v := r[i]
		switch f.Kind {
		case router.FoldCount, router.FoldSum:
			if v == nil {
				continue
			}
			g.seen[i] = true
			if f.Kind == router.FoldSum && !exact(&m.cols[i]) {
				x, _ := strconv.ParseFloat(string(v), 64)
				g.flts[i] += x
				continue
			}
			x, ok := new(big.Rat).SetString(string(v))
			if !ok {
				return sqlerr.New(sqlerr.ErrUnknown, "merge: %q is not a number in column %s", v, m.cols[i].Name)
			}
			g.nums[i].Add(g.nums[i], x)
		case router.FoldMin, router.FoldMax:
			if v == nil {
				continue
			}
			cur := g.vals[i]
			c := 0
			if cur != nil {
				c = m.cmp[i].compare(v, cur)
			}
			if cur == nil || (f.Kind == router.FoldMin && c < 0) || (f.Kind == router.FoldMax && c > 0) {
				g.vals[i] = append(g.vals[i][:0], v...)
			}
		}
	}
	return nil
}

// finish turns a folded group into its result row.
func (m *Merger) finish(g *group) (Row, error) {
	out := make(Row, m.total)
	for i, f := range m.spec.Folds {
		c := &m.cols[i]
		switch f.Kind {
		case router.FoldAny, router.FoldMin, router.FoldMax:
			out[i] = g.vals[i]
		case router.FoldCount:
			out[i] = []byte(g.nums[i].FloatString(0))
		case router.FoldSum:
			switch {
			case !g.seen[i]:
			case exact(c):
				out[i] = []byte(formatRat(g.nums[i], c))
			default:
				out[i] = []byte(formatFloat(g.flts[i], c))
			}
		}
	}
	for i, f := range m.spec.Folds { // AVG reads the finished SUM and COUNT
		if f.Kind != router.FoldAvg {
			continue
		}
		s := f.Sum.Index(m.total, m.spec.Hidden)
		n := f.Count.Index(m.total, m.spec.Hidden)
		count := g.nums[n]
		if !g.seen[s] || count.Sign() == 0 {
			continue
		}
		c := &m.cols[i]
		if exact(&m.cols[s]) && exact(c) {
			out[i] = []byte(formatRat(new(big.Rat).Quo(g.nums[s], count), c))
			continue
		}
		sum := g.flts[s]
		if exact(&m.cols[s]) {
			sum, _ = g.nums[s].Float64()
		}
		cf, _ := count.Float64()
		out[i] = []byte(formatFloat(sum/cf, c))
	}
	return out, nil
}

// formatRat prints an exact number as a column of c's type prints it:
// rounded half away from zero to its decimals.
func formatRat(x *big.Rat, c *Column) string {
	d := int(c.Decimals)
	if c.Type != mysql.MYSQL_TYPE_NEWDECIMAL && c.Type != mysql.MYSQL_TYPE_DECIMAL || d > 38 {
		d = 0
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d)), nil)
	num := new(big.Int).Mul(x.Num(), scale)
	q, r := new(big.Int).QuoRem(num, x.Denom(), new(big.Int))
	// round half away from zero: |2r| >= denom
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(x.Denom()) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	neg := q.Sign() < 0
	digits := q.Abs(q).String()
	if d > 0 {
		if len(digits) <= d {
			digits = strings.Repeat("0", d-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-d] + "." + digits[len(digits)-d:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// formatFloat prints a DOUBLE as MariaDB does: the shortest text that
// reads back as the same value, with a bare exponent.
func formatFloat(f float64, c *Column) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "NULL"
	}
	bits := 64
	if c.Type == mysql.MYSQL_TYPE_FLOAT {
		bits = 32
	}
	if c.Decimals > 0 && c.Decimals < 31 {
		return strconv.FormatFloat(f, 'f', int(c.Decimals), bits)
	}
	s := strconv.FormatFloat(f, 'g', -1, bits)
	if i := strings.IndexByte(s, 'e'); i >= 0 {
		exp := strings.TrimPrefix(s[i+1:], "+")
		neg := strings.HasPrefix(exp, "-")
		exp = strings.TrimLeft(strings.TrimPrefix(exp, "-"), "0")
		if neg {
			exp = "-" + exp
		}
		s = s[:i] + "e" + exp
	}
	return s
}
