package engine

import (
	"fmt"
	"math"
	"math/big"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestCompare(t *testing.T) {
	enum := &comparer{kind: kindEnum, enum: map[string]int{"placed": 1, "accepted": 2}}
	for _, tt := range []struct {
		name string
		cmp  *comparer
		a, b string
		want int
	}{
		{"decimal scale", &comparer{kind: kindDecimal}, "-1.50", "-1.5", 0},
		{"decimal greater", &comparer{kind: kindDecimal}, "10.00", "9.99", 1},
		{"decimal negative", &comparer{kind: kindDecimal}, "-10", "-9.5", -1},
		{"decimal minus zero", &comparer{kind: kindDecimal}, "0.00", "-0", 0},
		{"decimal sign", &comparer{kind: kindDecimal}, "-1", "+1", -1},
		{"time negative", &comparer{kind: kindTime}, "-01:00:00", "00:30:00", -1},
		{"time over a day", &comparer{kind: kindTime}, "100:00:00", "99:59:59.999999", 1},
		{"time fraction", &comparer{kind: kindTime}, "01:00:00.5", "01:00:00.500000", 0},
		{"fold case and pad", &comparer{kind: kindFold}, "abc", "ABC  ", 0},
		{"fold accents", &comparer{kind: kindFold}, "ábc", "ÁBD", -1},
		{"fold café", &comparer{kind: kindFold}, "café", "CAFE", 0},
		{"fold sharp s", &comparer{kind: kindFold}, "straße", "STRASE", 0},
		{"fold ligature", &comparer{kind: kindFold}, "Æ", "AE", 1},
		{"fold prefix", &comparer{kind: kindFold}, "ab", "abc", -1},
		{"fold astral", &comparer{kind: kindFold}, "😀", "😁", 0},
		{"bin case", &comparer{kind: kindPadBin}, "B", "a", -1},
		{"bin pad", &comparer{kind: kindPadBin}, "a ", "a", 0},
		{"bytes", &comparer{kind: kindBytes}, "a ", "a", 1},
		{"int", &comparer{kind: kindInt}, "-5", "3", -1},
		{"int zerofill", &comparer{kind: kindInt}, "0007", "7", 0},
		{"uint big", &comparer{kind: kindUint}, "18446744073709551615", "1", 1},
		{"float exponent", &comparer{kind: kindFloat}, "1e3", "999.5", 1},
		{"float minus zero", &comparer{kind: kindFloat}, "-0", "0", 0},
		{"enum by position", enum, "placed", "ACCEPTED", -1},
		{"enum equal", enum, "Placed", "placed", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cmp.compare([]byte(tt.a), []byte(tt.b)); got != tt.want {
				t.Errorf("compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			eq := string(tt.cmp.normal(nil, []byte(tt.a))) == string(tt.cmp.normal(nil, []byte(tt.b)))
			if eq != (tt.want == 0) {
				t.Errorf("normal(%q) == normal(%q) is %v", tt.a, tt.b, eq)
			}
		})
	}
}

func TestCompareNullable(t *testing.T) {
	c := &comparer{kind: kindInt}
	for _, tt := range []struct {
		a, b []byte
		want int
	}{{nil, nil, 0}, {nil, []byte("1"), -1}, {[]byte("1"), nil, 1}, {[]byte("1"), []byte("2"), -1}} {
		if got := c.compareNullable(tt.a, tt.b); got != tt.want {
			t.Errorf("compareNullable(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestNewComparer(t *testing.T) {
	enumCol := Column{Name: "status", Type: mysql.MYSQL_TYPE_STRING, Flags: mysql.ENUM_FLAG, Charset: 45}
	setCol := Column{Name: "tags", Type: mysql.MYSQL_TYPE_STRING, Flags: mysql.SET_FLAG, Charset: 45}
	members := &ColumnMeta{Collation: "utf8mb4_general_ci", Enum: []string{"placed", "accepted", "delivered"}}
	for _, tt := range []struct {
		name       string
		col        Column
		meta       *ColumnMeta
		byPosition bool
		want       kind
		err        int // error number, 0 for none
	}{
		{"int", col("n", mysql.MYSQL_TYPE_LONG), nil, true, kindInt, 0},
		{"unsigned", Column{Type: mysql.MYSQL_TYPE_LONGLONG, Flags: mysql.UNSIGNED_FLAG}, nil, true, kindUint, 0},
		{"year", col("y", mysql.MYSQL_TYPE_YEAR), nil, true, kindInt, 0},
		{"decimal", col("d", mysql.MYSQL_TYPE_NEWDECIMAL), nil, true, kindDecimal, 0},
		{"double", col("f", mysql.MYSQL_TYPE_DOUBLE), nil, true, kindFloat, 0},
		{"time", col("t", mysql.MYSQL_TYPE_TIME), nil, true, kindTime, 0},
		{"datetime", col("t", mysql.MYSQL_TYPE_DATETIME), nil, true, kindBytes, 0},
		{"general_ci by id", col("s", mysql.MYSQL_TYPE_VAR_STRING), nil, true, kindFold, 0},
		{"bin by id", Column{Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 46}, nil, true, kindPadBin, 0},
		{"binary string", Column{Type: mysql.MYSQL_TYPE_BLOB, Charset: 63}, nil, true, kindBytes, 0},
		{"catalog collation wins", col("s", mysql.MYSQL_TYPE_VAR_STRING), &ColumnMeta{Collation: "utf8mb4_bin"}, true, kindPadBin, 0},
		{"bin by flag", Column{Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 45, Flags: mysql.BINARY_FLAG}, nil, true, kindPadBin, 0},
		{"bin flag of an unknown set", Column{Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 28, Flags: mysql.BINARY_FLAG}, nil, true, 0, 1235},
		{"catalog without collation", Column{Type: mysql.MYSQL_TYPE_BLOB, Charset: 63}, &ColumnMeta{}, true, kindBytes, 0},
		{"unicode_ci refused", Column{Name: "s", Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 224}, nil, true, 0, 1235},
		{"unknown id refused", Column{Name: "s", Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 9999}, nil, false, 0, 1235},
		{"enum sorts by position", enumCol, members, true, kindEnum, 0},
		{"enum without members refused", enumCol, nil, true, 0, 1235},
		{"enum as string", enumCol, nil, false, kindFold, 0},
		{"set sort refused", setCol, nil, true, 0, 1235},
		{"set as string", setCol, nil, false, kindFold, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := newComparer(&tt.col, tt.meta, tt.byPosition)
			if errnoOf(err) != tt.err {
				t.Fatalf("error %v, want number %d", err, tt.err)
			}
			if err == nil && c.kind != tt.want {
				t.Fatalf("kind %d, want %d", c.kind, tt.want)
			}
		})
	}
	c, _ := newComparer(&enumCol, members, true)
	if c.compare([]byte("placed"), []byte("accepted")) >= 0 {
		t.Error("placed sorts after accepted")
	}
}

func TestFormatRat(t *testing.T) {
	dec := func(d byte) *Column { return &Column{Type: mysql.MYSQL_TYPE_NEWDECIMAL, Decimals: d} }
	for _, tt := range []struct {
		x    string
		c    *Column
		want string
	}{
		{"10/3", dec(4), "3.3333"},
		{"20/3", dec(4), "6.6667"},
		{"-20/3", dec(4), "-6.6667"},
		{"1/8", dec(2), "0.13"},   // half away from zero
		{"-1/8", dec(2), "-0.13"}, // half away from zero
		{"5/1", dec(0), "5"},
		{"1/200", dec(2), "0.01"},
		{"-1/300", dec(2), "0.00"},
		{"12345/100", dec(6), "123.450000"},
		{"2/300", dec(6), "0.006667"}, // AVG of 0.01, 0.01, 0.00 in MariaDB
		{"7/2", &Column{Type: mysql.MYSQL_TYPE_LONGLONG, Decimals: 2}, "4"},
	} {
		t.Run(tt.x, func(t *testing.T) {
			x, _ := new(big.Rat).SetString(tt.x)
			if got := formatRat(x, tt.c); got != tt.want {
				t.Errorf("formatRat(%s, %d) = %s, want %s", tt.x, tt.c.Decimals, got, tt.want)
			}
		})
	}
}

// TestFormatFloat pins DOUBLE texts as MariaDB 10.11 prints them.
func TestFormatFloat(t *testing.T) {
	dbl := &Column{Type: mysql.MYSQL_TYPE_DOUBLE, Decimals: 31}
	for _, tt := range []struct {
		f    float64
		c    *Column
		want string
	}{
		{1e21, dbl, "1e21"},
		{1e15, dbl, "1e15"},
		{999999986991104, dbl, "999999986991104"},
		{1.234567890123456e15, dbl, "1.234567890123456e15"},
		{123456789012345, dbl, "123456789012345"},
		{1e-15, dbl, "0.000000000000001"},
		{1e-16, dbl, "1e-16"},
		{-2.5e-5, dbl, "-0.000025"},
		{1.500000053056283e-07, dbl, "0.0000001500000053056283"},
		{0.6000000000000001 / 3, dbl, "0.20000000000000004"},
		{1000000000007783.8, dbl, "1000000000007783.8"},
		{-1000000000000000.2, dbl, "-1000000000000000.2"},
		{9999999999999998, dbl, "9.999999999999998e15"},
		{-1234567890123456, dbl, "-1.234567890123456e15"},
		{1.2345678901234567e-15, dbl, "0.0000000000000012345678901234568"},
		{-1e-16, dbl, "-1e-16"},
		{1.2345678901234567e19, dbl, "1.2345678901234567e19"},
		{1e-300, dbl, "1e-300"},
		{1.5, &Column{Type: mysql.MYSQL_TYPE_DOUBLE, Decimals: 6}, "1.500000"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			if got := string(formatFloat(tt.f, tt.c)); got != tt.want {
				t.Errorf("formatFloat(%g) = %s, want %s", tt.f, got, tt.want)
			}
		})
	}
	if v := formatFloat(math.Inf(1), dbl); v != nil {
		t.Errorf("formatFloat(+Inf) = %q, want NULL", v)
	}
}

func TestNumPrefix(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"12abc", "12"}, {"  -3.5e2x", "-3.5e2"}, {"abc", "0"}, {"1e", "1"}, {"+.5", "+.5"},
		{"7.", "7"}, {"1e+3", "1e+3"}, {"", "0"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			if got := numPrefix(tt.in); got != tt.want {
				t.Errorf("numPrefix(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := floatPrefix(" 2.5e1 apples"); got != 25 {
		t.Errorf("floatPrefix = %v, want 25", got)
	}
}

// TestSumFloats pins the order MariaDB adds SUM(DISTINCT) of DOUBLEs in:
// that of their stored bytes. Over these values, ascending order gives
// 77839.59099999999 and the order given 77839.59100000001; MariaDB 10.11
// answers 77839.591.
func TestSumFloats(t *testing.T) {
	vals := []float64{34646.507, 42308.939, 138.263, 87.244, 658.638}
	raw := make([][]byte, len(vals))
	for i, v := range vals {
		raw[i] = []byte(fmt.Sprint(v))
	}
	dbl := &Column{Type: mysql.MYSQL_TYPE_DOUBLE, Decimals: 31}
	if got := string(formatFloat(sumFloats(vals, raw, dbl, nil), dbl)); got != "77839.591" {
		t.Errorf("double sum %s, want 77839.591", got)
	}
	flt := &Column{Type: mysql.MYSQL_TYPE_FLOAT}
	f32 := []float64{float64(float32(0.1)), float64(float32(0.2)), float64(float32(0.3))}
	if got := string(formatFloat(sumFloats(f32, raw[:3], flt, nil), dbl)); got != "0.6000000163912773" {
		t.Errorf("float sum %s, want 0.6000000163912773", got)
	}
	str := &Column{Type: mysql.MYSQL_TYPE_VAR_STRING}
	if got := sumFloats([]float64{2, 1}, [][]byte{[]byte("2"), []byte("1")}, str, &comparer{kind: kindFold}); got != 3 {
		t.Errorf("string sum %v, want 3", got)
	}
}
