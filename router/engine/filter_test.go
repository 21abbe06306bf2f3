package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"vitess.io/vitess/go/sqltypes"
)

func TestFilter(t *testing.T) {
	// Folded groups (HAVING is evaluated over an Aggregate's rows); the
	// last column is hidden.
	const q = "SELECT status, COUNT(*), SUM(total), MIN(name) FROM orders GROUP BY status"
	cols := []Column{col("status", mysql.MYSQL_TYPE_VAR_STRING), col("COUNT(*)", mysql.MYSQL_TYPE_LONGLONG),
		col("SUM(total)", mysql.MYSQL_TYPE_NEWDECIMAL), col("MIN(name)", mysql.MYSQL_TYPE_VAR_STRING)}
	lines := []string{"placed|3|10.50|Émile", "accepted|1|NULL|bob", "delivered|2|0.00|ann", "new|0|-2.5|  12abc"}
	full := map[string]string{}
	for _, l := range lines {
		full[l[:strings.IndexByte(l, '|')]] = l
	}
	n := func(v string) LitExpr { return LitExpr{Val: v, Num: true} }
	s := func(v string) LitExpr { return LitExpr{Val: v} }
	c := func(i int) ColExpr { return ColExpr{Col: Col(i)} }
	h0 := ColExpr{Col: -1}
	for _, tt := range []struct {
		name string
		cond Expr
		bind []sqltypes.Value
		want []string
	}{
		{"count >", CmpExpr{Op: ">", L: c(1), R: n("1")}, nil, []string{"placed", "delivered"}},
		{"decimal =", CmpExpr{Op: "=", L: c(2), R: n("10.5")}, nil, []string{"placed"}},
		{"null is false", CmpExpr{Op: "<>", L: c(2), R: n("99")}, nil, []string{"placed", "delivered", "new"}},
		{"is null", IsNullExpr{E: c(2)}, nil, []string{"accepted"}},
		{"is not null", IsNullExpr{E: c(2), Not: true}, nil, []string{"placed", "delivered", "new"}},
		{"null safe", CmpExpr{Op: "<=>", L: c(2), R: LitExpr{Null: true}}, nil, []string{"accepted"}},
		{"null safe values", CmpExpr{Op: "<=>", L: c(1), R: n("2")}, nil, []string{"delivered"}},
		{"string ci", CmpExpr{Op: "=", L: c(0), R: s("PLACED ")}, nil, []string{"placed"}},
		{"string order", CmpExpr{Op: "<", L: c(0), R: s("d")}, nil, []string{"accepted"}},
		{"hidden accent", CmpExpr{Op: "=", L: h0, R: s("emile")}, nil, []string{"placed"}},
		{"string as number", CmpExpr{Op: ">=", L: h0, R: n("12")}, nil, []string{"new"}},
		{"bound", CmpExpr{Op: "<=", L: c(1), R: ArgExpr{Slot: 0}}, []sqltypes.Value{sqltypes.NewInt64(1)}, []string{"accepted", "new"}},
		{"bound string", CmpExpr{Op: "!=", L: c(0), R: ArgExpr{Slot: 0}}, []sqltypes.Value{sqltypes.NewVarChar("Placed")}, []string{"accepted", "delivered", "new"}},
		{"bound null", CmpExpr{Op: "=", L: c(1), R: ArgExpr{Slot: 5}}, nil, nil},
		{"and", LogicExpr{Op: "and", L: CmpExpr{Op: ">", L: c(1), R: n("0")}, R: CmpExpr{Op: ">", L: c(2), R: n("0")}}, nil, []string{"placed"}},
		{"or", LogicExpr{Op: "OR", L: CmpExpr{Op: "=", L: c(1), R: n("1")}, R: CmpExpr{Op: "<", L: c(2), R: n("0")}}, nil, []string{"accepted", "new"}},
		{"or null", LogicExpr{Op: "or", L: CmpExpr{Op: "=", L: c(2), R: n("1")}, R: CmpExpr{Op: "=", L: c(1), R: n("5")}}, nil, nil},
		{"and null", LogicExpr{Op: "and", L: CmpExpr{Op: ">", L: c(2), R: n("-9")}, R: CmpExpr{Op: ">", L: c(1), R: n("0")}}, nil, []string{"placed", "delivered"}},
		{"xor", LogicExpr{Op: "xor", L: CmpExpr{Op: ">", L: c(1), R: n("1")}, R: CmpExpr{Op: "=", L: c(2), R: n("0")}}, nil, []string{"placed"}},
		{"not", LogicExpr{Op: "not", L: CmpExpr{Op: ">", L: c(1), R: n("1")}}, nil, []string{"accepted", "new"}},
		{"not null", LogicExpr{Op: "not", L: c(2)}, nil, []string{"delivered"}},
		{"arith", CmpExpr{Op: "=", L: ArithExpr{Op: "*", L: c(1), R: n("2")}, R: ArithExpr{Op: "+", L: n("4"), R: n("2")}}, nil, []string{"placed"}},
		{"arith minus", CmpExpr{Op: ">", L: ArithExpr{Op: "-", L: c(2), R: c(1)}, R: n("7")}, nil, []string{"placed"}},
		{"division", CmpExpr{Op: "=", L: ArithExpr{Op: "/", L: c(2), R: c(1)}, R: n("3.5")}, nil, []string{"placed"}},
		{"division by zero", IsNullExpr{E: ArithExpr{Op: "/", L: c(2), R: c(1)}}, nil, []string{"accepted", "new"}},
		{"column truth", c(2), nil, []string{"placed", "new"}},
		{"exponent literal", CmpExpr{Op: "<", L: c(1), R: n("2e0")}, nil, []string{"accepted", "new"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake().on(0, q, &reply{cols: cols, rows: rows(lines...)})
			w, err := execRows(t, &Filter{Input: scanOf(q, 0), Cond: tt.cond, Hidden: 1}, f, &Bind{Vals: tt.bind})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, s := range tt.want {
				want = append(want, full[s])
			}
			expectRows(t, f, w, []string{"stream-read 0: " + q}, want)
		})
	}
}

func TestFilterErrors(t *testing.T) {
	const q = "SELECT name FROM t"
	boom := errors.New("boom")
	for _, tt := range []struct {
		name  string
		cols  []Column
		cond  Expr
		reply *reply
		num   int
	}{
		{"shard error", nil, LitExpr{Val: "1", Num: true}, &reply{err: boom}, -1},
		{"unknown collation", []Column{{Name: "name", Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 224}},
			CmpExpr{Op: "=", L: ColExpr{Col: 0}, R: LitExpr{Val: "a"}}, nil, 1235},
		{"bad column", []Column{col("name", mysql.MYSQL_TYPE_VAR_STRING)}, ColExpr{Col: 3}, nil, 1105},
		{"bad hidden", []Column{col("name", mysql.MYSQL_TYPE_VAR_STRING)}, nil, nil, 1105},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.reply
			if r == nil {
				r = &reply{cols: tt.cols, rows: rows("a")}
			}
			f := newFake().on(0, q, r)
			hidden := 0
			if tt.cond == nil {
				hidden = 2
			}
			_, err := execRows(t, &Filter{Input: scanOf(q, 0), Cond: tt.cond, Hidden: hidden}, f, nil)
			if errnoOf(err) != tt.num {
				t.Fatalf("error %v, want number %d", err, tt.num)
			}
		})
	}
}
