package engine

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestCutAt(t *testing.T) {
	v := []byte("aé€b") // a, é (2 bytes), € (3 bytes), b
	for _, tt := range []struct {
		name    string
		charset uint16
		max     int
		want    int
		num     int
	}{
		{"utf8mb4 inside é", 45, 2, 1, 0},
		{"utf8mb4 after é", 45, 3, 3, 0},
		{"utf8mb3 inside €", 33, 5, 3, 0},
		{"uca1400", 2308, 4, 3, 0},
		{"nopad", 1069, 2, 1, 0},
		{"binary", 63, 2, 2, 0},
		{"latin1", 8, 4, 4, 0},
		{"unknown", 28, 2, 0, 1235}, // gbk
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, err := cutAt(v, tt.max, &Column{Name: "g", Charset: tt.charset})
			if errnoOf(err) != tt.num || err == nil && n != tt.want {
				t.Fatalf("cutAt(%d) = %d, %v; want %d, error %d", tt.max, n, err, tt.want, tt.num)
			}
		})
	}
}

func TestFoldRefusals(t *testing.T) {
	const q = "SELECT SUM(DISTINCT d), d FROM t GROUP BY d"
	cols := []Column{colDef("SUM(DISTINCT d)", mysql.MYSQL_TYPE_DOUBLE, 31, 63), colDef("d", mysql.MYSQL_TYPE_DATE, 0, 63)}
	f := newFake().on(0, q, &reply{cols: cols, rows: rows("20240101|2024-01-01")})
	_, err := execRows(t, &Aggregate{Input: scanOf(q, 0), Folds: []Fold{{Kind: FoldSumDistinct, Args: []Col{-1}}, {Kind: FoldAny}}, Hidden: 1}, f, nil)
	if errnoOf(err) != 1235 {
		t.Fatalf("SUM(DISTINCT date): %v, want 1235", err)
	}
	if got := FoldKind(42).String(); got != "fold(42)" {
		t.Errorf("FoldKind(42) = %s", got)
	}
}

// TestAverageMixed checks an AVG whose sum is exact but whose result is a
// DOUBLE (an AVG over strings), and one over an exact sum of nothing.
func TestAverageMixed(t *testing.T) {
	const q = "SELECT AVG(s), SUM(s), COUNT(s) FROM t"
	cols := []Column{colDef("AVG(s)", mysql.MYSQL_TYPE_DOUBLE, 31, 63), colDef("SUM(s)", mysql.MYSQL_TYPE_NEWDECIMAL, 2, 63),
		colDef("COUNT(s)", mysql.MYSQL_TYPE_LONGLONG, 0, 63)}
	folds := []Fold{{Kind: FoldAvg, Sum: 1, Count: 2}, {Kind: FoldSum}, {Kind: FoldCount}}
	for _, tt := range []struct {
		name string
		rows []string
		want []string
	}{
		{"mixed", []string{"1|1.00|1", "2|3.00|2"}, []string{"1.3333333333333333|4.00|3"}},
		{"count zero", []string{"NULL|0.00|0"}, []string{"NULL|0.00|0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake().on(0, q, &reply{cols: cols, rows: rows(tt.rows...)})
			w, err := execRows(t, &Aggregate{Input: scanOf(q, 0), Folds: folds}, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			expectRows(t, f, w, []string{"stream-read 0: " + q}, tt.want)
		})
	}
}

func TestPrimitiveStrings(t *testing.T) {
	in := scanOf("q", 0)
	for _, tt := range []struct {
		p    Primitive
		want string
	}{
		{&Distinct{Input: in}, "Distinct\n  Scan\n"},
		{&Filter{Input: in}, "Filter\n  Scan\n"},
	} {
		if got := Format(tt.p); got != tt.want || len(tt.p.Inputs()) != 1 {
			t.Errorf("Format = %q, want %q", got, tt.want)
		}
	}
}
