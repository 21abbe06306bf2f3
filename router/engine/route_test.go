package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"vitess.io/vitess/go/sqltypes"

	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
	"github.com/courier-proxy/courier/sqlerr"
)

// testKeyspace is four shards (-40, 40-80, 80-c0, c0-) on clusters 1 to
// 4; cluster 0 is the default cluster.
func testKeyspace(t testing.TB) *Keyspace {
	t.Helper()
	var shards []topo.Shard
	for i, r := range topo.Even(4) {
		shards = append(shards, topo.Shard{Name: r.String(), Range: r, Cluster: fmt.Sprint("s", i)})
	}
	tp, err := topo.New(shards)
	if err != nil {
		t.Fatal(err)
	}
	return &Keyspace{Topo: tp, Clusters: []int{1, 2, 3, 4}}
}

var hashInt = Vindex{Func: vindex.Hash{}, Type: vindex.Int}

// clusterOf is the cluster holding integer key k.
func clusterOf(ks *Keyspace, k int64) int {
	i, _ := ks.shard(hashInt, sqltypes.NewInt64(k))
	return ks.Clusters[i]
}

// keysOnDistinctShards returns n keys that live on n different shards,
// ordered by shard.
func keysOnDistinctShards(ks *Keyspace, n int) []int64 {
	var keys []int64
	seen := map[int]bool{}
	for k := int64(1); len(keys) < n; k++ {
		if c := clusterOf(ks, k); !seen[c] {
			seen[c] = true
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b int64) int { return clusterOf(ks, a) - clusterOf(ks, b) })
	return keys
}

func bindInts(vals ...int64) *Bind {
	bv := &Bind{}
	bv.Reset(len(vals))
	for i, v := range vals {
		bv.Vals[i] = sqltypes.NewInt64(v)
	}
	return bv
}

func TestRoute(t *testing.T) {
	ks := testKeyspace(t)
	keys := keysOnDistinctShards(ks, 2)
	a, b := keys[0], keys[1]
	inList := NewSQL([]string{"select * from orders where order_id in (", ")"}, []Hole{{List: []int{0, 1}}})
	tests := []struct {
		name  string
		route *Route
		bv    *Bind
		calls []string
		stats Stats
	}{
		{"fixed", &Route{Op: Fixed, Cluster: 0, Read: true}, bindInts(),
			[]string{"stream-read 0: <client statement>"}, Stats{}},
		{"one key: the client's statement", &Route{Op: ByKey, Keyspace: ks, Vindex: hashInt, Keys: []int{0}, Read: true}, bindInts(a),
			[]string{fmt.Sprintf("stream-read %d: <client statement>", clusterOf(ks, a))}, Stats{Route: "key", Shards: 1}},
		{"IN list split per shard", &Route{Op: ByKey, Keyspace: ks, Vindex: hashInt, Keys: []int{0, 1}, Read: true, Query: inList, InList: true},
			bindInts(a, b), []string{
				fmt.Sprintf("stream-read %d: select * from orders where order_id in (%d)", clusterOf(ks, a), a),
				fmt.Sprintf("stream-read %d: select * from orders where order_id in (%d)", clusterOf(ks, b), b)},
			Stats{Route: "key", Shards: 2}},
		{"IN list on one shard: the client's statement", &Route{Op: ByKey, Keyspace: ks, Vindex: hashInt, Keys: []int{0, 1}, Read: true, Query: inList, InList: true},
			bindInts(a, a), []string{fmt.Sprintf("stream-read %d: <client statement>", clusterOf(ks, a))}, Stats{Route: "key", Shards: 1}},
		{"no key can match: the first shard", &Route{Op: ByKey, Keyspace: ks, Vindex: hashInt, Keys: []int{0}, Read: true},
			&Bind{Vals: []sqltypes.Value{sqltypes.NULL}}, []string{"stream-read 1: <client statement>"}, Stats{Route: "key", Shards: 1}},
		{"scatter", &Route{Op: Scatter, Keyspace: ks, Read: true}, bindInts(),
			[]string{"stream-read 1: <client statement>", "stream-read 2: <client statement>", "stream-read 3: <client statement>", "stream-read 4: <client statement>"},
			Stats{Route: "scatter", Shards: 4}},
		{"a fractional decimal key scatters", &Route{Op: ByKey, Keyspace: ks, Vindex: hashInt, Keys: []int{0}, Read: true},
			&Bind{Vals: []sqltypes.Value{sqltypes.MakeTrusted(sqltypes.Decimal, []byte("4.5"))}},
			[]string{"stream-read 1: <client statement>", "stream-read 2: <client statement>", "stream-read 3: <client statement>", "stream-read 4: <client statement>"},
			Stats{Route: "scatter", Shards: 4}},
		{"a whole decimal key is its integer", &Route{Op: ByKey, Keyspace: ks, Vindex: hashInt, Keys: []int{0}, Read: true},
			&Bind{Vals: []sqltypes.Value{sqltypes.MakeTrusted(sqltypes.Decimal, []byte("4.0"))}},
			[]string{"stream-read 2: <client statement>"}, Stats{Route: "key", Shards: 1}},
		{"a whole double key (as mysql2 sends numbers) is its integer", &Route{Op: ByKey, Keyspace: ks, Vindex: hashInt, Keys: []int{0}, Read: true},
			&Bind{Vals: []sqltypes.Value{sqltypes.MakeTrusted(sqltypes.Float64, []byte("4"))}},
			[]string{"stream-read 2: <client statement>"}, Stats{Route: "key", Shards: 1}},
		{"a double of 2^53 or more scatters", &Route{Op: ByKey, Keyspace: ks, Vindex: hashInt, Keys: []int{0}, Read: true},
			&Bind{Vals: []sqltypes.Value{sqltypes.MakeTrusted(sqltypes.Float64, []byte("9007199254740992"))}},
			[]string{"stream-read 1: <client statement>", "stream-read 2: <client statement>", "stream-read 3: <client statement>", "stream-read 4: <client statement>"},
			Stats{Route: "scatter", Shards: 4}},
		{"any shard: the first", &Route{Op: AnyShard, Keyspace: ks, Read: true}, bindInts(), []string{"stream-read 1: <client statement>"}, Stats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			w := &recorder{}
			if err := tt.route.Execute(context.Background(), f, tt.bv, w); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.calls, tt.calls) {
				t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(f.calls, "\n"), strings.Join(tt.calls, "\n"))
			}
			if f.sess.Stats != tt.stats {
				t.Errorf("stats %+v, want %+v", f.sess.Stats, tt.stats)
			}
		})
	}
}

func TestRouteWritesAddUp(t *testing.T) {
	ks := testKeyspace(t)
	f := newFake()
	for c := 1; c <= 4; c++ {
		f.on(c, "", &reply{ok: Result{Affected: uint64(c), Warnings: 1}})
	}
	w := &recorder{}
	r := &Route{Op: Scatter, Keyspace: ks, Write: true}
	if err := r.Execute(context.Background(), f, bindInts(), w); err != nil {
		t.Fatal(err)
	}
	if w.ok == nil || w.ok.Affected != 10 || w.ok.Warnings != 4 {
		t.Fatalf("OK = %+v", w.ok)
	}
	if len(f.calls) != 4 || !strings.HasPrefix(f.calls[0], "exec 1:") {
		t.Fatalf("calls %v", f.calls)
	}
}

func TestRouteAnyShardPrefersHeld(t *testing.T) {
	ks := testKeyspace(t)
	f := newFake()
	f.sess.Held = []int{0, 3}
	if err := (&Route{Op: AnyShard, Keyspace: ks, Read: true}).Execute(context.Background(), f, bindInts(), &recorder{}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"stream-read 3: <client statement>"}; !slices.Equal(f.calls, want) {
		t.Fatalf("calls %v, want %v", f.calls, want)
	}
}

func TestRouteSameShard(t *testing.T) {
	ks := testKeyspace(t)
	keys := keysOnDistinctShards(ks, 2)
	r := &Route{Op: ByKey, Keyspace: ks, Vindex: hashInt, Keys: []int{0, 1}, SameShard: true, Read: true}
	f := newFake()
	if err := r.Execute(context.Background(), f, bindInts(keys[0], keys[0]), &recorder{}); err != nil {
		t.Fatal(err)
	}
	err := r.Execute(context.Background(), newFake(), bindInts(keys[0], keys[1]), &recorder{})
	var se *sqlerr.Error
	if !errors.As(err, &se) || se.Num != sqlerr.ErrNotSupported {
		t.Fatalf("two shards: %v, want 1235", err)
	}
}

func TestRouteFallback(t *testing.T) {
	ks := testKeyspace(t)
	fb := &Refuse{Err: errors.New("fallback ran")}
	r := &Route{Op: ByKey, Keyspace: ks, Vindex: hashInt, Keys: []int{0}, Read: true, Fallback: fb}
	err := r.Execute(context.Background(), newFake(), &Bind{Vals: []sqltypes.Value{sqltypes.MakeTrusted(sqltypes.Float64, []byte("1.5e0"))}}, &recorder{})
	if err == nil || err.Error() != "fallback ran" {
		t.Fatalf("err %v", err)
	}
	if got := Format(r); !strings.Contains(got, "Refuse: fallback ran") {
		t.Fatalf("plan does not show the fallback:\n%s", got)
	}
}

func TestRouteStreams(t *testing.T) {
	ks := testKeyspace(t)
	f := newFake()
	cols := []Column{col("order_id", mysql.MYSQL_TYPE_LONGLONG)}
	f.on(1, "select 1", &reply{cols: cols, rows: rows("1")})
	r := &Route{Op: Scatter, Keyspace: ks, Read: true, Query: Text("select 1"), Rewritten: true}
	streams, err := r.Streams(context.Background(), f, bindInts())
	if err != nil {
		t.Fatal(err)
	}
	if len(streams) != 4 || len(f.calls) != 4 || f.calls[3] != "open 4: select 1" {
		t.Fatalf("%d streams, calls %v", len(streams), f.calls)
	}
	if row, _ := streams[0].Next(); string(row[0]) != "1" {
		t.Fatalf("row %v", row)
	}
}
