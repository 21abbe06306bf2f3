package proxy

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router/engine"
)

// appendTextRow encodes a text-protocol row.
func appendTextRow(dst []byte, row engine.Row) []byte {
	for _, v := range row {
		if v == nil {
			dst = append(dst, 0xfb)
			continue
		}
		dst = wire.AppendLenEncInt(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	return dst
}

// appendBinaryRow encodes a text-protocol row as a binary-protocol row
// (the reply to COM_STMT_EXECUTE) for columns cols.
func appendBinaryRow(dst []byte, cols []engine.Column, row engine.Row) []byte {
	dst = append(dst, 0)
	bitmap := len(dst)
	for range (len(cols) + 7 + 2) / 8 {
		dst = append(dst, 0)
	}
	for i, c := range cols {
		v := row[i]
		if v == nil {
			pos := i + 2
			dst[bitmap+pos/8] |= 1 << (pos % 8)
			continue
		}
		dst = appendBinaryValue(dst, &c, v)
	}
	return dst
}

func appendBinaryValue(dst []byte, c *engine.Column, v []byte) []byte {
	integer := func(size int) []byte {
		var u uint64
		if c.Flags&mysql.UNSIGNED_FLAG != 0 {
			u, _ = strconv.ParseUint(string(v), 10, 64)
		} else {
			i, _ := strconv.ParseInt(string(v), 10, 64)
			u = uint64(i)
		}
		for j := range size {
			dst = append(dst, byte(u>>(8*j)))
		}
		return dst
	}
	if size := intSize(c.Type); size > 0 {
		return integer(size)
	}
	switch c.Type {
	case mysql.MYSQL_TYPE_FLOAT:
		f, _ := strconv.ParseFloat(string(v), 32)
		return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(f)))
	case mysql.MYSQL_TYPE_DOUBLE:
		f, _ := strconv.ParseFloat(string(v), 64)
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2,
		mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
		return appendBinaryDate(dst, string(v))
	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		return appendBinaryTime(dst, string(v))
	}
	dst = wire.AppendLenEncInt(dst, uint64(len(v)))
	return append(dst, v...)
}

// intSize is the binary-protocol size of integer type t, 0 for others.
func intSize(t byte) int {
	switch t {
	case mysql.MYSQL_TYPE_TINY:
		return 1
	case mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_YEAR:
		return 2
	case mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_INT24:
		return 4
	case mysql.MYSQL_TYPE_LONGLONG:
		return 8
	}
	return 0
}

// appendBinaryDate encodes 'YYYY-MM-DD[ HH:MM:SS[.ffffff]]'.
func appendBinaryDate(dst []byte, s string) []byte {
	num := func(a, b int) int {
		if b > len(s) {
			return 0
		}
		n, _ := strconv.Atoi(s[a:b])
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec := num(11, 13), num(14, 16), num(17, 19)
	micro := 0
	if len(s) > 20 {
		micro, _ = strconv.Atoi((s[20:] + "000000")[:6])
	}
	var size byte
	switch {
	case micro != 0:
		size = 11
	case hour|minute|sec != 0:
		size = 7
	case year|month|day != 0:
		size = 4
	}
	dst = append(dst, size)
	if size == 0 {
		return dst
	}
	dst = binary.LittleEndian.AppendUint16(dst, uint16(year))
	dst = append(dst, byte(month), byte(day))
	if size == 4 {
		return dst
	}
	dst = append(dst, byte(hour), byte(minute), byte(sec))
	if micro != 0 {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(micro))
	}
	return dst
}

// appendBinaryTime encodes '[-]HHH:MM:SS[.ffffff]'.
func appendBinaryTime(dst []byte, s string) []byte {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	micro := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		micro, _ = strconv.Atoi((s[i+1:] + "000000")[:6])
		s = s[:i]
	}
	parts := strings.Split(s, ":")
	var hms [3]int
	for i := 0; i < len(parts) && i < 3; i++ {
		hms[i], _ = strconv.Atoi(parts[i])
	}
	if hms[0]|hms[1]|hms[2]|micro == 0 {
		return append(dst, 0)
	}
	size := byte(8)
	if micro != 0 {
		size = 12
	}
	var sign byte
	if neg {
		sign = 1
	}
	dst = append(dst, size, sign)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(hms[0]/24))
	dst = append(dst, byte(hms[0]%24), byte(hms[1]), byte(hms[2]))
	if micro != 0 {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(micro))
	}
	return dst
}
