package proxy

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/router/vindex"
)

// decodeParams reads the bound values of a COM_STMT_EXECUTE as sharding
// key values: integers and strings; NULL matches no key. A float or a
// decimal (42.0 equals key 42) is not taken as a key: it and the values
// after it stay unset, so the key it binds cannot be routed.
func decodeParams(p []byte, n, typesAt int, types []byte, long [][]byte) []vindex.Value {
	lits, _ := decodeLiterals(p, n, typesAt, types, long)
	args := make([]vindex.Value, 0, len(lits))
	for _, l := range lits {
		if l.Kind == router.LitNull {
			args = append(args, vindex.Value{})
			continue
		}
		v, ok := l.Key()
		if !ok {
			break
		}
		if v.IsUint && v.Uint <= math.MaxInt64 {
			v = vindex.IntValue(int64(v.Uint))
		}
		args = append(args, v)
	}
	return args
}

// decodeLiterals reads every bound value of a COM_STMT_EXECUTE (with the
// values sent before it as long data). It returns the values it could
// read and an error for the first it could not.
func decodeLiterals(p []byte, n, typesAt int, types []byte, long [][]byte) ([]router.Literal, error) {
	if n == 0 {
		return nil, nil
	}
	if len(types) < 2*n || typesAt >= len(p) {
		return nil, fmt.Errorf("parameter types missing")
	}
	longData := map[int][]byte{}
	for _, ld := range long { // [cmd][stmt id 4][param id 2][data]
		id := int(binary.LittleEndian.Uint16(ld[5:7]))
		longData[id] = append(longData[id], ld[7:]...)
	}
	nulls := p[10:typesAt]
	pos := typesAt + 1
	if p[typesAt] == 1 {
		pos += 2 * n
	}
	out := make([]router.Literal, 0, n)
	for i := range n {
		if nulls[i/8]&(1<<(i%8)) != 0 {
			out = append(out, router.Literal{Kind: router.LitNull})
			continue
		}
		if d, ok := longData[i]; ok {
			out = append(out, router.Literal{Kind: router.LitString, Text: string(d)})
			continue
		}
		lit, size, err := decodeValue(p[min(pos, len(p)):], types[2*i], types[2*i+1]&0x80 != 0)
		if err != nil {
			return out, fmt.Errorf("parameter %d: %w", i+1, err)
		}
		pos += size
		out = append(out, lit)
	}
	return out, nil
}

var errShortParam = fmt.Errorf("value cut short")

// decodeValue reads one binary-protocol value of type t.
func decodeValue(b []byte, t byte, unsigned bool) (router.Literal, int, error) {
	fixed := func(size int) (uint64, error) {
		if len(b) < size {
			return 0, errShortParam
		}
		var u uint64
		for j := size - 1; j >= 0; j-- {
			u = u<<8 | uint64(b[j])
		}
		return u, nil
	}
	integer := func(size int) (router.Literal, int, error) {
		u, err := fixed(size)
		if err != nil {
			return router.Literal{}, 0, err
		}
		if unsigned {
			return router.Literal{Kind: router.LitUint, Text: strconv.FormatUint(u, 10)}, size, nil
		}
		shift := 64 - 8*size // sign-extend
		return router.Literal{Kind: router.LitInt, Text: strconv.FormatInt(int64(u<<shift)>>shift, 10)}, size, nil
	}
	if size := intSize(t); size > 0 {
		return integer(size)
	}
	switch t {
	case mysql.MYSQL_TYPE_NULL:
		return router.Literal{Kind: router.LitNull}, 0, nil
	case mysql.MYSQL_TYPE_FLOAT:
		u, err := fixed(4)
		if err != nil {
			return router.Literal{}, 0, err
		}
		f := math.Float32frombits(uint32(u))
		return floatLiteral(float64(f), 32), 4, nil
	case mysql.MYSQL_TYPE_DOUBLE:
		u, err := fixed(8)
		if err != nil {
			return router.Literal{}, 0, err
		}
		return floatLiteral(math.Float64frombits(u), 64), 8, nil
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP:
		return decodeDate(b, t == mysql.MYSQL_TYPE_DATE)
	case mysql.MYSQL_TYPE_TIME:
		return decodeTime(b)
	case mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL:
		s, k, err := wire.ReadLenEncString(b)
		if err != nil {
			return router.Literal{}, 0, err
		}
		return router.Literal{Kind: router.LitDecimal, Text: string(s)}, k, nil
	}
	// strings, blobs, ENUM, SET, JSON, BIT, GEOMETRY: length-encoded bytes
	s, k, err := wire.ReadLenEncString(b)
	if err != nil {
		return router.Literal{}, 0, err
	}
	return router.Literal{Kind: router.LitString, Text: string(s)}, k, nil
}

func floatLiteral(f float64, bits int) router.Literal {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return router.Literal{Kind: router.LitNull}
	}
	return router.Literal{Kind: router.LitFloat, Text: strconv.FormatFloat(f, 'e', -1, bits)}
}

// decodeDate reads a binary DATE, DATETIME or TIMESTAMP as text.
func decodeDate(b []byte, dateOnly bool) (router.Literal, int, error) {
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return router.Literal{}, 0, errShortParam
	}
	n := int(b[0])
	var year, month, day, hour, minute, sec, micro int
	if n >= 4 {
		year, month, day = int(binary.LittleEndian.Uint16(b[1:])), int(b[3]), int(b[4])
	}
	if n >= 7 {
		hour, minute, sec = int(b[5]), int(b[6]), int(b[7])
	}
	if n >= 11 {
		micro = int(binary.LittleEndian.Uint32(b[8:]))
	}
	text := fmt.Sprintf("%04d-%02d-%02d", year, month, day)
	if !dateOnly {
		text += fmt.Sprintf(" %02d:%02d:%02d", hour, minute, sec)
		if micro > 0 {
			text += fmt.Sprintf(".%06d", micro)
		}
	}
	return router.Literal{Kind: router.LitString, Text: text}, 1 + n, nil
}

// decodeTime reads a binary TIME as text.
func decodeTime(b []byte) (router.Literal, int, error) {
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return router.Literal{}, 0, errShortParam
	}
	n := int(b[0])
	var neg bool
	var days, hour, minute, sec, micro int
	if n >= 8 {
		neg, days, hour, minute, sec = b[1] == 1, int(binary.LittleEndian.Uint32(b[2:])), int(b[6]), int(b[7]), int(b[8])
	}
	if n >= 12 {
		micro = int(binary.LittleEndian.Uint32(b[9:]))
	}
	text := fmt.Sprintf("%02d:%02d:%02d", days*24+hour, minute, sec)
	if micro > 0 {
		text += fmt.Sprintf(".%06d", micro)
	}
	if neg {
		text = "-" + text
	}
	return router.Literal{Kind: router.LitString, Text: text}, 1 + n, nil
}
