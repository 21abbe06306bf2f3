package difftest_test

import (
	"reflect"
	"testing"

	"github.com/courier-proxy/courier/difftest"
)

func TestParameterize(t *testing.T) {
	for _, c := range []struct {
		name, sql, want string
		args            []any
	}{
		{"integers and strings", "SELECT * FROM orders WHERE order_id = 12 AND status = 'placed'",
			"SELECT * FROM orders WHERE order_id = ? AND status = ?", []any{int64(12), "placed"}},
		{"identifiers keep their digits", "SELECT o.order_id FROM orders_by_user_id o, t1 WHERE c2 = 3",
			"SELECT o.order_id FROM orders_by_user_id o, t1 WHERE c2 = ?", []any{int64(3)}},
		{"negative and LIMIT", "SELECT 1 FROM orders WHERE order_id = -5 LIMIT 10, 20",
			"SELECT ? FROM orders WHERE order_id = ? LIMIT ?, ?", []any{int64(1), int64(-5), int64(10), int64(20)}},
		{"minus after an operand subtracts", "SELECT a -1, (b)-2, 3 - 4, IN (-5, -6) FROM t WHERE x = -'7'",
			"SELECT a -?, (b)-?, ? - ?, IN (?, ?) FROM t WHERE x = -?", []any{int64(1), int64(2), int64(3), int64(4), int64(-5), int64(-6), "7"}},
		{"escapes undone", `SELECT 'it''s', 'back\\slash', 'a\nb', '%\_%'`,
			"SELECT ?, ?, ?, ?", []any{"it's", `back\slash`, "a\nb", `%\_%`}},
		{"literals kept", `SELECT 12.0, 1e3, 0x1f, x'41', b'101', "quoted", .5 FROM t ORDER BY 2`,
			`SELECT 12.0, 1e3, 0x1f, x'41', b'101', "quoted", .5 FROM t ORDER BY 2`, nil},
		{"separator kept", "SELECT GROUP_CONCAT(status ORDER BY status SEPARATOR '|') FROM orders WHERE city_id = 3",
			"SELECT GROUP_CONCAT(status ORDER BY status SEPARATOR '|') FROM orders WHERE city_id = ?", []any{int64(3)}},
		{"intervals and four-byte text", "SELECT created_at + INTERVAL 1 DAY FROM order_items WHERE item = 'sushi 🍣 box'",
			"SELECT created_at + INTERVAL ? DAY FROM order_items WHERE item = ?", []any{int64(1), "sushi 🍣 box"}},
		{"beyond int64 stays", "SELECT 18446744073709551615", "SELECT 18446744073709551615", nil},
		{"comments and back quotes", "SELECT /* 1 */ `a 2` FROM t WHERE x = '2'",
			"SELECT /* 1 */ `a 2` FROM t WHERE x = ?", []any{"2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, args := difftest.Parameterize(c.sql)
			if got != c.want || !reflect.DeepEqual(args, c.args) {
				t.Fatalf("Parameterize(%q)\n got %q %#v\nwant %q %#v", c.sql, got, args, c.want, c.args)
			}
		})
	}
}
