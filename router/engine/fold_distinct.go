package engine

import (
	"math/big"
	"strconv"
)

// valueSet is a group's distinct argument values, for COUNT, SUM and
// AVG(DISTINCT ...).
type valueSet struct {
	keys map[string]struct{} // the arguments' equality classes
	vals [][]byte            // SUM, AVG: the column's value for each distinct argument
	args [][]byte            // ... and the argument as the shard printed it
}

// add adds the row's arguments to the set (their key built in scratch)
// unless one of them is NULL or the set holds them already. For SUM and
// AVG(DISTINCT x) the shard's column holds its SUM or AVG of its
// sub-group's one value of x: x as the result's type (a DOUBLE for a
// string or FLOAT argument, exactly as MariaDB converts it), which is
// what is added up. A FLOAT argument prints with six digits only, so its
// values are told apart by that column instead.
func (s *valueSet) add(r Row, f *folder, h *holding, scratch *[]byte) error {
	key, null := appendKey((*scratch)[:0], r, f.by)
	*scratch = key
	if null {
		return nil
	}
	if _, dup := s.keys[string(key)]; dup {
		return nil
	}
	cost := int64(len(key)) + rowOverhead
	var v, arg []byte
	if f.Kind != FoldCountDistinct {
		v, arg = r[f.at], r[f.args[0].i]
		if v == nil {
			return nil
		}
		cost += int64(len(v)+len(arg)) + 2*valueOverhead
	}
	if err := h.take(1, cost); err != nil {
		return err
	}
	s.keys[string(key)] = struct{}{}
	if f.Kind != FoldCountDistinct {
		s.vals = append(s.vals, append([]byte(nil), v...))
		s.args = append(s.args, append([]byte(nil), arg...))
	}
	return nil
}

// result is the SUM or AVG of the distinct values: NULL when there are
// none; exact and printed with the column's decimals for an exact
// column; else added up as DOUBLEs in the order MariaDB adds them.
func (s *valueSet) result(f *folder) ([]byte, error) {
	if len(s.vals) == 0 {
		return nil, nil
	}
	n := int64(len(s.vals))
	if exact(f.col) {
		sum := new(big.Rat)
		for _, v := range s.vals {
			x, err := parseExact(v, f.col)
			if err != nil {
				return nil, err
			}
			sum.Add(sum, x)
		}
		if f.Kind == FoldAvgDistinct {
			sum.Quo(sum, big.NewRat(n, 1))
		}
		return []byte(formatRat(sum, f.col)), nil
	}
	fl := make([]float64, n)
	for i, v := range s.vals {
		fl[i], _ = strconv.ParseFloat(string(v), 64)
	}
	sum := sumFloats(fl, s.args, f.arg, f.argCmp)
	if f.Kind == FoldAvgDistinct {
		sum /= float64(n)
	}
	return formatFloat(sum, f.col), nil
}
