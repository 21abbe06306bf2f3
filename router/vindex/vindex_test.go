package vindex

import (
	"errors"
	"fmt"
	"testing"
)

// TestHashGolden pins the hash function: these keyspace ids are where rows
// live. If this test fails, the change moves data; do not update the
// vectors to make it pass. fmix64(1), fmix64(2), fmix64(2^64-1) and
// XXH64("") are the published reference values of those functions.
func TestHashGolden(t *testing.T) {
	tests := []struct {
		t    KeyType
		v    Value
		want KeyspaceID
	}{
		{Int, IntValue(0), 0x0000000000000000},
		{Int, IntValue(1), 0xb456bcfc34c2cb2c},
		{Int, IntValue(2), 0x3abf2a20650683e7},
		{Int, IntValue(42), 0x810879608e4259cc},
		{Int, IntValue(1000000007), 0x4a435ae8ea251144},
		{Int, IntValue(-1), 0x64b5720b4b825f21},
		{Int, IntValue(9223372036854775807), 0xabb93df0a930edea},
		{Uint, UintValue(18446744073709551615), 0x64b5720b4b825f21},
		{Int, StrValue("42"), 0x810879608e4259cc},
		{Bytes, StrValue(""), 0xef46db3751d8e999},
		{Bytes, StrValue("order-42"), 0xb5623ec0a2fa4fce},
		{Bytes, IntValue(42), 0x6de6f5d076d742b9},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%v/%+v", tc.t, tc.v), func(t *testing.T) {
			got, err := Hash{}.Map(tc.t, tc.v)
			if err != nil || got != tc.want {
				t.Errorf("Hash(%+v) = %#016x, %v; want %#016x", tc.v, uint64(got), err, uint64(tc.want))
			}
		})
	}
}

func TestHashEdgeCases(t *testing.T) {
	// MySQL compares an integer column with a string as numbers.
	k42, _ := Hash{}.Map(Int, IntValue(42))
	k0, _ := Hash{}.Map(Int, IntValue(0))
	for s, want := range map[string]KeyspaceID{"42abc": k42, "42.0": k42, "4.2e1": k42, " +42": k42, "abc": k0, "": k0} {
		if got, err := (Hash{}).Map(Int, StrValue(s)); err != nil || got != want {
			t.Errorf("%q for an integer key: %#x %v", s, uint64(got), err)
		}
	}
	if _, err := (Hash{}).Map(Int, StrValue("42.5")); !errors.Is(err, ErrNotAKey) {
		t.Errorf("a fraction for an integer key: %v", err)
	}
	if _, err := (Hash{}).Map(Int, StrValue("1e30")); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("a double beyond 2^53 for an integer key: %v", err)
	}
	if _, err := (Hash{}).Map(Uint, IntValue(-1)); !errors.Is(err, ErrNotAKey) {
		t.Errorf("negative value for an unsigned key: %v", err)
	}
	if _, err := (Hash{}).Map(Int, UintValue(1<<63)); !errors.Is(err, ErrNotAKey) {
		t.Errorf("value above MaxInt64 for a signed key: %v", err)
	}
	a, _ := Hash{}.Map(Int, StrValue(" 7 "))
	b, _ := Hash{}.Map(Int, IntValue(7))
	if a != b {
		t.Error("'7' and 7 must map alike for an integer key, as MySQL compares them equal")
	}
}

func TestModGolden(t *testing.T) {
	m := Mod{N: 4}
	for _, tc := range []struct {
		key   int64
		shard uint64
	}{{0, 0}, {1, 1}, {4, 0}, {7, 3}, {-1, 3}, {-4, 0}, {1000001, 1}} {
		id, err := m.Map(Int, IntValue(tc.key))
		if err != nil {
			t.Fatal(err)
		}
		if id < RangeStart(tc.shard, 4) || (tc.shard < 3 && id >= RangeStart(tc.shard+1, 4)) {
			t.Errorf("mod 4 of %d: keyspace id %#x not in range %d", tc.key, uint64(id), tc.shard)
		}
	}
	if got := RangeStart(1, 4); got != 0x4000000000000000 {
		t.Errorf("RangeStart(1, 4) = %#x", uint64(got))
	}
	if got := RangeStart(1, 3); got != 0x5555555555555556 {
		t.Errorf("RangeStart(1, 3) = %#x", uint64(got))
	}
}

func TestRangeKeepsOrder(t *testing.T) {
	keys := []int64{-1 << 63, -5, -1, 0, 1, 5, 1<<63 - 1}
	for i := 1; i < len(keys); i++ {
		a, _ := Range{}.Map(Int, IntValue(keys[i-1]))
		b, _ := Range{}.Map(Int, IntValue(keys[i]))
		if a >= b {
			t.Errorf("range order broken between %d and %d", keys[i-1], keys[i])
		}
	}
	if got := RangeKey(Int, 0); got != 1<<63 {
		t.Errorf("RangeKey(0) = %#x", uint64(got))
	}
}

func TestByName(t *testing.T) {
	for _, n := range []string{"hash", "mod", "range"} {
		f, err := ByName(n, 4)
		if err != nil || f.Name() != n {
			t.Errorf("ByName(%q) = %v, %v", n, f, err)
		}
	}
	if _, err := ByName("md5", 4); err == nil {
		t.Error("unknown function accepted")
	}
}

func BenchmarkHashInt(b *testing.B) {
	b.ReportAllocs()
	for i := range b.N {
		_, _ = Hash{}.Map(Int, IntValue(int64(i)))
	}
}
