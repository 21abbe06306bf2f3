package proxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
	"vitess.io/vitess/go/sqltypes"

	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/sqlerr"
)

// paramValue is one bound parameter of an execution.
type paramValue struct{ v sqltypes.Value }

// decode reads the parameters of a COM_STMT_EXECUTE of cs (with the
// values sent before it as long data) as bind values. Strings point into
// the packet (valid while the execution runs); numbers are written into
// the statement's own buffer, reused from one execution to the next.
func (cs *clientStmt) decode(p []byte) ([]paramValue, error) {
	n := int(cs.params)
	cs.vals = cs.vals[:0]
	cs.arena = cs.arena[:0]
	if n == 0 {
		return nil, nil
	}
	at := cs.typesAt
	if len(cs.types) < 2*n || at >= len(p) {
		return nil, sqlerr.New(sqlerr.ErrWrongArguments, "Incorrect arguments to mysqld_stmt_execute: parameter types missing")
	}
	nulls := p[10:at]
	pos := at + 1
	if p[at] == 1 {
		pos += 2 * n
	}
	for i := range n {
		if nulls[i/8]&(1<<(i%8)) != 0 {
			cs.vals = append(cs.vals, paramValue{sqltypes.NULL})
			continue
		}
		if d, ok := cs.longData(i); ok {
			cs.vals = append(cs.vals, paramValue{sqltypes.MakeTrusted(stringType(cs.types[2*i]), d)})
			continue
		}
		v, size, err := cs.value(p[min(pos, len(p)):], cs.types[2*i], cs.types[2*i+1]&0x80 != 0)
		if err != nil {
			return nil, sqlerr.Wrap(err, sqlerr.ErrMalformedPacket, "Malformed communication packet: parameter %d: %v", i+1, err)
		}
		pos += size
		cs.vals = append(cs.vals, paramValue{v})
	}
	return cs.vals, nil
}

// longData returns the bytes sent for parameter i with
// COM_STMT_SEND_LONG_DATA, if any: [cmd][stmt id 4][param id 2][data].
func (cs *clientStmt) longData(i int) ([]byte, bool) {
	var d []byte
	found := false
	for _, ld := range cs.long {
		if int(binary.LittleEndian.Uint16(ld[5:7])) == i {
			d, found = append(d, ld[7:]...), true
		}
	}
	return d, found
}

var errShortParam = errors.New("value cut short")

// value reads one binary-protocol value of type t.
func (cs *clientStmt) value(b []byte, t byte, unsigned bool) (sqltypes.Value, int, error) {
	if size := intSize(t); size > 0 {
		if len(b) < size {
			return sqltypes.NULL, 0, errShortParam
		}
		var u uint64
		for j := size - 1; j >= 0; j-- {
			u = u<<8 | uint64(b[j])
		}
		start := len(cs.arena)
		if unsigned {
			cs.arena = strconv.AppendUint(cs.arena, u, 10)
			return sqltypes.MakeTrusted(sqltypes.Uint64, cs.arena[start:]), size, nil
		}
		shift := 64 - 8*size // sign-extend
		cs.arena = strconv.AppendInt(cs.arena, int64(u<<shift)>>shift, 10)
		return sqltypes.MakeTrusted(sqltypes.Int64, cs.arena[start:]), size, nil
	}
	switch t {
	case mysql.MYSQL_TYPE_NULL:
		return sqltypes.NULL, 0, nil
	case mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE:
		size, bits := 8, 64
		if t == mysql.MYSQL_TYPE_FLOAT {
			size, bits = 4, 32
		}
		if len(b) < size {
			return sqltypes.NULL, 0, errShortParam
		}
		var f float64
		if size == 4 {
			f = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		} else {
			f = math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return sqltypes.NULL, size, nil
		}
		start := len(cs.arena)
		cs.arena = strconv.AppendFloat(cs.arena, f, 'e', -1, bits)
		return sqltypes.MakeTrusted(sqltypes.Float64, cs.arena[start:]), size, nil
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP:
		return cs.date(b, t == mysql.MYSQL_TYPE_DATE)
	case mysql.MYSQL_TYPE_TIME:
		return cs.time(b)
	}
	s, k, err := wire.ReadLenEncString(b)
	if err != nil {
		return sqltypes.NULL, 0, err
	}
	if t == mysql.MYSQL_TYPE_DECIMAL || t == mysql.MYSQL_TYPE_NEWDECIMAL {
		return sqltypes.MakeTrusted(sqltypes.Decimal, s), k, nil
	}
	return sqltypes.MakeTrusted(stringType(t), s), k, nil
}

// stringType is the bind type of a string parameter: binary for the
// BLOB types (the server reads them as binary strings), text otherwise.
func stringType(t byte) sqltypes.Type {
	switch t {
	case mysql.MYSQL_TYPE_TINY_BLOB, mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_MEDIUM_BLOB, mysql.MYSQL_TYPE_LONG_BLOB,
		mysql.MYSQL_TYPE_GEOMETRY, mysql.MYSQL_TYPE_BIT:
		return sqltypes.VarBinary
	}
	return sqltypes.VarChar
}

// date reads a binary DATE, DATETIME or TIMESTAMP as its text.
func (cs *clientStmt) date(b []byte, dateOnly bool) (sqltypes.Value, int, error) {
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return sqltypes.NULL, 0, errShortParam
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
	start := len(cs.arena)
	cs.arena = fmt.Appendf(cs.arena, "%04d-%02d-%02d", year, month, day)
	typ := sqltypes.Date
	if !dateOnly {
		typ = sqltypes.Datetime
		cs.arena = fmt.Appendf(cs.arena, " %02d:%02d:%02d", hour, minute, sec)
		if micro > 0 {
			cs.arena = fmt.Appendf(cs.arena, ".%06d", micro)
		}
	}
	return sqltypes.MakeTrusted(typ, cs.arena[start:]), 1 + n, nil
}

// time reads a binary TIME as its text.
func (cs *clientStmt) time(b []byte) (sqltypes.Value, int, error) {
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return sqltypes.NULL, 0, errShortParam
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
	start := len(cs.arena)
	if neg {
		cs.arena = append(cs.arena, '-')
	}
	cs.arena = fmt.Appendf(cs.arena, "%02d:%02d:%02d", days*24+hour, minute, sec)
	if micro > 0 {
		cs.arena = fmt.Appendf(cs.arena, ".%06d", micro)
	}
	return sqltypes.MakeTrusted(sqltypes.Time, cs.arena[start:]), 1 + n, nil
}
