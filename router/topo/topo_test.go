package topo

import (
	"fmt"
	"testing"

	"github.com/courier-proxy/courier/router/vindex"
)

func TestParseKeyRange(t *testing.T) {
	tests := []struct {
		in    string
		start uint64
		end   uint64
	}{
		{"-", 0, 0},
		{"-80", 0, 0x8000000000000000},
		{"80-", 0x8000000000000000, 0},
		{"40-80", 0x4000000000000000, 0x8000000000000000},
		{"4000-8000", 0x4000000000000000, 0x8000000000000000},
	}
	for _, tc := range tests {
		r, err := ParseKeyRange(tc.in)
		if err != nil || uint64(r.Start) != tc.start || uint64(r.End) != tc.end {
			t.Errorf("ParseKeyRange(%q) = %v, %v", tc.in, r, err)
		}
	}
	for _, bad := range []string{"80", "8-", "zz-", "80-40", "80-80"} {
		if _, err := ParseKeyRange(bad); err == nil {
			t.Errorf("ParseKeyRange(%q) accepted", bad)
		}
	}
	if got := (KeyRange{Start: 0x40 << 56, End: 0x80 << 56}).String(); got != "40-80" {
		t.Errorf("String() = %q", got)
	}
}

func shards(names ...string) []Shard {
	var out []Shard
	for i, n := range names {
		r, err := ParseKeyRange(n)
		if err != nil {
			panic(err)
		}
		out = append(out, Shard{Name: n, Range: r, Cluster: fmt.Sprint("c", i)})
	}
	return out
}

func TestNewValidates(t *testing.T) {
	if _, err := New(shards("-80", "80-")); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string][]Shard{
		"gap":      shards("-40", "80-"),
		"overlap":  shards("-80", "40-"),
		"no start": shards("40-"),
		"no end":   shards("-80"),
		"empty":    nil,
	} {
		if _, err := New(s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLookup(t *testing.T) {
	topo, err := New(shards("80-c0", "-40", "c0-", "40-80"))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[uint64]string{
		0: "-40", 0x3fffffffffffffff: "-40", 0x4000000000000000: "40-80",
		0x8000000000000000: "80-c0", 0xc000000000000000: "c0-", 0xffffffffffffffff: "c0-",
	} {
		if got := topo.Shard(vindex.KeyspaceID(id)).Name; got != want {
			t.Errorf("Shard(%#x) = %s, want %s", id, got, want)
		}
	}
}

// TestModLayout: with Even(n) ranges, mod places key k on shard k mod n.
func TestModLayout(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 7, 8} {
		var s []Shard
		for i, r := range Even(n) {
			s = append(s, Shard{Name: fmt.Sprint(i), Range: r})
		}
		topo, err := New(s)
		if err != nil {
			t.Fatalf("Even(%d): %v", n, err)
		}
		for k := int64(-20); k < 100; k++ {
			id, _ := vindex.Mod{N: uint64(n)}.Map(vindex.Int, vindex.IntValue(k))
			want := fmt.Sprint(((k % int64(n)) + int64(n)) % int64(n))
			if got := topo.Shard(id).Name; got != want {
				t.Fatalf("n=%d key %d on shard %s, want %s", n, k, got, want)
			}
		}
	}
}

// TestHashSpreadsSequentialIDs: sequential order ids spread evenly over
// four equal shards.
func TestHashSpreadsSequentialIDs(t *testing.T) {
	topo, _ := New(shards("-40", "40-80", "80-c0", "c0-"))
	count := map[string]int{}
	const n = 100000
	for k := int64(1); k <= n; k++ {
		id, _ := vindex.Hash{}.Map(vindex.Int, vindex.IntValue(k))
		count[topo.Shard(id).Name]++
	}
	for name, c := range count {
		if c < n/4*98/100 || c > n/4*102/100 {
			t.Errorf("shard %s holds %d of %d sequential keys", name, c, n)
		}
	}
}
