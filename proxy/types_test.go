package proxy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"reflect"
	"strings"
	"testing"
)

// rows reads a whole result as strings ("<NULL>" for NULL) with the
// database type name of each column.
func rows(t testing.TB, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, q string, args ...any) (types []string, out [][]string) {
	t.Helper()
	r, err := db.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer r.Close()
	cts, err := r.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range cts {
		types = append(types, ct.DatabaseTypeName())
	}
	for r.Next() {
		vals := make([]sql.RawBytes, len(cts))
		ptrs := make([]any, len(cts))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				row[i] = "<NULL>"
			} else {
				row[i] = string(v)
			}
		}
		out = append(out, row)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return types, out
}

const allTypesTable = `CREATE TABLE all_types (
	id INT PRIMARY KEY,
	ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT, bi BIGINT, bu BIGINT UNSIGNED,
	de DECIMAL(20,6), fl FLOAT, db DOUBLE, bt BIT(10), yr YEAR,
	dt DATE, tm TIME(3), dtt DATETIME(6), ts TIMESTAMP NULL,
	ch CHAR(5), vc VARCHAR(100), tx TEXT, bl BLOB, vb VARBINARY(20),
	en ENUM('a','b','c'), st SET('x','y','z'), js JSON
) DEFAULT CHARSET=utf8mb4`

var allTypesRows = []string{
	`(1, -128, 65535, -8388608, -9223372036854775808, 18446744073709551615, -12345678901234.123456, 3.5, 2.718281828459045, b'1010101010', 2024,
	  '2024-02-29', '-838:59:59.999', '2024-12-31 23:59:59.999999', '2038-01-19 03:14:07', 'ab', 'héllo wörld ✓', 'long text', x'00ff10', x'deadbeef',
	  'b', 'x,z', '{"k": [1, 2, {"n": null}]}')`,
	`(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
	`(3, 0, 0, 0, 0, 0, 0, 0, 0, b'0', 1901, '1000-01-01', '00:00:00', '1000-01-01 00:00:00', NULL, '', '', '', '', '', 'a', '', '[]')`,
}

// TestColumnTypesMatchDirect compares every common column type, NULLs
// included, read through Courier and straight from MariaDB, with the text
// protocol and with prepared statements.
func TestColumnTypesMatchDirect(t *testing.T) {
	e := newEnv(t)
	d := e.direct("")
	mustExec(t, d, allTypesTable)
	mustExec(t, d, "INSERT INTO all_types VALUES "+strings.Join(allTypesRows, ","))
	modes := []struct {
		name            string
		direct, courier *sql.DB
	}{
		{"binary protocol", d, e.proxied("")},
		{"text protocol", e.direct("interpolateParams=true"), e.proxied("interpolateParams=true")},
	}
	queries := []struct {
		name string
		q    string
		args []any
	}{
		{"text", "SELECT * FROM all_types ORDER BY id", nil},
		{"prepared", "SELECT * FROM all_types WHERE id >= ? ORDER BY id", []any{1}},
		{"prepared many params", "SELECT id, ?, ?, ?, ?, ? FROM all_types WHERE id IN (?, ?) ORDER BY id",
			[]any{int64(-5), 3.25, "str", []byte{0, 1, 2}, nil, 1, 3}},
		{"expressions", "SELECT 1, NULL, 'x', 1.5e10, CAST(1 AS DECIMAL(10,2)), NOW() IS NOT NULL, ''", nil},
	}
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			for _, m := range modes {
				wantTypes, want := rows(t, m.direct, q.q, q.args...)
				gotTypes, got := rows(t, m.courier, q.q, q.args...)
				if !reflect.DeepEqual(gotTypes, wantTypes) || !reflect.DeepEqual(got, want) {
					t.Fatalf("%s through Courier:\n types %v\n rows  %q\nwant\n types %v\n rows  %q", m.name, gotTypes, got, wantTypes, want)
				}
			}
		})
	}
}

// TestBigBlobCrossesPacketBoundary stores and reads back values larger
// than one 16 MiB packet, as a prepared parameter and as a text literal.
func TestBigBlobCrossesPacketBoundary(t *testing.T) {
	e := newEnv(t)
	d := e.direct("")
	mustExec(t, d, "CREATE TABLE blobs (id INT PRIMARY KEY, b LONGBLOB)")
	p := e.proxied("maxAllowedPacket=0")
	big := bytes.Repeat([]byte("0123456789abcdef"), (17<<20)/16) // 17 MiB
	big[12345] = 0
	big[len(big)-1] = 0xff
	want := sha256.Sum256(big)

	mustExec(t, p, "INSERT INTO blobs VALUES (1, ?)", big)
	pi := e.proxied("maxAllowedPacket=0&interpolateParams=true")
	mustExec(t, pi, "INSERT INTO blobs VALUES (2, ?)", big)

	for id := 1; id <= 2; id++ {
		for name, db := range map[string]*sql.DB{"prepared": p, "text": pi} {
			var got []byte
			if err := db.QueryRow("SELECT b FROM blobs WHERE id = ?", id).Scan(&got); err != nil {
				t.Fatalf("%s read of %d: %v", name, id, err)
			}
			if sha256.Sum256(got) != want {
				t.Fatalf("%s read of row %d: %d bytes, content differs", name, id, len(got))
			}
		}
	}
	var n int
	if err := d.QueryRow("SELECT COUNT(*) FROM blobs WHERE LENGTH(b) = ?", len(big)).Scan(&n); err != nil || n != 2 {
		t.Fatalf("direct check: n=%d err=%v", n, err)
	}
	// The connection is still in step after the large packets.
	var one int
	if err := p.QueryRow("SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("after big blob: %v", err)
	}
}
