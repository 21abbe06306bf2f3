package difftest_test

import (
	"database/sql"
	"errors"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/difftest"
)

func TestDiffComparesText(t *testing.T) {
	s := func(v string) sql.NullString { return sql.NullString{String: v, Valid: true} }
	null := sql.NullString{}
	rows := func(rs ...[]sql.NullString) difftest.Result {
		return difftest.Result{Columns: []string{"a", "b"}, Rows: rs}
	}
	r := func(a, b sql.NullString) []sql.NullString { return []sql.NullString{a, b} }
	refused := difftest.Result{Err: &mysql.MySQLError{Number: 1235, Message: "not supported"}}
	for _, c := range []struct {
		name      string
		want, got difftest.Result
		ordered   bool
		same      bool
	}{
		{"same rows", rows(r(s("1"), s("x"))), rows(r(s("1"), s("x"))), true, true},
		{"NULL is not empty", rows(r(s("1"), null)), rows(r(s("1"), s(""))), false, false},
		{"order matters when ordered", rows(r(s("1"), s("x")), r(s("2"), s("y"))), rows(r(s("2"), s("y")), r(s("1"), s("x"))), true, false},
		{"a multiset otherwise", rows(r(s("1"), s("x")), r(s("2"), s("y"))), rows(r(s("2"), s("y")), r(s("1"), s("x"))), false, true},
		{"duplicates count", rows(r(s("1"), s("x")), r(s("1"), s("x"))), rows(r(s("1"), s("x")), r(s("2"), s("x"))), false, false},
		{"decimals are text", rows(r(s("1.5000"), null)), rows(r(s("1.5"), null)), false, false},
		{"column names", rows(), difftest.Result{Columns: []string{"a", "B"}}, false, false},
		{"affected rows", difftest.Result{Affected: 2}, difftest.Result{Affected: 3}, false, false},
		{"a batch's affected rows", difftest.Result{AllAffected: []int64{0, 1, 1, 0}}, difftest.Result{AllAffected: []int64{0}}, false, false},
		{"an error for rows", rows(), refused, false, false},
		{"the same error", refused, refused, false, true},
		{"a lost connection", refused, difftest.Result{Err: errors.New("EOF")}, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if d := difftest.Diff(c.want, c.got, c.ordered); (d == "") != c.same {
				t.Fatalf("Diff = %q", d)
			}
		})
	}
}
