package topo

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/courier-proxy/courier/router/vindex"
)

// KeyRange is [Start, End) of the key space; End 0 means the end of the
// space (2^64).
type KeyRange struct {
	Start, End vindex.KeyspaceID
}

// Contains reports whether id is in the range.
func (r KeyRange) Contains(id vindex.KeyspaceID) bool {
	return id >= r.Start && (r.End == 0 || id < r.End)
}

// String is the range's Vitess-style name.
func (r KeyRange) String() string {
	return side(r.Start) + "-" + side(r.End)
}

func side(id vindex.KeyspaceID) string {
	if id == 0 {
		return ""
	}
	s := fmt.Sprintf("%016x", uint64(id))
	s = strings.TrimRight(s, "0")
	if len(s)%2 == 1 {
		s += "0"
	}
	return s
}

// ParseKeyRange reads a Vitess-style range name: "-80", "80-", "40-80",
// "-" (the whole space).
func ParseKeyRange(name string) (KeyRange, error) {
	lo, hi, ok := strings.Cut(name, "-")
	if !ok {
		return KeyRange{}, fmt.Errorf("key range %q: want START-END in hex, e.g. \"-80\" or \"80-\"", name)
	}
	start, err := parseSide(lo)
	if err != nil {
		return KeyRange{}, fmt.Errorf("key range %q: %w", name, err)
	}
	end, err := parseSide(hi)
	if err != nil {
		return KeyRange{}, fmt.Errorf("key range %q: %w", name, err)
	}
	r := KeyRange{Start: start, End: end}
	if r.End != 0 && r.End <= r.Start {
		return KeyRange{}, fmt.Errorf("key range %q: end is not after start", name)
	}
	return r, nil
}

func parseSide(s string) (vindex.KeyspaceID, error) {
	if s == "" {
		return 0, nil
	}
	if len(s) > 16 || len(s)%2 == 1 {
		return 0, fmt.Errorf("%q must be 2 to 16 hex digits, an even count", s)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not hexadecimal", s)
	}
	var id uint64
	for i := range 8 {
		id <<= 8
		if i < len(b) {
			id |= uint64(b[i])
		}
	}
	return vindex.KeyspaceID(id), nil
}

// Shard is one shard: its name, its key range and the cluster that holds
// its data.
type Shard struct {
	Name    string
	Range   KeyRange
	Cluster string
}

// Topology is a set of shards that cover the key space exactly once.
type Topology struct {
	shards []Shard // sorted by Range.Start
}

// New checks that the shards cover the whole key space without gaps or
// overlaps and returns the topology.
func New(shards []Shard) (*Topology, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("no shards")
	}
	s := slices.Clone(shards)
	slices.SortFunc(s, func(a, b Shard) int {
		switch {
		case a.Range.Start < b.Range.Start:
			return -1
		case a.Range.Start > b.Range.Start:
			return 1
		}
		return 0
	})
	if s[0].Range.Start != 0 {
		return nil, fmt.Errorf("no shard covers the start of the key space (first is %s %s)", s[0].Name, s[0].Range)
	}
	for i := 1; i < len(s); i++ {
		prev, cur := s[i-1].Range, s[i].Range
		switch {
		case prev.End == 0 || prev.End > cur.Start:
			return nil, fmt.Errorf("shards %s (%s) and %s (%s) overlap", s[i-1].Name, prev, s[i].Name, cur)
		case prev.End < cur.Start:
			return nil, fmt.Errorf("no shard covers %s-%s, between %s and %s",
				side(prev.End), side(cur.Start), s[i-1].Name, s[i].Name)
		}
	}
	if last := s[len(s)-1]; last.Range.End != 0 {
		return nil, fmt.Errorf("no shard covers the end of the key space (last is %s %s)", last.Name, last.Range)
	}
	return &Topology{shards: s}, nil
}

// Even returns n ranges splitting the key space equally (as a mod layout
// expects).
func Even(n int) []KeyRange {
	out := make([]KeyRange, n)
	for i := range n {
		out[i] = KeyRange{Start: vindex.RangeStart(uint64(i), uint64(n)), End: vindex.RangeStart(uint64(i+1), uint64(n))}
	}
	return out
}

// Shards returns the shards in key order.
func (t *Topology) Shards() []Shard { return t.shards }

// Shard returns the shard that owns id.
func (t *Topology) Shard(id vindex.KeyspaceID) *Shard { return &t.shards[t.Index(id)] }

// Index returns the position (in Shards) of the shard that owns id.
func (t *Topology) Index(id vindex.KeyspaceID) int {
	i, _ := slices.BinarySearchFunc(t.shards, id, func(s Shard, id vindex.KeyspaceID) int {
		if s.Range.Start <= id {
			return -1
		}
		return 1
	})
	return i - 1
}
