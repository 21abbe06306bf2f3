package engine

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"vitess.io/vitess/go/sqltypes"
)

func TestLimit(t *testing.T) {
	const q = "SELECT id FROM orders ORDER BY id LIMIT 3"
	cols := []Column{col("id", mysql.MYSQL_TYPE_LONG)}
	for _, tt := range []struct {
		name          string
		count, offset Count
		bind          []sqltypes.Value
		want          []string
		upper         string // the shards' LIMIT set in slot 2
		warnings      uint16
	}{
		{"count", Const(2), Const(0), nil, []string{"1", "2"}, "2", 0},
		{"offset", Const(2), Const(1), nil, []string{"2", "3"}, "3", 0},
		{"offset past the end", Const(2), Const(9), nil, nil, "11", 0},
		{"zero", Const(0), Const(0), nil, nil, "0", 0},
		{"more than there is", Const(10), Const(0), nil, []string{"1", "2", "3", "4"}, "10", 0},
		{"bound", Count{Slot: 0}, Count{Slot: 1}, []sqltypes.Value{sqltypes.NewInt64(1), sqltypes.NewInt64(2)}, []string{"3"}, "3", 0},
		// MariaDB reads a prepared statement's LIMIT parameter as unsigned:
		// -1 is no limit, and as an offset skips everything.
		{"negative count", Count{Slot: 0}, Const(1), []sqltypes.Value{sqltypes.NewInt64(-1)}, []string{"2", "3", "4"}, "9223372036854775807", 0},
		{"negative offset", Const(2), Count{Slot: 0}, []sqltypes.Value{sqltypes.NewInt64(-1)}, nil, "9223372036854775807", 0},
		{"string count", Count{Slot: 0}, Const(0), []sqltypes.Value{sqltypes.NewVarChar("x")}, nil, "0", 1},
		{"null count", Count{Slot: 0}, Const(0), []sqltypes.Value{sqltypes.NULL}, nil, "0", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake().on(1, q, &reply{cols: cols, rows: rows("1", "2", "3")}).on(2, q, &reply{cols: cols, rows: rows("4")})
			bv := &Bind{Vals: tt.bind}
			l := &Limit{Input: scanOf(q, 1, 2), Count: tt.count, Offset: tt.offset, Upper: 2}
			w, err := execRows(t, l, f, bv)
			if err != nil {
				t.Fatal(err)
			}
			expectRows(t, f, w, []string{"stream-read 1: " + q, "stream-read 2: " + q}, tt.want)
			if got := bv.Value(2).ToString(); got != tt.upper {
				t.Errorf("upper slot %s, want %s", got, tt.upper)
			}
			if w.ends != 1 || w.warnings != tt.warnings {
				t.Errorf("End written %d times with %d warnings, want once with %d", w.ends, w.warnings, tt.warnings)
			}
		})
	}
}

// TestLimitStopsInput checks that the input stops reading once the limit
// is reached: a MergeSort reads no row past it (the shard's error after
// its first rows is never seen).
func TestLimitStopsInput(t *testing.T) {
	const q = "SELECT id FROM orders ORDER BY id LIMIT 2"
	cols := []Column{col("id", mysql.MYSQL_TYPE_LONG)}
	boom := errors.New("read past the limit")
	f := newFake().on(0, q, &reply{cols: cols, rows: rows("1", "3"), err: boom}).on(1, q, &reply{cols: cols, rows: rows("2")})
	l := &Limit{Input: &MergeSort{Input: scanOf(q, 0, 1), Keys: []SortKey{{Col: 0}}}, Count: Const(2), Offset: Const(0), Upper: -1}
	w, err := execRows(t, l, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	expectRows(t, f, w, []string{"open 0: " + q, "open 1: " + q}, []string{"1", "2"})
	if w.ends != 1 {
		t.Errorf("End written %d times", w.ends)
	}
}

// TestLimitBufferedInput checks End is written once, with the warnings of
// a buffering input that the limit stopped.
func TestLimitBufferedInput(t *testing.T) {
	in := &bufferedInput{cols: []Column{col("n", mysql.MYSQL_TYPE_LONG)}, rows: rows("1", "2", "3"), warnings: 2}
	for _, tt := range []struct {
		name  string
		count int64
		want  []string
	}{{"stopped", 1, []string{"1"}}, {"not stopped", 5, []string{"1", "2", "3"}}} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			w, err := execRows(t, &Limit{Input: in, Count: Const(tt.count), Offset: Const(0), Upper: -1}, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			expectRows(t, f, w, nil, tt.want)
			if w.ends != 1 || w.warnings != 2 {
				t.Errorf("End written %d times with %d warnings", w.ends, w.warnings)
			}
		})
	}
}

// TestNestedLimits checks that a stop issued by the outer Limit passes
// through the inner one.
func TestNestedLimits(t *testing.T) {
	in := &bufferedInput{cols: []Column{col("n", mysql.MYSQL_TYPE_LONG)}, rows: rows("1", "2", "3", "4")}
	inner := &Limit{Input: in, Count: Const(3), Offset: Const(0), Upper: -1}
	outer := &Limit{Input: inner, Count: Const(1), Offset: Const(1), Upper: -1}
	f := newFake()
	w, err := execRows(t, outer, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	expectRows(t, f, w, nil, []string{"2"})
	if w.ends != 1 {
		t.Errorf("End written %d times", w.ends)
	}
}

func TestLimitErrorsAndOK(t *testing.T) {
	boom := errors.New("boom")
	f := newFake().on(0, "SELECT 1", &reply{err: boom})
	if _, err := execRows(t, &Limit{Input: scanOf("SELECT 1", 0), Count: Const(1), Upper: -1}, f, nil); !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
	f = newFake().on(0, "DO 1", &reply{ok: Result{Affected: 1}})
	w, err := execRows(t, &Limit{Input: scanOf("DO 1", 0), Count: Const(1), Upper: -1}, f, nil)
	if err != nil || w.ok == nil || w.ends != 0 {
		t.Fatalf("OK %v, ends %d, error %v", w.ok, w.ends, err)
	}
}

// TestLimitValue pins how MariaDB 10.11 reads a LIMIT parameter of a
// prepared statement (COM_STMT_EXECUTE), checked against the server.
func TestLimitValue(t *testing.T) {
	dec := func(s string) sqltypes.Value { return sqltypes.MakeTrusted(sqltypes.Decimal, []byte(s)) }
	for _, tt := range []struct {
		name string
		v    sqltypes.Value
		n    int64
		warn uint16
	}{
		{"int", sqltypes.NewInt64(3), 3, 0},
		{"negative", sqltypes.NewInt64(-1), math.MaxInt64, 0},
		{"unsigned max", sqltypes.NewUint64(math.MaxUint64), math.MaxInt64, 0},
		{"unsigned", sqltypes.NewUint64(7), 7, 0},
		{"null", sqltypes.NULL, 0, 0},
		{"float half to even", sqltypes.NewFloat64(2.5), 2, 0},
		{"float up", sqltypes.NewFloat64(1.5), 2, 0},
		{"float minus zero", sqltypes.NewFloat64(-0.4), 0, 0},
		{"float negative", sqltypes.NewFloat64(-0.6), math.MaxInt64, 0},
		{"float huge", sqltypes.NewFloat64(1e30), math.MaxInt64, 0},
		{"decimal half up", dec("2.5"), 3, 0},
		{"decimal negative", dec("-3"), math.MaxInt64, 0},
		{"string", sqltypes.NewVarChar("2"), 2, 0},
		{"string fraction", sqltypes.NewVarChar("2.7"), 2, 1},
		{"string spaces", sqltypes.NewVarChar(" 3"), 3, 0},
		{"string trailing space", sqltypes.NewVarChar(" 3 "), 3, 1},
		{"string junk", sqltypes.NewVarChar("3x"), 3, 1},
		{"string none", sqltypes.NewVarChar("x"), 0, 1},
		{"string empty", sqltypes.NewVarChar(""), 0, 1},
		{"string negative", sqltypes.NewVarChar("-1"), math.MaxInt64, 0},
		{"string minus zero", sqltypes.NewVarChar("  -0"), 0, 0},
		{"string plus", sqltypes.NewVarChar("+2"), 2, 0},
		{"string exponent", sqltypes.NewVarChar("1e1"), 1, 1},
		{"string overflow", sqltypes.NewVarChar("99999999999999999999"), math.MaxInt64, 1},
		{"binary", sqltypes.MakeTrusted(sqltypes.VarBinary, []byte("2")), 2, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, warn := limitValue(tt.v)
			if n != tt.n || warn != tt.warn {
				t.Errorf("limitValue(%v) = %d, %d warnings; want %d, %d", tt.v, n, warn, tt.n, tt.warn)
			}
		})
	}
}

func TestLimitString(t *testing.T) {
	l := &Limit{Input: scanOf("q", 0), Count: Count{Slot: 3}, Offset: Const(5), Upper: -1}
	if got := Format(l); got != "Limit :3 offset 5\n  Scan\n" {
		t.Errorf("Format = %q", got)
	}
	if !slices.Equal(l.Inputs(), []Primitive{l.Input}) {
		t.Error("Inputs")
	}
	if satAdd(math.MaxInt64, 1) != math.MaxInt64 || addWarnings(math.MaxUint16, 1) != math.MaxUint16 {
		t.Error("saturation")
	}
}
