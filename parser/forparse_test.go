package parser

import "testing"

func TestForParse(t *testing.T) {
	tests := []struct {
		mode Mode
		sql  string
		want string // "" when ForParse must append nothing
	}{
		{0, "SELECT 'a\\'b' FROM t /* c */ WHERE x = \"y\"", "SELECT 'a\\'b' FROM t /* c */ WHERE x = \"y\""},
		{0, "  SELECT 1 ;; ", "SELECT 1"},
		{nbe, `SELECT 'a\', "b\", 'c''d', N'e\', @'f\' FROM t`, `SELECT 'a\\', 'b\\', 'c\'d', N'e\\', @'f\\' FROM t`},
		{nbe, `SELECT 'plain', "dq"`, `SELECT 'plain', "dq"`},
		{ansi, `SELECT "a""b", 'c', "d` + "`" + `e" FROM "t" WHERE @"v" = 1`, "SELECT `a\"b`, 'c', `d``e` FROM `t` WHERE @`v` = 1"},
		{ansi | nbe, `SELECT "x\" FROM t WHERE a = 'y\'`, "SELECT `x\\` FROM t WHERE a = 'y\\\\'"},
		{0, "SELECT 1 /*!40001 , 2 */ /*!50700 , 3 */ /*M!50700 , 4 */ /*!101200 , 5 */", "SELECT 1 , 2 , 4 "},
		{0, "SELECT 1 --\x01 comment\n, 2", "SELECT 1 , 2"},
		{0, "SELECT 1\f, 2", "SELECT 1 , 2"},
		{0, "SELECT 1--1, 2----\x1f", "SELECT 1- -1, 2- - "},
		{0, `SELECT N"x"`, `SELECT N "x"`},
		{0, "SELECT 'unterminated", ""},
		{0, "SELECT 1 /*!101150 , 2 */", ""},
		{0, "SELECT 1 # x\x00, 2", ""},
		{MultibyteEscapes, "SELECT '\x81\\'", ""},
		{MultibyteEscapes | nbe, "SELECT '\x81\\'", "SELECT '\x81\\\\'"},
		{PipesAsConcat, "SELECT 'a' || 'b'", ""},
		{0, "SELECT 'a' || 'b'", "SELECT 'a' || 'b'"},
		{HighNotPrecedence, "SELECT NOT 1 BETWEEN 2 AND 3", ""},
		{HighNotPrecedence, "SELECT 1 NOT BETWEEN 2 AND 3", "SELECT 1 NOT BETWEEN 2 AND 3"},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			dst := []byte("x")
			got := ForParse(dst, []byte(tc.sql), tc.mode)
			if string(got) != "x"+tc.want {
				t.Fatalf("ForParse(%q, %v) = %q, want %q", tc.sql, tc.mode, got[1:], tc.want)
			}
		})
	}
}

func TestForParseAllocs(t *testing.T) {
	q := []byte(`SELECT "a\" FROM t WHERE b = 'c'`)
	dst := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { ForParse(dst[:0], q, AnsiQuotes|NoBackslashEscapes) }); n != 0 {
		t.Fatalf("ForParse allocates %.0f times per call", n)
	}
}
