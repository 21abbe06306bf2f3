package proxy

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestDecodeParams(t *testing.T) {
	// Six parameters: TINY -1, LONGLONG unsigned 2^63, VARCHAR "42", NULL,
	// LONG 7, DOUBLE 1.5 (types sent with this execute).
	types := []byte{mysql.MYSQL_TYPE_TINY, 0, mysql.MYSQL_TYPE_LONGLONG, 0x80, mysql.MYSQL_TYPE_VAR_STRING, 0,
		mysql.MYSQL_TYPE_LONG, 0, mysql.MYSQL_TYPE_LONG, 0, mysql.MYSQL_TYPE_DOUBLE, 0}
	p := []byte{mysql.COM_STMT_EXECUTE, 1, 0, 0, 0, 0, 1, 0, 0, 0}
	p = append(p, 1<<3) // NULL bitmap: parameter 3 (0-based) is NULL
	typesAt := len(p)
	p = append(p, 1)
	p = append(p, types...)
	p = append(p, 0xff)                      // -1
	p = append(p, 0, 0, 0, 0, 0, 0, 0, 0x80) // 2^63
	p = append(p, 2, '4', '2')               // "42"
	p = append(p, 7, 0, 0, 0)                // 7
	p = append(p, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f)
	cs := &clientStmt{params: 6, typesAt: typesAt, types: types}
	got, err := cs.decode(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"INT64(-1)", "UINT64(9223372036854775808)", `VARCHAR("42")`, "NULL", "INT64(7)", "FLOAT64(1.5e+00)"}
	if len(got) != len(want) {
		t.Fatalf("decoded %d values, want %d", len(got), len(want))
	}
	for i, v := range got {
		if s := v.v.String(); s != want[i] {
			t.Errorf("parameter %d = %s, want %s", i, s, want[i])
		}
	}
	// Truncated packets never panic.
	for i := range p {
		_, _ = cs.decode(p[:i])
	}
}
