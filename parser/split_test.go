package parser

import (
	"strings"
	"testing"
)

// splitCase is a query and the statements the server reads in it under
// mode, joined with " | " with their kinds (nil: Split must report false).
type splitCase struct {
	mode Mode
	sql  string
	want []string
}

const nbe, ansi, mb = NoBackslashEscapes, AnsiQuotes, MultibyteEscapes

var splitCases = []splitCase{
	{0, "SELECT 1", []string{"select:SELECT 1"}},
	{0, "SELECT 1; SELECT 2", []string{"select:SELECT 1", "select:SELECT 2"}},
	{0, "  SELECT 1 ;\n\tINSERT INTO t VALUES (1) ; ; ", []string{"select:SELECT 1", "insert:INSERT INTO t VALUES (1)"}},
	{0, "SELECT 1;;;", []string{"select:SELECT 1"}},
	{0, "SELECT 1; ; SELECT 2", []string{"select:SELECT 1", "empty:", "select:SELECT 2"}},
	{0, "SELECT 1; /* x */ ; SELECT 2", []string{"select:SELECT 1", "empty:/* x */", "select:SELECT 2"}},
	{0, "SELECT 1; -- done", []string{"select:SELECT 1", "empty:-- done"}},
	{0, "SELECT 1; -- x\nSELECT 2", []string{"select:SELECT 1", "select:-- x\nSELECT 2"}},
	{0, "", []string{"empty:"}},
	{0, " ;; ", []string{"empty:"}},
	{0, "/* x */", []string{"empty:/* x */"}},
	{0, "SELECT 1 --;", []string{"select:SELECT 1 --"}},
	{0, "SELECT 1 --;SELECT 2", nil},
	{0, "SELECT 'a;b'; SELECT \"c;d\"; SELECT `e;f`", []string{"select:SELECT 'a;b'", "select:SELECT \"c;d\"", "select:SELECT `e;f`"}},
	{0, `SELECT 'a\'; INSERT INTO t VALUES (1); -- '`, []string{`select:SELECT 'a\'; INSERT INTO t VALUES (1); -- '`}},
	{nbe, `SELECT 'a\'; INSERT INTO t VALUES (1); -- '`, []string{`select:SELECT 'a\'`, "insert:INSERT INTO t VALUES (1)", "empty:-- '"}},
	{nbe, `SELECT "a\"; DELETE FROM t`, []string{`select:SELECT "a\"`, "delete:DELETE FROM t"}},
	{ansi, `SELECT "a;b" FROM t; SELECT 'c'`, []string{`select:SELECT "a;b" FROM t`, "select:SELECT 'c'"}},
	{ansi, `SELECT "a\"; DELETE FROM t`, []string{`select:SELECT "a\"`, "delete:DELETE FROM t"}},
	{0, `SELECT "a\"; DELETE FROM t`, nil},
	{0, "SELECT 'unterminated; SELECT 2", nil},
	{0, "SELECT `x; SELECT 2", nil},
	{0, "SELECT 1 /* x; SELECT 2", nil},
	{0, "SELECT 1 # x; SELECT 2\n; SELECT 3", []string{"select:SELECT 1 # x; SELECT 2", "select:SELECT 3"}},
	{0, "SELECT 1 -- x; SELECT 2", []string{"select:SELECT 1 -- x; SELECT 2"}},
	{0, "SELECT 1 --x; SELECT 2", []string{"select:SELECT 1 --x", "select:SELECT 2"}},
	{0, "SELECT 1 --\x7f; SELECT 2", []string{"select:SELECT 1 --\x7f; SELECT 2"}},
	{0, "SELECT 1 /*! , 2 */; SELECT 3", []string{"select:SELECT 1 /*! , 2 */", "select:SELECT 3"}},
	{0, "SELECT 1 /*! ; SELECT 2 */", nil},
	{0, "SELECT 1 /*!99999 ; SELECT 2 */; SELECT 3", []string{"select:SELECT 1 /*!99999 ; SELECT 2 */", "select:SELECT 3"}},
	{0, "SELECT 1 /*!50700 ; */; SELECT 3", []string{"select:SELECT 1 /*!50700 ; */", "select:SELECT 3"}},
	{0, "SELECT 1 /*M!50700 ; */; SELECT 3", nil},
	{0, "SELECT 1 /*!101150 , 2 */", nil},
	{0, "SELECT 1 /*!99999 /* ; */ ; */; SELECT 3", []string{"select:SELECT 1 /*!99999 /* ; */ ; */", "select:SELECT 3"}},
	{0, "SELECT 1 /*! # x */ ; */", nil},
	{0, "BEGIN; SELECT 1; COMMIT", []string{"begin:BEGIN", "select:SELECT 1", "commit:COMMIT"}},
	{0, "BEGIN NOT ATOMIC SELECT 1; INSERT INTO t VALUES (1); END; SELECT 2",
		[]string{"other:BEGIN NOT ATOMIC SELECT 1; INSERT INTO t VALUES (1); END", "select:SELECT 2"}},
	{0, "BEGIN NOT ATOMIC IF 1 THEN SELECT 1; ELSEIF 2 THEN SELECT 2; ELSE BEGIN SELECT 3; END; END IF; END; SELECT 4",
		[]string{"other:BEGIN NOT ATOMIC IF 1 THEN SELECT 1; ELSEIF 2 THEN SELECT 2; ELSE BEGIN SELECT 3; END; END IF; END", "select:SELECT 4"}},
	{0, "IF 1 THEN SELECT 'a'; END IF; SELECT 'c'", []string{"other:IF 1 THEN SELECT 'a'; END IF", "select:SELECT 'c'"}},
	{0, "CASE WHEN 1 THEN SELECT CASE WHEN 2 THEN 3 END; END CASE; SELECT 'c'",
		[]string{"other:CASE WHEN 1 THEN SELECT CASE WHEN 2 THEN 3 END; END CASE", "select:SELECT 'c'"}},
	{0, "FOR i IN 1..2 DO SELECT i; END FOR; SELECT 'c'", []string{"other:FOR i IN 1..2 DO SELECT i; END FOR", "select:SELECT 'c'"}},
	{0, "WHILE 0 DO SELECT 1; END WHILE; SELECT 'c'", []string{"other:WHILE 0 DO SELECT 1; END WHILE", "select:SELECT 'c'"}},
	{0, "REPEAT SELECT 'a'; UNTIL 1 END REPEAT; SELECT 'c'", []string{"other:REPEAT SELECT 'a'; UNTIL 1 END REPEAT", "select:SELECT 'c'"}},
	{0, "BEGIN NOT ATOMIC l: LOOP LEAVE l; END LOOP l; END; SELECT 1", []string{"other:BEGIN NOT ATOMIC l: LOOP LEAVE l; END LOOP l; END", "select:SELECT 1"}},
	{0, "BEGIN NOT ATOMIC SELECT 1 AS end; END; SELECT 2", []string{"other:BEGIN NOT ATOMIC SELECT 1 AS end; END", "select:SELECT 2"}},
	{0, "BEGIN NOT ATOMIC SELECT CASE WHEN 1 THEN end END FROM t; END", nil},
	{0, "BEGIN NOT ATOMIC DECLARE CONTINUE HANDLER FOR SQLSTATE '42S02', SQLEXCEPTION BEGIN SELECT 'h'; END; SELECT 1 FROM t FOR UPDATE; END; SELECT 2",
		[]string{"other:BEGIN NOT ATOMIC DECLARE CONTINUE HANDLER FOR SQLSTATE '42S02', SQLEXCEPTION BEGIN SELECT 'h'; END; SELECT 1 FROM t FOR UPDATE; END", "select:SELECT 2"}},
	{0, "BEGIN NOT ATOMIC SELECT 1; END IF; SELECT 2", nil},
	{0, "BEGIN NOT ATOMIC SELECT 1;", nil},
	{0, "END; SELECT 1", nil},
	{0, "CREATE PROCEDURE p(IN a INT) COMMENT 'x;' DETERMINISTIC BEGIN SELECT a; UPDATE t SET b = 1; END; CALL p(1)",
		[]string{"ddl:CREATE PROCEDURE p(IN a INT) COMMENT 'x;' DETERMINISTIC BEGIN SELECT a; UPDATE t SET b = 1; END", "call:CALL p(1)"}},
	{0, "CREATE PROCEDURE p() SELECT 1; CALL p()", []string{"ddl:CREATE PROCEDURE p() SELECT 1", "call:CALL p()"}},
	{0, "CREATE OR REPLACE DEFINER = 'u'@'localhost' FUNCTION f(x INT) RETURNS VARCHAR(10) CHARACTER SET utf8mb4 DETERMINISTIC BEGIN DECLARE y INT; RETURN 'a;b'; END; SELECT f(1)",
		[]string{"ddl:CREATE OR REPLACE DEFINER = 'u'@'localhost' FUNCTION f(x INT) RETURNS VARCHAR(10) CHARACTER SET utf8mb4 DETERMINISTIC BEGIN DECLARE y INT; RETURN 'a;b'; END", "select:SELECT f(1)"}},
	{0, "CREATE DEFINER=root@127.0.0.1 FUNCTION f() RETURNS INT RETURN CASE WHEN 1 THEN 2 END; SELECT 1",
		[]string{"ddl:CREATE DEFINER=root@127.0.0.1 FUNCTION f() RETURNS INT RETURN CASE WHEN 1 THEN 2 END", "select:SELECT 1"}},
	{0, "CREATE FUNCTION f RETURNS STRING SONAME 'f.so'; SELECT 1", []string{"ddl:CREATE FUNCTION f RETURNS STRING SONAME 'f.so'", "select:SELECT 1"}},
	{0, "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW FOLLOWS other BEGIN SET NEW.a = 1; END; INSERT INTO t VALUES (1)",
		[]string{"ddl:CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW FOLLOWS other BEGIN SET NEW.a = 1; END", "insert:INSERT INTO t VALUES (1)"}},
	{0, "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1; SELECT 1",
		[]string{"ddl:CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1", "select:SELECT 1"}},
	{0, "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END; SELECT 1",
		[]string{"ddl:CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; END", "select:SELECT 1"}},
	{0, "ALTER EVENT e DISABLE; SELECT 1", []string{"ddl:ALTER EVENT e DISABLE", "select:SELECT 1"}},
	{0, "ALTER EVENT e DO BEGIN DELETE FROM t; END; SELECT 1", []string{"ddl:ALTER EVENT e DO BEGIN DELETE FROM t; END", "select:SELECT 1"}},
	{0, "CREATE TABLE t (a INT); SELECT 1", []string{"ddl:CREATE TABLE t (a INT)", "select:SELECT 1"}},
	{0, "CREATE TABLE t (end INT); SELECT 1", nil},
	{0, "CREATE PACKAGE p AS END; SELECT 1", nil},
	{Oracle | ansi, "SELECT 1; SELECT 2", nil},
	{mb, "SELECT '\x81\\'; SELECT 2", nil},
	{mb, "SELECT '\x81'; SELECT 2", []string{"select:SELECT '\x81'", "select:SELECT 2"}},
	{mb | nbe, "SELECT '\x81\\'; SELECT 2", []string{"select:SELECT '\x81\\'", "select:SELECT 2"}},
	{mb, "SELECT `a\x81`; SELECT 2`", nil},
	{mb, "SELECT 1 /* \x81*/, 2; SELECT 3", []string{"select:SELECT 1 /* \x81*/, 2", "select:SELECT 3"}},
	{0, "SELECT `a\x00`; SELECT 2", nil},
	{0, "SELECT X'4g'; SELECT 2", nil},
}

func TestSplit(t *testing.T) {
	for _, tc := range splitCases {
		t.Run(tc.sql, func(t *testing.T) {
			got, ok := Split(nil, []byte(tc.sql), tc.mode)
			if tc.want == nil {
				if ok {
					t.Fatalf("Split(%q, %v) = %q, want false", tc.sql, tc.mode, render(got))
				}
				return
			}
			if !ok {
				t.Fatalf("Split(%q, %v) failed, want %q", tc.sql, tc.mode, tc.want)
			}
			if g := render(got); strings.Join(g, " | ") != strings.Join(tc.want, " | ") {
				t.Fatalf("Split(%q, %v)\n got %q\nwant %q", tc.sql, tc.mode, g, tc.want)
			}
			for _, st := range got {
				if st.Info.Flags.Has(FlagMulti) {
					t.Errorf("%q has FlagMulti", st.Text)
				}
			}
		})
	}
}

func render(sts []Statement) []string {
	var out []string
	for _, st := range sts {
		out = append(out, st.Info.Kind.String()+":"+string(st.Text))
	}
	return out
}

func TestSplitAllocs(t *testing.T) {
	q := []byte("SELECT c FROM sbtest1 WHERE id=4711; UPDATE t SET a = 'x;y' WHERE id = 1; BEGIN NOT ATOMIC SELECT 1; END")
	dst := make([]Statement, 0, 4)
	if n := testing.AllocsPerRun(100, func() { Split(dst[:0], q, 0) }); n != 0 {
		t.Fatalf("Split allocates %.0f times per call", n)
	}
}

func FuzzSplit(f *testing.F) {
	for _, tc := range []string{"SELECT 1; SELECT 2", "BEGIN NOT ATOMIC SELECT 1; END", "CREATE PROCEDURE p() BEGIN END",
		"SELECT '\\'; '", "/*! ; */", "IF 1 THEN SELECT 1; END IF"} {
		f.Add([]byte(tc), uint8(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, m uint8) {
		mode := Mode(m) &^ Oracle
		sts, ok := Split(nil, b, mode)
		if !ok {
			return
		}
		if len(sts) == 0 {
			t.Fatal("no statements")
		}
		lo, hi := trimQuery(b)
		prev := lo
		for _, st := range sts {
			off := offsetIn(b, st.Text)
			if off < prev || off+len(st.Text) > hi {
				t.Fatalf("statement %q out of order in %q", st.Text, b)
			}
			prev = off + len(st.Text)
		}
	})
}

// offsetIn is where sub, a sub-slice of b, starts.
func offsetIn(b, sub []byte) int { return cap(b) - cap(sub) }
