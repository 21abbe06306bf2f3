package parser

import (
	"fmt"
	"strings"
	"testing"

	"vitess.io/vitess/go/sqltypes"
	querypb "vitess.io/vitess/go/vt/proto/query"
	"vitess.io/vitess/go/vt/sqlparser"
)

var vitess = sqlparser.NewTestParser()

// normCase is a statement, its Text under mode and its Args as
// sqltypes.Value.String prints them ("P0" for the client's first ?), or
// text "" when Normalize must report false.
type normCase struct {
	mode Mode
	sql  string
	text string
	args string
}

var normCases = []normCase{
	{0, "SELECT c FROM sbtest1 WHERE id = 4242", "SELECT c FROM sbtest1 WHERE id = ?", "INT64(4242)"},
	{0, " select  *\n from t where a = 'x' and b in (1, 2.5, 1e3, -7);", "select * from t where a = ? and b in (?, ?, ?, ?)",
		`VARCHAR("x") INT64(1) DECIMAL(2.5) FLOAT64(1e3) INT64(-7)`},
	{0, "SELECT a = - 5, a-5, a - -5, 5 - 5, a--5 FROM t", "SELECT a = ?, a-?, a - -?, ? - ?, a- -? FROM t",
		"INT64(-5) INT64(5) INT64(5) INT64(5) INT64(5) INT64(5)"},
	{0, "SELECT 9223372036854775807, 9223372036854775808, 18446744073709551616, -9223372036854775808, -9223372036854775809",
		"SELECT ?, ?, ?, ?, ?", "INT64(9223372036854775807) UINT64(9223372036854775808) DECIMAL(18446744073709551616) " +
			"INT64(-9223372036854775808) DECIMAL(-9223372036854775809)"},
	{0, "SELECT a, COUNT(*) FROM t GROUP BY 1 ORDER BY 2 DESC, (1), a + 1 LIMIT 10 OFFSET 5",
		"SELECT a, COUNT(*) FROM t GROUP BY 1 ORDER BY 2 DESC, (1), a + 1 LIMIT ? OFFSET ?", "INT64(10) INT64(5)"},
	{0, "SELECT * FROM t WHERE a IN (SELECT b FROM u ORDER BY 1) AND c = 2", "SELECT * FROM t WHERE a IN (SELECT b FROM u ORDER BY 1) AND c = ?", "INT64(2)"},
	{0, "SELECT CAST(a AS CHAR(10)), CONVERT(b, DECIMAL(10,2)), NOW(6), CAST(c AS DATETIME(6)) FROM t WHERE d = 3",
		"SELECT CAST(a AS CHAR(10)), CONVERT(b, DECIMAL(10,2)), NOW(6), CAST(c AS DATETIME(6)) FROM t WHERE d = ?", "INT64(3)"},
	{0, "SELECT _utf8mb4'x', _binary 'y', N'z', X'41', 0x41, b'1', 0b1, DATE '2020-01-01', TIMESTAMP '2020-01-01 00:00:00' FROM t",
		"SELECT _utf8mb4'x', _binary 'y', N'z', X'41', 0x41, b'1', 0b1, DATE '2020-01-01', TIMESTAMP '2020-01-01 00:00:00' FROM t", ""},
	{0, "SELECT a 'alias', b AS 'other' FROM t WHERE c LIKE 'x%' ESCAPE '!' AND d = 'e' COLLATE utf8mb4_bin",
		"SELECT a 'alias', b AS 'other' FROM t WHERE c LIKE ? ESCAPE '!' AND d = ? COLLATE utf8mb4_bin", `VARCHAR("x%") VARCHAR("e")`},
	{0, `SELECT 'it''s', "say ""hi""", 'a\'b\\c\nd\%e\_f\Zg\0h\qi'`, "SELECT ?, ?, ?",
		`VARCHAR("it's") VARCHAR("say \"hi\"") VARCHAR("a'b\\c\nd\\%e\\_f\x1ag\x00hqi")`},
	{0, "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y') ON DUPLICATE KEY UPDATE b = VALUES(b)",
		"INSERT INTO t (a, b) VALUES (?, ?), (?, ?) ON DUPLICATE KEY UPDATE b = VALUES(b)", `INT64(1) VARCHAR("x") INT64(2) VARCHAR("y")`},
	{0, "UPDATE t SET a = a - 1, b = -2 WHERE id = ? AND c = ?", "UPDATE t SET a = a - ?, b = ? WHERE id = ? AND c = ?", "INT64(1) INT64(-2) P0 P1"},
	{0, "DELETE FROM t WHERE id = 1 LIMIT 1", "DELETE FROM t WHERE id = ? LIMIT ?", "INT64(1) INT64(1)"},
	{0, "SELECT /* trace=abc */ 1 -- x\n FROM t # y\n WHERE a = 1 /*!40001 AND b = 2 */ /*!99999 AND c = 3 */ /*!50700 AND d = 4 */",
		"SELECT ? FROM t WHERE a = ? AND b = ?", "INT64(1) INT64(1) INT64(2)"},
	{0, "SELECT 1/**/FROM t WHERE a=1/*!,2*/", "SELECT ? FROM t WHERE a=? ,?", "INT64(1) INT64(1) INT64(2)"},
	{0, "SELECT a FROM t WHERE b = DATE_ADD(NOW(), INTERVAL 1 DAY) AND c BETWEEN 1 AND 2", "SELECT a FROM t WHERE b = DATE_ADD(NOW(), INTERVAL ? DAY) AND c BETWEEN ? AND ?",
		"INT64(1) INT64(1) INT64(2)"},
	{0, "SELECT GROUP_CONCAT(a ORDER BY 1 SEPARATOR ',') FROM t WHERE b = 1", "SELECT GROUP_CONCAT(a ORDER BY 1 SEPARATOR ',') FROM t WHERE b = ?", "INT64(1)"},
	{0, "(SELECT 1) UNION ALL (SELECT 2)", "(SELECT ?) UNION ALL (SELECT ?)", "INT64(1) INT64(2)"},
	{0, "SELECT `a``b`, @x, @@session.sql_mode, @`y` FROM t", "SELECT `a``b`, @x, @@session.sql_mode, @`y` FROM t", ""},
	{0, "SELECT 1; SELECT 2", "", ""},
	{0, "SHOW TABLES", "", ""},
	{0, "SET @a = 1", "", ""},
	{0, "SELECT 'a' 'b'", "", ""},
	{0, "SELECT 1e3x", "", ""},
	{0, "SELECT 1abc FROM t", "", ""},
	{0, "SELECT t.5 FROM t", "", ""},
	{0, "SELECT @a.b", "", ""},
	{0, "SELECT @'a'", "", ""},
	{0, "(SELECT@!0)", "", ""},
	{0, "SELECT@@#0", "", ""},
	{0, "SELECT @@session.", "", ""},
	{0, "SELECT 0----\x1f", "SELECT ?- -", "INT64(0)"},
	{0, `SELECT N"x"`, "", ""},
	{0, "SELECT a->'$.x' FROM t", "", ""},
	{0, "SELECT a // b FROM t", "", ""},
	{0, "SELECT :v1", "", ""},
	{0, `SELECT \N`, "", ""},
	{0, "SELECT é FROM t", "", ""},
	{0, "SELECT 'unterminated", "", ""},
	{0, "SELECT 1 /* unterminated", "", ""},
	{0, "SELECT 1 /*!101150 , 2 */", "", ""},
	{0, "SELECT * FROM JSON_TABLE('[]', '$[*]' COLUMNS (a INT PATH '$.a')) AS j", "", ""},
	{0, "SELECT SUM(a) OVER (ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t", "", ""},
	{0, "SELECT (1", "", ""},
	{NoBackslashEscapes, `SELECT 'a\' , "b\", _utf8mb4'c\d', N'e\', DATE '2020\'`, `SELECT ? , ?, _utf8mb4'c\\d', N'e\\', DATE '2020\\'`,
		`VARCHAR("a\\") VARCHAR("b\\")`},
	{NoBackslashEscapes, `SELECT 'a\'; DELETE FROM t; -- '`, "", ""},
	{NoBackslashEscapes, `SELECT 'it''s\n'`, "SELECT ?", `VARCHAR("it's\\n")`},
	{AnsiQuotes, `SELECT "a""b", "c` + "`" + `d", 'e' FROM "t" WHERE "x" = @"v"`, "SELECT `a\"b`, `c``d`, ? FROM `t` WHERE `x` = @`v`", `VARCHAR("e")`},
	{AnsiQuotes, `SELECT N"x" FROM t`, "SELECT N`x` FROM t", ""},
	{AnsiQuotes | NoBackslashEscapes, `SELECT "x\" FROM t WHERE a = 'y\'`, "SELECT `x\\` FROM t WHERE a = ?", `VARCHAR("y\\")`},
	{MultibyteEscapes, "SELECT '\x81\\'", "", ""},
	{MultibyteEscapes, "SELECT '\x81\x40' FROM t", "SELECT ? FROM t", `VARCHAR("\x81@")`},
	{MultibyteEscapes | NoBackslashEscapes, "SELECT '\x81\\' FROM t", "SELECT ? FROM t", `VARCHAR("\x81\\")`},
	{PipesAsConcat, "SELECT 'a' || 'b'", "", ""},
	{0, "SELECT 'a' || 'b'", "SELECT ? || ?", `VARCHAR("a") VARCHAR("b")`},
	{HighNotPrecedence, "SELECT * FROM t WHERE NOT a BETWEEN 1 AND 2", "", ""},
	{HighNotPrecedence, "SELECT * FROM t WHERE a NOT BETWEEN 1 AND 2", "SELECT * FROM t WHERE a NOT BETWEEN ? AND ?", "INT64(1) INT64(2)"},
	{Oracle | AnsiQuotes | PipesAsConcat, "SELECT 1", "", ""},
}

func TestNormalize(t *testing.T) {
	var sh Shape
	for _, tc := range normCases {
		t.Run(tc.sql, func(t *testing.T) {
			ok := sh.Normalize([]byte(tc.sql), tc.mode)
			if tc.text == "" {
				if ok {
					t.Fatalf("Normalize(%q, %v) = %q, want false", tc.sql, tc.mode, sh.Text)
				}
				return
			}
			if !ok {
				t.Fatalf("Normalize(%q, %v) failed, want %q", tc.sql, tc.mode, tc.text)
			}
			if string(sh.Text) != tc.text || renderArgs(sh.Args) != tc.args {
				t.Fatalf("Normalize(%q, %v)\n got %q %s\nwant %q %s", tc.sql, tc.mode, sh.Text, renderArgs(sh.Args), tc.text, tc.args)
			}
			if err := sameReading([]byte(tc.sql), tc.mode, &sh); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func renderArgs(args []Arg) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a.Param >= 0 {
			fmt.Fprintf(&b, "P%d", a.Param)
			continue
		}
		b.WriteString(a.Val.String())
	}
	return b.String()
}

// sameReading checks that vitess reads sh.Text with its Args substituted
// as it reads the original rewritten for it by ForParse (which reads it
// as the server does under mode): the statement prints the same. Client
// placeholders are bound to the same marker on both sides.
func sameReading(sql []byte, mode Mode, sh *Shape) error {
	want, err := printBound(ForParse(nil, sql, mode), sh.Params, param)
	if err != nil {
		return nil // vitess does not read the statement at all
	}
	got, err := printBound(sh.Text, len(sh.Args), func(i int) sqltypes.Value {
		if a := sh.Args[i]; a.Param < 0 {
			return a.Val
		}
		return param(sh.Args[i].Param)
	})
	if err != nil {
		return fmt.Errorf("%q: vitess reads the original but not its shape %q: %v", sql, sh.Text, err)
	}
	if got != want {
		return fmt.Errorf("%q (mode %v): shape %q %s\n reads as %s\n original as %s", sql, mode, sh.Text, renderArgs(sh.Args), got, want)
	}
	return nil
}

func param(k int) sqltypes.Value { return sqltypes.NewVarChar(fmt.Sprintf("param %d", k)) }

// printBound parses text, substitutes its n ?s (vitess's :v1, :v2, ...)
// with value(0), value(1), ..., and prints the statement read back.
func printBound(text []byte, n int, value func(int) sqltypes.Value) (string, error) {
	stmt, err := parseSafely(string(text))
	if err != nil {
		return "", err
	}
	bv := map[string]*querypb.BindVariable{}
	for i := 0; i < n; i++ {
		bv[fmt.Sprintf("v%d", i+1)] = sqltypes.ValueBindVariable(value(i))
	}
	q, err := sqlparser.NewParsedQuery(stmt).GenerateQuery(bv, nil)
	if err != nil {
		return "", err
	}
	back, err := parseSafely(q)
	if err != nil {
		return "", fmt.Errorf("substituted %q: %w", q, err)
	}
	_ = sqlparser.Walk(func(node sqlparser.SQLNode) (bool, error) {
		if c, ok := node.(sqlparser.Commented); ok {
			c.SetComments(nil) // Text drops comments
		}
		return true, nil
	}, back)
	return sqlparser.String(back), nil
}

func TestNormalizeAllocs(t *testing.T) {
	var sh Shape
	for _, q := range [][]byte{pointSelect, multiInsert, []byte(`SELECT 'a\'b', -5 FROM t WHERE c = "d"`)} {
		sh.Normalize(q, 0)
		if n := testing.AllocsPerRun(100, func() { sh.Normalize(q, 0) }); n != 0 {
			t.Errorf("Normalize(%q) allocates %.0f times per call", q, n)
		}
	}
}

var (
	pointSelect = []byte("SELECT c FROM sbtest1 WHERE id = 4242")
	multiInsert = []byte("INSERT INTO sbtest1 (id, k, c, pad) VALUES (1, 4242, '68487932199-96439406143', 'xyz'), " +
		"(2, 4243, '13241531885-45658403807', 'abc'), (3, -4244, '51185622598-89397522786', 'def')")
)

func BenchmarkNormalize(b *testing.B) {
	for _, bc := range []struct {
		name string
		sql  []byte
	}{{"point_select", pointSelect}, {"multi_insert", multiInsert}} {
		b.Run(bc.name, func(b *testing.B) {
			var sh Shape
			sh.Normalize(bc.sql, 0)
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.sql)))
			for b.Loop() {
				sh.Normalize(bc.sql, 0)
			}
		})
	}
}

// parseSafely is vitess.Parse, with its panics (it panics on
// "SELECT @@session.") as errors.
func parseSafely(sql string) (stmt sqlparser.Statement, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("vitess panics: %v", r)
		}
	}()
	return vitess.Parse(sql)
}
