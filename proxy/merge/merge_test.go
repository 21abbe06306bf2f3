package merge

import (
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/router"
)

func TestFormatRat(t *testing.T) {
	dec := func(d byte) *Column { return &Column{Type: mysql.MYSQL_TYPE_NEWDECIMAL, Decimals: d} }
	for _, tt := range []struct {
		x    string
		d    byte
		want string
	}{
		{"10/3", 4, "3.3333"},
		{"20/3", 4, "6.6667"},
		{"-20/3", 4, "-6.6667"},
		{"1/8", 2, "0.13"},   // half away from zero
		{"-1/8", 2, "-0.13"}, // half away from zero
		{"5/1", 0, "5"},
		{"1/200", 2, "0.01"},
		{"-1/300", 2, "0.00"},
		{"12345/100", 6, "123.450000"},
	} {
		x, _ := new(big.Rat).SetString(tt.x)
		if got := formatRat(x, dec(tt.d)); got != tt.want {
			t.Errorf("formatRat(%s, %d) = %s, want %s", tt.x, tt.d, got, tt.want)
		}
	}
	if got := formatFloat(1e21, &Column{Type: mysql.MYSQL_TYPE_DOUBLE, Decimals: 31}); got != "1e21" {
		t.Errorf("formatFloat(1e21) = %s", got)
	}
}

func TestCompare(t *testing.T) {
	for _, tt := range []struct {
		k    kind
		a, b string
		want int
	}{
		{kindDecimal, "-1.50", "-1.5", 0},
		{kindDecimal, "10.00", "9.99", 1},
		{kindDecimal, "-10", "-9.5", -1},
		{kindDecimal, "0.00", "-0", 0},
		{kindTime, "-01:00:00", "00:30:00", -1},
		{kindTime, "100:00:00", "99:59:59.999999", 1},
		{kindFold, "abc", "ABC  ", 0},
		{kindFold, "ábc", "ÁBD", -1},
		{kindFold, "café", "CAFE", 0},
		{kindFold, "straße", "STRASE", 0},
		{kindFold, "Æ", "AE", 1},
		{kindPadBin, "B", "a", -1},
		{kindPadBin, "a ", "a", 0},
		{kindInt, "-5", "3", -1},
		{kindFloat, "1e3", "999.5", 1},
	} {
		c := &comparer{kind: tt.k}
		if got := c.compare([]byte(tt.a), []byte(tt.b)); got != tt.want {
			t.Errorf("kind %d: compare(%q, %q) = %d, want %d", tt.k, tt.a, tt.b, got, tt.want)
		}
		eq := string(c.normal(nil, []byte(tt.a))) == string(c.normal(nil, []byte(tt.b)))
		if eq != (tt.want == 0) {
			t.Errorf("kind %d: normal(%q) == normal(%q) is %v", tt.k, tt.a, tt.b, eq)
		}
	}
}

// rows is a Source over fixed rows.
type rows struct {
	rs []Row
	i  int
}

func (r *rows) Next() (Row, error) {
	if r.i == len(r.rs) {
		return nil, nil
	}
	r.i++
	return r.rs[r.i-1], nil
}

func src(vals ...string) *rows {
	r := &rows{}
	for _, v := range vals {
		var row Row
		for _, f := range strings.Split(v, ",") {
			if f == "NULL" {
				row = append(row, nil)
			} else {
				row = append(row, []byte(f))
			}
		}
		r.rs = append(r.rs, row)
	}
	return r
}

func run(t *testing.T, spec *router.Merge, cols []Column, srcs ...Source) []string {
	t.Helper()
	m, err := New(spec, cols, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = m.Run(srcs, func(r Row) error {
		var f []string
		for _, v := range r[:m.Visible()] {
			if v == nil {
				f = append(f, "NULL")
			} else {
				f = append(f, string(v))
			}
		}
		out = append(out, strings.Join(f, ","))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	intCol = Column{Type: mysql.MYSQL_TYPE_LONGLONG, Charset: 63}
	decCol = Column{Type: mysql.MYSQL_TYPE_NEWDECIMAL, Decimals: 2, Charset: 63}
	strCol = Column{Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 45}
)

func TestMergeSortedLimit(t *testing.T) {
	spec := &router.Merge{OrderBy: []router.SortKey{{Col: 1, Desc: true}, {Col: 0}}, Limit: 3, Offset: 1}
	got := run(t, spec, []Column{intCol, decCol},
		src("1,9.50", "4,2.00", "5,NULL"), src("2,10.00", "3,9.5", "6,1.00"))
	want := []string{"1,9.50", "3,9.5", "4,2.00"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestMergeGroups(t *testing.T) {
	// SELECT name, COUNT(*), SUM(total), AVG(total), MIN(total) ... GROUP BY name HAVING COUNT(*) > 1
	avg := Column{Type: mysql.MYSQL_TYPE_NEWDECIMAL, Decimals: 6}
	spec := &router.Merge{Aggregate: true, Hidden: 2, Limit: -1,
		GroupBy: []router.Col{0}, OrderBy: []router.SortKey{{Col: 0}},
		Folds: []router.Fold{{Kind: router.FoldAny}, {Kind: router.FoldCount}, {Kind: router.FoldSum},
			{Kind: router.FoldAvg, Sum: 5, Count: 6}, {Kind: router.FoldMin}, {Kind: router.FoldSum}, {Kind: router.FoldCount}},
		Having: router.CmpExpr{Op: ">", L: router.ColExpr{Col: 1}, R: router.LitExpr{Val: "1", Num: true}},
	}
	cols := []Column{strCol, intCol, decCol, avg, decCol, decCol, intCol}
	got := run(t, spec, cols,
		src("b,2,3.00,1.5,1.00,3.00,2", "A,1,1.00,1.0,1.00,1.00,1", "c,1,NULL,NULL,NULL,NULL,0"),
		src("a,2,4.00,2.0,0.50,4.00,2", "B,1,2.00,2.0,2.00,2.00,1"))
	want := []string{"A,3,5.00,1.666667,0.50", "b,3,5.00,1.666667,1.00"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestEnumMembers(t *testing.T) {
	// enumMembers lives in the proxy; the comparer orders by position.
	c, err := newComparer(&Column{Type: mysql.MYSQL_TYPE_STRING, Flags: mysql.ENUM_FLAG, Charset: 45}, &Meta{Enum: []string{"placed", "accepted", "delivered"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.compare([]byte("placed"), []byte("accepted")) >= 0 {
		t.Fatal("placed sorts after accepted")
	}
	if _, err := newComparer(&Column{Type: mysql.MYSQL_TYPE_STRING, Flags: mysql.ENUM_FLAG, Charset: 45}, nil); err == nil {
		t.Fatal("an ENUM without its members compared")
	}
	if _, err := newComparer(&Column{Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 224}, nil); err == nil {
		t.Fatal("utf8mb4_unicode_ci compared")
	}
}
