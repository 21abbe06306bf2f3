package parser

import "testing"

// normCorpus holds statements as applications send them: sysbench,
// TPC-C-like transactions, ORM output with trace comments, and the
// corners of value positions.
var normCorpus = []string{
	"SELECT c FROM sbtest1 WHERE id=4242",
	"SELECT c FROM sbtest1 WHERE id BETWEEN 100 AND 199",
	"SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN 100 AND 199",
	"SELECT c FROM sbtest1 WHERE id BETWEEN 100 AND 199 ORDER BY c",
	"SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 100 AND 199 ORDER BY c",
	"UPDATE sbtest1 SET k=k+1 WHERE id=4242",
	"UPDATE sbtest1 SET c='94-1' WHERE id=4242",
	"DELETE FROM sbtest1 WHERE id=4242",
	"INSERT INTO sbtest1 (id, k, c, pad) VALUES (4242, 1, '0-1-2', 'pad')",
	"SELECT w_tax, c_discount, c_last FROM warehouse, customer WHERE w_id = 1 AND c_w_id = w_id AND c_d_id = 3 AND c_id = 17",
	"SELECT s_quantity, s_data FROM stock WHERE s_i_id = 5 AND s_w_id = 1 FOR UPDATE",
	"SELECT o_id, o_carrier_id, o_entry_d FROM orders WHERE o_w_id = 1 AND o_d_id = 2 AND o_c_id = 3 ORDER BY o_id DESC LIMIT 1",
	"SELECT COUNT(DISTINCT (s_i_id)) FROM order_line, stock WHERE ol_w_id = 1 AND ol_d_id = 2 AND ol_o_id < 300 AND ol_o_id >= 280 AND s_w_id = 1 AND s_i_id = ol_i_id AND s_quantity < 15",
	"/* app=web,trace=4bf92f3577b34da6 */ SELECT `users`.* FROM `users` WHERE `users`.`id` = 12 LIMIT 1",
	"SELECT `posts`.`id`, `posts`.`title` FROM `posts` WHERE `posts`.`user_id` IN (1, 2, 3) AND (`posts`.`deleted_at` IS NULL) ORDER BY `posts`.`created_at` DESC",
	"INSERT INTO `events` (`name`, `payload`, `created_at`) VALUES ('signup', '{\"a\": 1}', '2024-05-01 10:00:00.123456')",
	"UPDATE `accounts` SET `balance` = `balance` - 10.50, `updated_at` = NOW() WHERE `id` = 7 AND `balance` >= 10.50",
	"SELECT * FROM t WHERE a = -1 AND b = - 2.5 AND c = -3e2 AND d <> -4 AND e IN (-5, - 6)",
	"SELECT a - 1, a-1, a - -1, 1 - -1, (1) - 1, ? - 1 FROM t",
	"SELECT * FROM t WHERE a = ? AND b IN (?, ?, 3) LIMIT ?",
	"SELECT a, COUNT(*) AS n FROM t GROUP BY a, 2 HAVING COUNT(*) > 1 ORDER BY 2 DESC, a LIMIT 10, 20",
	"SELECT CAST(a AS DECIMAL(10, 2)), CAST(b AS CHAR(20) CHARACTER SET utf8mb4), CONVERT(c, SIGNED), CAST(d AS TIME(3)) FROM t",
	"SELECT DATE_FORMAT(created_at, '%Y-%m-%d'), DATE_ADD(created_at, INTERVAL 7 DAY), TIMESTAMPADD(MINUTE, 5, created_at) FROM t",
	"SELECT _utf8mb4'abc' COLLATE utf8mb4_bin, _binary'\\x00', N'national', x'CAFE', 0xBEEF, b'1010', 0b11 FROM dual",
	"SELECT DATE '2024-01-01', TIME '10:00:00', TIMESTAMP '2024-01-01 10:00:00'",
	"SELECT 'it''s', 'a\\'b', \"dq\", 'tab\\there', 'pct\\%us', '' FROM t WHERE name LIKE 'a\\_%' ESCAPE '\\\\'",
	"SELECT a AS 'x', b 'y', c AS \"z\" FROM t",
	"SELECT CASE WHEN a > 1 THEN 'big' WHEN a = 1 THEN 'one' ELSE 'small' END FROM t",
	"SELECT IF(a IS NULL, 0, a), IFNULL(b, 'none'), COALESCE(c, d, 1.5) FROM t",
	"SELECT * FROM a JOIN b ON a.id = b.a_id AND b.kind = 'x' LEFT JOIN c ON c.id = 1 WHERE a.x > 0.5",
	"SELECT * FROM t WHERE (a, b) IN ((1, 'x'), (2, 'y'))",
	"SELECT * FROM t WHERE a IN (SELECT b FROM u WHERE c = 1 ORDER BY 1 LIMIT 5)",
	"SELECT a FROM t UNION ALL SELECT 1 UNION SELECT 'x' ORDER BY 1",
	"(SELECT a FROM t WHERE b = 1) UNION (SELECT a FROM u WHERE b = 2) LIMIT 3",
	"WITH x AS (SELECT a FROM t WHERE b = 5) SELECT * FROM x WHERE a > 2",
	"INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, NULL) ON DUPLICATE KEY UPDATE b = VALUES(b), c = c + 1",
	"INSERT INTO t SET a = 1, b = 'x'",
	"INSERT INTO t (a) SELECT b FROM u WHERE c = 3",
	"REPLACE INTO t (a, b) VALUES (1, 2)",
	"UPDATE t SET a = 1 WHERE b = 2 ORDER BY c LIMIT 10",
	"DELETE FROM t WHERE a < 100 ORDER BY a LIMIT 5",
	"SELECT * FROM t WHERE a = 18446744073709551615 OR b = 9223372036854775808 OR c = 99999999999999999999999",
	"SELECT 1.0, .5, 1., 1e10, 1.5E-3, 007, 0.0e0 FROM dual",
	"SELECT GROUP_CONCAT(DISTINCT a ORDER BY a DESC SEPARATOR '; ') FROM t WHERE b = 'x'",
	"SELECT * FROM t WHERE MATCH (a, b) AGAINST ('words' IN BOOLEAN MODE)",
	"SELECT SUBSTRING(a, 1, 3), SUBSTRING(a FROM 2 FOR 3), TRIM(LEADING 'x' FROM a), LEFT(a, 2) FROM t",
	"SELECT a FROM t WHERE b REGEXP '^a.*' AND c NOT LIKE '%z' AND d NOT IN (1, 2) AND NOT e",
	"SELECT a FROM t WHERE b = 1 /*!40001 AND c = 2 */ /*M!100500 AND d = 3 */ /*!80000 AND e = 4 */",
	"SELECT a FROM t WHERE b = 1 -- trailing comment\n AND c = 2 # another\n",
	"SELECT @x := 1, @y, @@session.time_zone, @@max_allowed_packet FROM dual",
	"SELECT a FROM t WHERE b = 0x41 AND c = X'42' AND d = 1 LOCK IN SHARE MODE",
	"SELECT a FROM t FORCE INDEX (idx_b) WHERE b > 10 LIMIT 1 OFFSET 2",
	"SELECT ROUND(a, 2), TRUNCATE(b, 1), MOD(c, 3), c DIV 2, c % 2 FROM t",
	"SELECT JSON_EXTRACT(doc, '$.a'), JSON_UNQUOTE(JSON_EXTRACT(doc, '$.b')) FROM t WHERE JSON_CONTAINS(doc, '1', '$.c')",
	"SELECT NOW(6), CURRENT_TIMESTAMP(3), UTC_TIMESTAMP(), CURDATE(), CHAR(65, 66) FROM dual",
	"SELECT a FROM t WHERE d > CURRENT_DATE - INTERVAL 30 DAY",
	"SELECT a FROM t WHERE b = ~1 AND c = !0 AND d = +5 AND e = 1 << 2 AND f = 7 & 3",
	"SELECT a FROM t WHERE b <=> NULL AND c >= 3 AND d != 4",
	"select A from T where B=1 and C=2",
	"SELECT\ta\nFROM\r\nt  WHERE   b = 'multi\nline'",
}

// FuzzNormalize checks that a statement's shape, with its values put back,
// reads as the statement does: under the default mode, and under a mode
// the fuzzer picks (against ForParse's reading of the original).
func FuzzNormalize(f *testing.F) {
	for _, s := range normCorpus {
		f.Add([]byte(s), uint8(0))
	}
	for _, tc := range normCases {
		f.Add([]byte(tc.sql), uint8(tc.mode))
	}
	var sh Shape
	f.Fuzz(func(t *testing.T, sql []byte, m uint8) {
		for _, mode := range []Mode{0, Mode(m) & (NoBackslashEscapes | AnsiQuotes | MultibyteEscapes | PipesAsConcat | HighNotPrecedence)} {
			if !sh.Normalize(sql, mode) {
				continue
			}
			if err := sameReading(sql, mode, &sh); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestNormalizeCorpus runs the corpus as a test: every statement
// normalizes, and reads as its shape does.
func TestNormalizeCorpus(t *testing.T) {
	var sh Shape
	for _, s := range normCorpus {
		if !sh.Normalize([]byte(s), 0) {
			t.Errorf("Normalize(%q) failed", s)
			continue
		}
		if _, err := vitess.Parse(s); err != nil {
			t.Errorf("vitess does not read corpus statement %q: %v", s, err)
		}
		if err := sameReading([]byte(s), 0, &sh); err != nil {
			t.Error(err)
		}
	}
}

// gen builds a statement from fuzz bytes: templates whose holes take
// literals in every spelling, placeholders, columns and expressions, with
// white space and comments between tokens.
type gen struct {
	b []byte
	n int
}

func (g *gen) pick(n int) int {
	if g.n >= len(g.b) {
		return 0
	}
	g.n++
	return int(g.b[g.n-1]) % n
}

var genTemplates = []string{
	"SELECT %v FROM t WHERE a = %v AND b IN (%v, %v) ORDER BY %v LIMIT %v",
	"SELECT %v, %v AS x FROM t GROUP BY %v HAVING COUNT(*) > %v",
	"INSERT INTO t (a, b, c) VALUES (%v, %v, %v), (%v, %v, %v)",
	"UPDATE t SET a = %v, b = b - %v WHERE c BETWEEN %v AND %v",
	"DELETE FROM t WHERE a = %v OR b <> %v LIMIT %v",
	"SELECT CAST(%v AS CHAR(10)), CONVERT(%v, DECIMAL(10,2)), DATE_ADD(d, INTERVAL %v DAY) FROM t",
	"SELECT CASE WHEN a = %v THEN %v ELSE %v END FROM t WHERE b LIKE %v",
	"SELECT * FROM t WHERE (a, b) IN ((%v, %v)) AND c = -%v AND d = - %v",
}

var genPieces = []string{
	"1", "0", "42", "007", "-1", "- 2", "-  3", "9223372036854775807", "9223372036854775808",
	"18446744073709551616", "1.5", ".5", "1.", "-1.5", "1e3", "1.5E-2", "-2e+5",
	"'x'", "''", "'it''s'", `'a\'b'`, `'back\\slash'`, `'\n\t\0\Z\%\_'`, `"dq"`, `"d""q"`,
	"_utf8mb4'u'", "N'n'", "X'41'", "0x41", "b'1'", "0b1", "DATE '2024-01-01'", "TIMESTAMP '2024-01-01 10:00:00'",
	"?", "a", "`b`", "t.c", "NULL", "TRUE", "@v", "@@sql_mode", "(1)", "(-1)", "a + 1", "a-1", "a - -1",
	"LENGTH('s')", "CONCAT('a', 1)", "NOW()", "NOW(6)", "'x' COLLATE utf8mb4_bin", "1 /* c */", "/*!40001 1 */",
}

func (g *gen) statement() []byte {
	tpl := genTemplates[g.pick(len(genTemplates))]
	var out []byte
	for i := 0; i < len(tpl); i++ {
		if tpl[i] == '%' && i+1 < len(tpl) && tpl[i+1] == 'v' {
			i++
			out = append(out, genPieces[g.pick(len(genPieces))]...)
			continue
		}
		if tpl[i] == ' ' {
			out = append(out, [...]string{" ", "  ", "\n", " /* note */ ", " -- c\n", "\t"}[g.pick(6)]...)
			continue
		}
		out = append(out, tpl[i])
	}
	return out
}

// FuzzNormalizeGenerated checks generated statements as FuzzNormalize
// checks the corpus: each normalizes, and its shape reads as it does.
func FuzzNormalizeGenerated(f *testing.F) {
	for _, s := range []string{"", "\x00\x01\x02\x03\x04\x05\x06\x07", "\x07\x13\x21\x2f\x05\x11\x31\x0c\x22"} {
		f.Add([]byte(s))
	}
	var sh Shape
	f.Fuzz(func(t *testing.T, b []byte) {
		g := gen{b: b}
		sql := g.statement()
		if !sh.Normalize(sql, 0) {
			if _, err := vitess.Parse(string(sql)); err == nil {
				t.Fatalf("Normalize(%q) failed", sql)
			}
			return
		}
		if err := sameReading(sql, 0, &sh); err != nil {
			t.Fatal(err)
		}
	})
}
