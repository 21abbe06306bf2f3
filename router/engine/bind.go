package engine

import (
	"math"
	"strconv"

	"vitess.io/vitess/go/sqltypes"

	"github.com/courier-proxy/courier/router/vindex"
)

// Bind holds the values of one execution: the statement's own (its
// literals and the client's parameters, in the order their placeholders
// appear in the statement's shape) and the slots primitives fill while it
// runs (keys taken from a sequence, a LIMIT pushed down to the shards).
// A Bind belongs to one execution; primitives may write its slots.
type Bind struct {
	Vals  []sqltypes.Value
	arena []byte // text of values made during the execution

	// Scratch space for one execution, reused from one to the next.
	targets []Target
	shards  []int
}

// Reset empties b for an execution with n slots, keeping its storage.
func (b *Bind) Reset(n int) {
	clear(b.Vals)
	if cap(b.Vals) < n {
		b.Vals = make([]sqltypes.Value, n)
	}
	b.Vals = b.Vals[:n]
	b.arena = b.arena[:0]
}

// Grow makes room for n slots, keeping the values already set.
func (b *Bind) Grow(n int) {
	for len(b.Vals) < n {
		b.Vals = append(b.Vals, sqltypes.NULL)
	}
}

// Value returns slot i (NULL when it is out of range).
func (b *Bind) Value(i int) sqltypes.Value {
	if i < 0 || i >= len(b.Vals) {
		return sqltypes.NULL
	}
	return b.Vals[i]
}

// SetInt sets slot i to the integer v.
func (b *Bind) SetInt(i int, v int64) {
	start := len(b.arena)
	b.arena = strconv.AppendInt(b.arena, v, 10)
	b.Grow(i + 1)
	b.Vals[i] = sqltypes.MakeTrusted(sqltypes.Int64, b.arena[start:len(b.arena):len(b.arena)])
}

// Int returns slot i as an integer; ok is false for NULL and values that
// are not integers.
func (b *Bind) Int(i int) (int64, bool) {
	v := b.Value(i)
	if !v.IsIntegral() {
		return 0, false
	}
	n, err := v.ToInt64()
	if err != nil {
		u, uerr := v.ToUint64()
		if uerr != nil {
			return 0, false
		}
		return int64(min(u, 1<<63-1)), true
	}
	return n, true
}

// Key returns slot i as a sharding key value: integers and strings (a
// string compared with an integer key converts as MySQL converts it), and
// floats and decimals whose value is a whole number below 2^53 (drivers
// such as Node's mysql2 send every number as a DOUBLE): 42.0 equals key
// 42 and no other. NULL and other floats and decimals are no key (ok
// false): 42.000001 equals no integer, and a double of 2^53 or more
// stands for several, so such statements are not routed by them.
func (b *Bind) Key(i int) (vindex.Value, bool) {
	return KeyOf(b.Value(i))
}

// KeyOf converts a value to a sharding key value (see Bind.Key).
func KeyOf(v sqltypes.Value) (vindex.Value, bool) {
	switch {
	case v.IsSigned():
		n, err := v.ToInt64()
		return vindex.IntValue(n), err == nil
	case v.IsUnsigned():
		u, err := v.ToUint64()
		if err == nil && u <= 1<<63-1 {
			return vindex.IntValue(int64(u)), true
		}
		return vindex.UintValue(u), err == nil
	case v.IsText() || v.IsBinary() || v.IsDateTime() || v.IsDate() || v.IsTime():
		return vindex.StrValue(v.RawStr()), true
	case v.IsFloat() || v.Type() == sqltypes.Decimal:
		f, err := strconv.ParseFloat(v.RawStr(), 64)
		if err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return vindex.IntValue(int64(f)), true
		}
	}
	return vindex.Value{}, false
}
