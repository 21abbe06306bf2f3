package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"vitess.io/vitess/go/sqltypes"

	"github.com/courier-proxy/courier/router/vindex"
	"github.com/courier-proxy/courier/sqlerr"
)

func row(cells ...string) *SQL {
	parts := []string{"("}
	var holes []Hole
	for i, c := range cells {
		if i > 0 {
			parts[len(parts)-1] += ", "
		}
		if strings.HasPrefix(c, ":") {
			var n int
			fmt.Sscan(c[1:], &n)
			holes = append(holes, Hole{Arg: n})
			parts = append(parts, "")
			continue
		}
		parts[len(parts)-1] += c
	}
	parts[len(parts)-1] += ")"
	return NewSQL(parts, holes)
}

func TestInsert(t *testing.T) {
	ks := testKeyspace(t)
	keys := keysOnDistinctShards(ks, 2)
	a, b := keys[0], keys[1]
	ins := func() *Insert {
		return &Insert{Keyspace: ks, Vindex: hashInt, Table: "orders", Prefix: "insert into orders (order_id, n) values ",
			Rows: []*SQL{row(":0", "'x'"), row(":1", "'y'")}, Keys: []int{0, 1}, InsertID: -1}
	}
	t.Run("rows on two shards: one statement each", func(t *testing.T) {
		f := newFake()
		f.on(clusterOf(ks, a), fmt.Sprintf("insert into orders (order_id, n) values (%d, 'x')", a), &reply{ok: Result{Affected: 1}})
		f.on(clusterOf(ks, b), fmt.Sprintf("insert into orders (order_id, n) values (%d, 'y')", b), &reply{ok: Result{Affected: 1}})
		w := &recorder{}
		if err := ins().Execute(context.Background(), f, bindInts(a, b), w); err != nil {
			t.Fatal(err)
		}
		want := []string{
			fmt.Sprintf("exec %d: insert into orders (order_id, n) values (%d, 'x')", clusterOf(ks, a), a),
			fmt.Sprintf("exec %d: insert into orders (order_id, n) values (%d, 'y')", clusterOf(ks, b), b),
		}
		if !slices.Equal(f.calls, want) || w.ok == nil || w.ok.Affected != 2 {
			t.Fatalf("calls %v, ok %+v", f.calls, w.ok)
		}
	})
	t.Run("rows on one shard: the client's statement", func(t *testing.T) {
		f := newFake()
		if err := ins().Execute(context.Background(), f, bindInts(a, a), &recorder{}); err != nil {
			t.Fatal(err)
		}
		if want := []string{fmt.Sprintf("stream %d: <client statement>", clusterOf(ks, a))}; !slices.Equal(f.calls, want) {
			t.Fatalf("calls %v", f.calls)
		}
	})
	t.Run("keys from a sequence", func(t *testing.T) {
		f := newFake()
		seq := &SequenceFill{Seq: &Sequence{DB: "shop", Table: "orders_seq", Source: "orders", Key: "order_id"}, Slots: []int{0, 1}, First: 2}
		in := ins()
		in.InsertID = 2
		bv := &Bind{Vals: []sqltypes.Value{sqltypes.NULL, sqltypes.NewInt64(a)}}
		if err := (&Seq{Steps: []Primitive{seq, in}}).Execute(context.Background(), f, bv, &recorder{}); err != nil {
			t.Fatal(err)
		}
		if f.calls[0] != "ids shop.orders_seq 1" || len(f.calls) < 2 {
			t.Fatalf("calls %v", f.calls)
		}
		if !strings.Contains(strings.Join(f.calls, "\n"), "values (1000, 'x')") {
			t.Fatalf("the sequence's id was not used: %v", f.calls)
		}
	})
	t.Run("a NULL key without a sequence", func(t *testing.T) {
		err := ins().Execute(context.Background(), newFake(), &Bind{Vals: []sqltypes.Value{sqltypes.NULL, sqltypes.NULL}}, &recorder{})
		var se *sqlerr.Error
		if !errors.As(err, &se) || se.Num != sqlerr.ErrWrongArguments {
			t.Fatalf("err %v", err)
		}
	})
}

func TestWriteAll(t *testing.T) {
	ks := testKeyspace(t)
	f := newFake()
	f.on(1, "", &reply{ok: Result{Affected: 3}})
	w := &recorder{}
	if err := (&WriteAll{Keyspace: ks, Table: "cities"}).Execute(context.Background(), f, bindInts(), w); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 4 || w.ok.Affected != 3 {
		t.Fatalf("calls %v, ok %+v", f.calls, w.ok)
	}
	f = newFake()
	if err := (&WriteAll{Keyspace: ks, Clusters: []int{0, 1, 2, 3, 4}}).Execute(context.Background(), f, bindInts(), &recorder{}); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 5 || f.calls[0] != "exec 0: <client statement>" {
		t.Fatalf("calls %v", f.calls)
	}
}

func TestIndexWrite(t *testing.T) {
	ks := testKeyspace(t)
	ix := &Index{Name: "orders.user_id", Table: "`orders_by_user_id`", Column: "user_id", Key: "order_id",
		ValueType: vindex.Int, Keyspace: ks, Vindex: Vindex{Func: vindex.Hash{}, Type: vindex.Int}}
	iw := &IndexWrite{Index: ix, Entries: [][2]int{{0, 1}, {2, 3}}, Src: "`orders`", Keyspace: ks, Vindex: hashInt}
	f := newFake()
	bv := &Bind{Vals: []sqltypes.Value{sqltypes.NewInt64(7), sqltypes.NewInt64(70), sqltypes.NULL, sqltypes.NewInt64(71)}}
	if err := iw.Execute(context.Background(), f, bv, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprintf("internal %d: INSERT IGNORE INTO `orders_by_user_id` (`user_id`, `order_id`) VALUES (7, 70)", clusterOf(ks, 7))}
	if !slices.Equal(f.calls, want) {
		t.Fatalf("calls %v, want %v (a NULL value has no entry)", f.calls, want)
	}
}

func TestUniqueIndexWrite(t *testing.T) {
	ks := testKeyspace(t)
	ix := &Index{Name: "orders.code", Table: "`orders_by_code`", Column: "code", Key: "order_id", ValueType: vindex.Bytes,
		Cluster: 0, Unique: true}
	iw := &IndexWrite{Index: ix, Entries: [][2]int{{0, 1}}, Src: "`orders`", Keyspace: ks, Vindex: hashInt}
	bv := &Bind{Vals: []sqltypes.Value{sqltypes.NewVarChar("A1"), sqltypes.NewInt64(5)}}
	dup := &sqlerr.Error{Num: sqlerr.ErrDupEntry, State: "23000", Message: "Duplicate entry"}
	insert := "INSERT INTO `orders_by_code` (`code`, `order_id`) VALUES ('A1', 5)"
	read := "SELECT `order_id` FROM `orders_by_code` WHERE `code` = 'A1'"
	check := "SELECT 1 FROM `orders` WHERE `order_id` = '9' AND `code` = 'A1'"
	t.Run("a live duplicate is refused", func(t *testing.T) {
		f := newFake().on(0, insert, &reply{err: dup}).on(0, read, &reply{rows: rows("9")}).on(clusterOf(ks, 9), check, &reply{rows: rows("1")})
		err := iw.Execute(context.Background(), f, bv, nil)
		var se *sqlerr.Error
		if !errors.As(err, &se) || se.Num != sqlerr.ErrDupEntry {
			t.Fatalf("err %v, calls %v", err, f.calls)
		}
	})
	t.Run("an orphan is taken over", func(t *testing.T) {
		f := newFake().on(0, insert, &reply{err: dup}).on(0, read, &reply{rows: rows("9")})
		if err := iw.Execute(context.Background(), f, bv, nil); err != nil {
			t.Fatal(err)
		}
		last := f.calls[len(f.calls)-1]
		if last != "internal 0: UPDATE `orders_by_code` SET `order_id` = 5 WHERE `code` = 'A1' AND `order_id` = '9'" {
			t.Fatalf("calls %v", f.calls)
		}
	})
}

func TestLookup(t *testing.T) {
	ks := testKeyspace(t)
	ix := &Index{Name: "orders.user_id", Table: "`orders_by_user_id`", Column: "user_id", Key: "order_id",
		ValueType: vindex.Int, Keyspace: ks, Vindex: Vindex{Func: vindex.Hash{}, Type: vindex.Int}}
	keys := keysOnDistinctShards(ks, 2)
	read := fmt.Sprintf("SELECT `order_id` FROM `orders_by_user_id` WHERE `user_id` IN (7)")
	l := &Lookup{Index: ix, Values: []int{0}, Source: &Route{Op: Scatter, Keyspace: ks, Vindex: hashInt, Read: true}}
	f := newFake().on(clusterOf(ks, 7), read, &reply{rows: rows(fmt.Sprint(keys[1]), fmt.Sprint(keys[0]))})
	if err := l.Execute(context.Background(), f, bindInts(7), &recorder{}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("internal %d: %s", clusterOf(ks, 7), read),
		fmt.Sprintf("stream-read %d: <client statement>", clusterOf(ks, keys[0])),
		fmt.Sprintf("stream-read %d: <client statement>", clusterOf(ks, keys[1])),
	}
	if !slices.Equal(f.calls, want) {
		t.Fatalf("calls:\n%s\nwant:\n%s", strings.Join(f.calls, "\n"), strings.Join(want, "\n"))
	}
	if s := f.sess.Stats; s.Route != "lookup" || s.Shards != 2 || s.Index != "orders.user_id" || s.LookupKeys != 2 {
		t.Fatalf("stats %+v", s)
	}
	// No entry: one shard answers (empty), for the result's columns.
	f = newFake()
	if err := l.Execute(context.Background(), f, bindInts(7), &recorder{}); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 2 || f.calls[1] != "stream-read 1: <client statement>" {
		t.Fatalf("calls %v", f.calls)
	}
	// A value that cannot be looked up exactly: every shard.
	f = newFake()
	strIx := *ix
	strIx.ValueType = vindex.Bytes
	ls := &Lookup{Index: &strIx, Values: []int{0}, Source: l.Source}
	if err := ls.Execute(context.Background(), f, bindInts(7), &recorder{}); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 4 {
		t.Fatalf("calls %v", f.calls)
	}
}

func TestAppendValue(t *testing.T) {
	tests := []struct {
		v    sqltypes.Value
		sess *Session
		want string
	}{
		{sqltypes.NewInt64(-5), nil, "-5"},
		{sqltypes.NULL, nil, "NULL"},
		{sqltypes.NewVarChar(`it's a \ test`), nil, `'it''s a \\ test'`},
		{sqltypes.NewVarChar(`it's a \ test`), &Session{Mode: 1}, `'it''s a \ test'`}, // NO_BACKSLASH_ESCAPES
		{sqltypes.NewVarChar("\xbf'"), &Session{Mode: 4, Charset: "gbk"}, "_gbk X'bf27'"},
		{sqltypes.MakeTrusted(sqltypes.VarBinary, []byte{0, 1}), nil, "X'0001'"},
		{sqltypes.MakeTrusted(sqltypes.Datetime, []byte("2026-01-02 03:04:05")), nil, "'2026-01-02 03:04:05'"},
		{sqltypes.MakeTrusted(sqltypes.Decimal, []byte("1.50")), nil, "1.50"},
	}
	for _, tt := range tests {
		if got := string(AppendValue(nil, tt.v, tt.sess)); got != tt.want {
			t.Errorf("AppendValue(%v) = %s, want %s", tt.v, got, tt.want)
		}
	}
}
