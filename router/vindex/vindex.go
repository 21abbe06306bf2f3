package vindex

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// KeyspaceID is a position in the 64-bit key space.
type KeyspaceID uint64

// KeyType is the type of a sharding key column.
type KeyType uint8

// Key column types.
const (
	// Int: a signed integer column (TINYINT ... BIGINT).
	Int KeyType = iota
	// Uint: an unsigned integer column (BIGINT UNSIGNED ...).
	Uint
	// Bytes: a string column, compared byte for byte; give it a binary
	// collation, since values equal under a _ci collation hash apart.
	Bytes
)

// Value is a sharding key value as SQL gave it: an integer literal, or a
// string (from a quoted literal or a bound string parameter).
type Value struct {
	IsInt  bool
	Int    int64
	Uint   uint64 // when IsUint: an integer above MaxInt64
	IsUint bool
	Str    string
}

// IntValue, UintValue and StrValue make Values.
func IntValue(v int64) Value   { return Value{IsInt: true, Int: v} }
func UintValue(v uint64) Value { return Value{IsUint: true, Uint: v} }
func StrValue(s string) Value  { return Value{Str: s} }

// ParseValue reads a key of type t as MySQL prints it (a column's text)
// into a Value.
func ParseValue(t KeyType, s string) (Value, error) {
	switch t {
	case Int:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return Value{}, errors.New("not a signed integer; check key_type in the configuration")
		}
		return IntValue(n), nil
	case Uint:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return Value{}, errors.New("not an unsigned integer; check key_type in the configuration")
		}
		return UintValue(n), nil
	}
	return StrValue(s), nil
}

// ErrNotAKey reports a value that cannot equal any key of the column (a
// string that is not an integer, for an integer key): no shard holds it.
var ErrNotAKey = errors.New("value cannot equal a sharding key of this type")

// Func is a sharding function.
type Func interface {
	// Name is the function's name in configuration.
	Name() string
	// Map returns the keyspace id of a key value of the given type.
	Map(t KeyType, v Value) (KeyspaceID, error)
}

// asUint64 gives an integer key's value as the uint64 the hash takes: the
// two's complement bits for signed columns, as MySQL stores them.
func asUint64(t KeyType, v Value) (uint64, error) {
	switch {
	case v.IsInt:
		if t == Uint && v.Int < 0 {
			return 0, ErrNotAKey
		}
		return uint64(v.Int), nil
	case v.IsUint:
		if t == Int {
			return 0, ErrNotAKey // above MaxInt64: no signed column holds it
		}
		return v.Uint, nil
	}
	// A string compared with an integer column: MySQL converts it to a
	// number ('42' and '42.0' and '42abc' all equal key 42, 'abc' equals
	// 0). An exact integer is that key.
	s := strings.TrimSpace(v.Str)
	if t == Uint {
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u, nil
		}
	} else if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return uint64(i), nil
	}
	f := stringToDouble(s)
	switch {
	case f != math.Trunc(f):
		return 0, ErrNotAKey
	case math.Abs(f) >= 1<<53:
		return 0, ErrAmbiguous // compared as doubles, it equals several keys
	case t == Uint && f < 0:
		return 0, ErrNotAKey
	}
	return uint64(int64(f)), nil
}

// ErrAmbiguous reports a value that equals several keys of the column
// (a string whose value as a double is too large to name one integer):
// the statement cannot be routed by it.
var ErrAmbiguous = errors.New("value equals several sharding keys")

// stringToDouble converts a string as MySQL does in numeric context: the
// longest prefix that reads as a number (sign, digits, fraction,
// exponent), 0 when there is none.
func stringToDouble(s string) float64 {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return 0
	}
	end := i
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() > 0 {
			end = i
		}
	}
	f, _ := strconv.ParseFloat(s[:end], 64) // out of range: ±Inf, which is ambiguous
	return f
}

// Hash spreads keys uniformly over the key space. Integer keys go through
// MurmurHash3's 64-bit finalizer (fmix64), a bijection, so distinct keys
// never collide; string keys through XXH64 (seed 0) of their bytes.
type Hash struct{}

// Name implements Func.
func (Hash) Name() string { return "hash" }

// Map implements Func.
func (Hash) Map(t KeyType, v Value) (KeyspaceID, error) {
	if t == Bytes {
		s := v.Str
		switch {
		case v.IsInt:
			s = strconv.FormatInt(v.Int, 10)
		case v.IsUint:
			s = strconv.FormatUint(v.Uint, 10)
		}
		return KeyspaceID(xxhash.Sum64String(s)), nil
	}
	u, err := asUint64(t, v)
	if err != nil {
		return 0, err
	}
	return KeyspaceID(fmix64(u)), nil
}

// fmix64 is MurmurHash3's 64-bit finalizer.
func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// Mod places key k on shard k mod N of N equal ranges, for layouts that
// already shard that way: the keyspace id is the start of range k mod N.
// Negative keys use the mathematical modulus (-1 mod 4 = 3).
type Mod struct{ N uint64 }

// Name implements Func.
func (Mod) Name() string { return "mod" }

// Map implements Func.
func (m Mod) Map(t KeyType, v Value) (KeyspaceID, error) {
	if m.N == 0 {
		return 0, fmt.Errorf("mod: shard count is 0")
	}
	if t == Bytes {
		return 0, fmt.Errorf("mod: needs an integer sharding key")
	}
	u, err := asUint64(t, v)
	if err != nil {
		return 0, err
	}
	var r uint64
	if t == Int && int64(u) < 0 {
		r = uint64((int64(u)%int64(m.N) + int64(m.N)) % int64(m.N))
	} else {
		r = u % m.N
	}
	return RangeStart(r, m.N), nil
}

// RangeStart is the first keyspace id of range i of n equal ranges of the
// key space: ceil(i * 2^64 / n). Shard i of a mod layout owns
// [RangeStart(i, n), RangeStart(i+1, n)).
func RangeStart(i, n uint64) KeyspaceID {
	if i == 0 || i >= n {
		return 0
	}
	q, rem := bits.Div64(i, 0, n) // (i * 2^64) / n; i < n, so it fits
	if rem != 0 {
		q++
	}
	return KeyspaceID(q)
}

// Range keeps integer keys in order: the keyspace id is the key itself
// (signed keys shifted by 2^63 so that order is kept), and shards own
// explicit key ranges.
type Range struct{}

// Name implements Func.
func (Range) Name() string { return "range" }

// Map implements Func.
func (Range) Map(t KeyType, v Value) (KeyspaceID, error) {
	if t == Bytes {
		return 0, fmt.Errorf("range: needs an integer sharding key")
	}
	u, err := asUint64(t, v)
	if err != nil {
		return 0, err
	}
	if t == Int {
		u ^= 1 << 63
	}
	return KeyspaceID(u), nil
}

// RangeKey is the keyspace id where a range-sharded integer key starts, for
// writing shard boundaries in configuration.
func RangeKey(t KeyType, key int64) KeyspaceID {
	id, _ := Range{}.Map(t, IntValue(key))
	return id
}

// ByName returns the function configured by name (shards is the shard
// count, for mod).
func ByName(name string, shards int) (Func, error) {
	switch name {
	case "hash":
		return Hash{}, nil
	case "mod":
		return Mod{N: uint64(shards)}, nil
	case "range":
		return Range{}, nil
	}
	return nil, fmt.Errorf("unknown sharding function %q; use hash, mod or range", name)
}
