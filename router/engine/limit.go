package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"vitess.io/vitess/go/sqltypes"
)

// Limit passes rows Offset+1 to Offset+Count of its input. When Upper is
// a bind slot (>= 0), it is set to Offset+Count before the input runs:
// the shards' own LIMIT.
//
// Once Count rows have passed, Limit's writer refuses further rows with
// errStop: the input stops reading (a primitive that buffered its rows
// may still write End with its warnings) and returns errStop, which Limit
// turns into success. End reaches w exactly once.
type Limit struct {
	Input         Primitive
	Count, Offset Count
	Upper         int
}

// errStop is returned by a writer's Row when it wants no more rows (a
// LIMIT reached). Primitives pass it up unchanged; the Limit that issued
// it turns it into success.
var errStop = errors.New("engine: limit reached")

// Execute runs the input and passes the rows within the limit.
func (l *Limit) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	count, cwarn := l.Count.resolve(bv)
	offset, owarn := l.Offset.resolve(bv)
	if l.Upper >= 0 {
		bv.SetInt(l.Upper, satAdd(offset, count))
	}
	lw := &limitWriter{w: w, skip: offset, left: count, warnings: cwarn + owarn}
	if err := l.Input.Execute(ctx, c, bv, lw); err != nil && !(lw.stopped && errors.Is(err, errStop)) {
		return err
	}
	if !lw.ended && lw.fields {
		lw.ended = true
		return w.End(lw.warnings)
	}
	return nil
}

// Inputs implements Primitive.
func (l *Limit) Inputs() []Primitive { return []Primitive{l.Input} }

// String implements Primitive.
func (l *Limit) String() string {
	return fmt.Sprintf("Limit %s offset %s", l.Count, l.Offset)
}

// limitWriter is the writer a Limit gives its input.
type limitWriter struct {
	w              ResultWriter
	skip, left     int64
	warnings       uint16
	fields         bool // a result set started
	stopped, ended bool
}

func (lw *limitWriter) Fields(cols []Column) error {
	lw.fields = true
	return lw.w.Fields(cols)
}

func (lw *limitWriter) Row(r Row) error {
	if lw.left <= 0 {
		lw.stopped = true
		return errStop
	}
	if lw.skip > 0 {
		lw.skip--
		return nil
	}
	if err := lw.w.Row(r); err != nil {
		return err
	}
	lw.left--
	if lw.left == 0 {
		lw.stopped = true
		return errStop
	}
	return nil
}

func (lw *limitWriter) End(warnings uint16) error {
	if lw.ended {
		return nil
	}
	lw.ended = true
	return lw.w.End(addWarnings(warnings, lw.warnings))
}

func (lw *limitWriter) OK(r Result) error { return lw.w.OK(r) }

// resolve returns the count's value for an execution, and whether
// reading a bound value gave a warning.
func (n Count) resolve(bv *Bind) (int64, uint16) {
	if n.Slot < 0 {
		return max(n.Value, 0), 0
	}
	return limitValue(bv.Value(n.Slot))
}

// limitValue reads a value bound to LIMIT or OFFSET as MariaDB reads a
// prepared statement's parameter there (COM_STMT_EXECUTE): as an
// unsigned integer, so that a negative number means no limit (or, as an
// offset, skipping everything); NULL is 0; floats round half to even,
// decimals half away from zero; strings by their integer prefix, with a
// warning (1292) when more follows. The result is capped at the largest
// int64, which no result reaches.
func limitValue(v sqltypes.Value) (int64, uint16) {
	switch {
	case v.IsNull():
		return 0, 0
	case v.IsSigned():
		n, err := v.ToInt64()
		if err != nil || n < 0 {
			return math.MaxInt64, 0
		}
		return n, 0
	case v.IsUnsigned():
		u, err := v.ToUint64()
		if err != nil || u > math.MaxInt64 {
			return math.MaxInt64, 0
		}
		return int64(u), 0
	case v.IsFloat():
		f, _ := strconv.ParseFloat(v.RawStr(), 64)
		return unsignedOf(math.RoundToEven(f)), 0
	case v.IsDecimal():
		x, ok := new(big.Rat).SetString(v.RawStr())
		if !ok {
			return 0, 1
		}
		f, _ := strconv.ParseFloat(formatRat(x, &Column{Type: TypeNewdecimal}), 64) // rounded half away from zero
		return unsignedOf(f), 0
	}
	return stringLimit(v.RawStr())
}

// unsignedOf is a whole number as an unsigned LIMIT: negative ones wrap
// to no limit.
func unsignedOf(f float64) int64 {
	switch {
	case f < 0:
		return math.MaxInt64
	case f >= math.MaxInt64:
		return math.MaxInt64
	}
	return int64(f)
}

// stringLimit reads a string as MariaDB's integer conversion does:
// leading spaces, a sign, digits; anything after them gives a warning
// (trailing spaces too: a note, which counts as one).
func stringLimit(s string) (int64, uint16) {
	t := strings.TrimLeft(s, " \t\n\r")
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg, t = t[0] == '-', t[1:]
	}
	end := 0
	for end < len(t) && t[end] >= '0' && t[end] <= '9' {
		end++
	}
	var warn uint16
	if end == 0 || end < len(t) {
		warn = 1
	}
	u, err := strconv.ParseUint(t[:end], 10, 64)
	switch {
	case end == 0:
		return 0, warn
	case err != nil: // out of range
		return math.MaxInt64, 1
	case neg && u != 0, u > math.MaxInt64:
		return math.MaxInt64, warn
	}
	return int64(u), warn
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func addWarnings(a, b uint16) uint16 {
	if int(a)+int(b) > math.MaxUint16 {
		return math.MaxUint16
	}
	return a + b
}
