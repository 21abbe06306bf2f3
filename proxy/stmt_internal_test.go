package proxy

import (
	"reflect"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/router/vindex"
)

func TestDecodeParams(t *testing.T) {
	// Five parameters: TINY -1, LONGLONG unsigned 2^63, VARCHAR "42", NULL,
	// LONG 7 (types sent with this execute).
	types := []byte{mysql.MYSQL_TYPE_TINY, 0, mysql.MYSQL_TYPE_LONGLONG, 0x80, mysql.MYSQL_TYPE_VAR_STRING, 0,
		mysql.MYSQL_TYPE_LONG, 0, mysql.MYSQL_TYPE_LONG, 0}
	p := []byte{mysql.COM_STMT_EXECUTE, 1, 0, 0, 0, 0, 1, 0, 0, 0}
	p = append(p, 1<<3) // NULL bitmap: parameter 3 (0-based) is NULL
	typesAt := len(p)
	p = append(p, 1)
	p = append(p, types...)
	p = append(p, 0xff)                      // -1
	p = append(p, 0, 0, 0, 0, 0, 0, 0, 0x80) // 2^63
	p = append(p, 2, '4', '2')               // "42"
	p = append(p, 7, 0, 0, 0)                // 7
	got := decodeParams(p, 5, typesAt, types, nil)
	want := []vindex.Value{vindex.IntValue(-1), vindex.UintValue(1 << 63), vindex.StrValue("42"), {}, vindex.IntValue(7)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeParams = %+v\nwant %+v", got, want)
	}
	// A DOUBLE stops decoding: no key is guessed from it or what follows.
	types[0] = mysql.MYSQL_TYPE_DOUBLE
	if got := decodeParams(p, 5, typesAt, types, nil); len(got) != 0 {
		t.Fatalf("after a double: %+v", got)
	}
	// Truncated packets never panic.
	for i := range p {
		decodeParams(p[:i], 5, typesAt, types, nil)
	}
}
