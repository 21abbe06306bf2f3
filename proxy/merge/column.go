package merge

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/mysql"
	"golang.org/x/text/unicode/norm"

	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/sqlerr"
)

// Column is what the merge needs of a column definition.
type Column struct {
	Schema, OrgTable, Name, OrgName string
	Charset                         uint16
	Type                            byte
	Flags                           uint16
	Decimals                        byte
}

// ParseColumn decodes a column definition packet (protocol 4.1).
func ParseColumn(p []byte) (Column, error) {
	var c Column
	var strs [6]string
	for i := range strs {
		s, n, err := wire.ReadLenEncString(p)
		if err != nil {
			return c, fmt.Errorf("column definition: %w", err)
		}
		strs[i], p = string(s), p[n:]
	}
	c.Schema, c.OrgTable, c.Name, c.OrgName = strs[1], strs[3], strs[4], strs[5]
	if len(p) < 11 {
		return c, errors.New("column definition: short fixed fields")
	}
	p = p[1:] // length of the fixed fields (0x0c)
	c.Charset = uint16(p[0]) | uint16(p[1])<<8
	c.Type = p[6]
	c.Flags = uint16(p[7]) | uint16(p[8])<<8
	c.Decimals = p[9]
	return c, nil
}

// Meta is what the merge learns about a table column from the server's
// catalog: its collation and, for ENUM columns, the members in order.
type Meta struct {
	Collation string
	Enum      []string
}

// kind is how values of a column compare.
type kind uint8

const (
	kindBytes   kind = iota // binary strings, dates and datetimes (fixed-width text)
	kindInt                 // signed integers
	kindUint                // unsigned integers
	kindDecimal             // exact decimals
	kindFloat               // FLOAT, DOUBLE
	kindTime                // TIME: may be negative or over 24 hours
	kindPadBin              // *_bin collations: by code point, trailing spaces ignored
	kindFold                // *_general_ci: case-insensitive, trailing spaces ignored
	kindEnum                // ENUM: by member position
)

// comparer compares and normalises values of one column.
type comparer struct {
	kind kind
	enum map[string]int
}

// collations Courier compares exactly, by id (as column definitions carry
// them) and by name (as the catalog does).
var collations = map[string]kind{
	"binary":             kindBytes,
	"utf8mb4_bin":        kindPadBin,
	"utf8mb3_bin":        kindPadBin,
	"utf8_bin":           kindPadBin,
	"latin1_bin":         kindPadBin,
	"ascii_bin":          kindPadBin,
	"utf8mb4_general_ci": kindFold,
	"utf8mb3_general_ci": kindFold,
	"utf8_general_ci":    kindFold,
	"ascii_general_ci":   kindFold,
}

var collationIDs = map[uint16]string{
	63: "binary", 46: "utf8mb4_bin", 83: "utf8mb3_bin", 47: "latin1_bin", 65: "ascii_bin",
	45: "utf8mb4_general_ci", 33: "utf8mb3_general_ci", 11: "ascii_general_ci",
}

// newComparer picks the comparison for a column; meta is the catalog's
// word on a table column (nil for expressions).
func newComparer(c *Column, meta *Meta) (*comparer, error) {
	switch c.Type {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG,
		mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_YEAR:
		if c.Flags&mysql.UNSIGNED_FLAG != 0 {
			return &comparer{kind: kindUint}, nil
		}
		return &comparer{kind: kindInt}, nil
	case mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL:
		return &comparer{kind: kindDecimal}, nil
	case mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE:
		return &comparer{kind: kindFloat}, nil
	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		return &comparer{kind: kindTime}, nil
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2,
		mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2, mysql.MYSQL_TYPE_BIT:
		return &comparer{kind: kindBytes}, nil
	}
	if c.Flags&mysql.SET_FLAG != 0 {
		return nil, sqlerr.NotSupported(fmt.Sprintf("sorting or grouping by SET column %s across shards", c.Name), "")
	}
	if c.Flags&mysql.ENUM_FLAG != 0 {
		if meta == nil || meta.Enum == nil {
			return nil, sqlerr.NotSupported(fmt.Sprintf("sorting or grouping by ENUM expression %s across shards", c.Name),
				"sort by the column itself, or by CAST(... AS CHAR)")
		}
		cmp := &comparer{kind: kindEnum, enum: make(map[string]int, len(meta.Enum))}
		for i, m := range meta.Enum {
			cmp.enum[strings.ToLower(m)] = i + 1
		}
		return cmp, nil
	}
	name := collationIDs[c.Charset]
	if meta != nil && meta.Collation != "" {
		name = meta.Collation
	}
	if c.Charset == 63 && (meta == nil || meta.Collation == "") {
		name = "binary"
	}
	k, ok := collations[name]
	if !ok {
		if name == "" {
			name = fmt.Sprintf("id %d", c.Charset)
		}
		return nil, sqlerr.NotSupported(fmt.Sprintf("sorting or grouping by %s (collation %s) across shards", c.Name, name),
			"use a column with a utf8mb4_general_ci or _bin collation, or add the sharding key to the WHERE clause")
	}
	return &comparer{kind: k}, nil
}

// compare orders two non-NULL values.
func (c *comparer) compare(a, b []byte) int {
	switch c.kind {
	case kindInt:
		x, _ := strconv.ParseInt(string(a), 10, 64)
		y, _ := strconv.ParseInt(string(b), 10, 64)
		return cmpOrdered(x, y)
	case kindUint:
		x, _ := strconv.ParseUint(string(a), 10, 64)
		y, _ := strconv.ParseUint(string(b), 10, 64)
		return cmpOrdered(x, y)
	case kindDecimal:
		return compareDecimal(a, b)
	case kindFloat:
		x, _ := strconv.ParseFloat(string(a), 64)
		y, _ := strconv.ParseFloat(string(b), 64)
		return cmpOrdered(x, y)
	case kindTime:
		return cmpOrdered(parseTime(a), parseTime(b))
	case kindPadBin:
		return bytes.Compare(bytes.TrimRight(a, " "), bytes.TrimRight(b, " "))
	case kindFold:
		return compareFold(bytes.TrimRight(a, " "), bytes.TrimRight(b, " "))
	case kindEnum:
		return cmpOrdered(c.enum[strings.ToLower(string(a))], c.enum[strings.ToLower(string(b))])
	}
	return bytes.Compare(a, b)
}

// normal appends the value's equality class: equal values under the
// column's comparison append the same bytes.
func (c *comparer) normal(dst, v []byte) []byte {
	switch c.kind {
	case kindInt, kindUint:
		return append(dst, v...)
	case kindDecimal:
		return appendDecimalNormal(dst, v)
	case kindFloat:
		f, _ := strconv.ParseFloat(string(v), 64)
		if f == 0 {
			f = 0 // -0 equals 0
		}
		return strconv.AppendUint(dst, math.Float64bits(f), 16)
	case kindTime:
		return strconv.AppendInt(dst, parseTime(v), 10)
	case kindPadBin:
		return append(dst, bytes.TrimRight(v, " ")...)
	case kindFold:
		for _, r := range string(bytes.TrimRight(v, " ")) {
			dst = utf8.AppendRune(dst, foldRune(r))
		}
		return dst
	case kindEnum:
		return strconv.AppendInt(dst, int64(c.enum[strings.ToLower(string(v))]), 10)
	}
	return append(dst, v...)
}

func cmpOrdered[T int | int64 | uint64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// foldRune is the general_ci weight of r: its upper case without
// accents for Latin letters ('é' weighs as 'E', 'ß' as 'S'); characters
// outside the Basic Multilingual Plane all weigh the same.
func foldRune(r rune) rune {
	switch {
	case r > 0xFFFF:
		return 0xFFFD
	case r >= latinFirst && r < latinFirst+rune(len(latinWeights)):
		return latinWeights[r-latinFirst]
	}
	return unicode.ToUpper(r)
}

// latinWeights are the general_ci weights of U+00C0..U+024F: the base
// letter of a decomposable letter, upper-cased.
const latinFirst = 0xC0

var latinWeights = func() (w [0x250 - latinFirst]rune) {
	for i := range w {
		r := rune(latinFirst + i)
		if d := norm.NFD.PropertiesString(string(r)).Decomposition(); len(d) > 0 {
			r, _ = utf8.DecodeRune(d)
		}
		w[i] = unicode.ToUpper(r)
	}
	w['ß'-latinFirst] = 'S'
	return w
}()

func compareFold(a, b []byte) int {
	for len(a) > 0 && len(b) > 0 {
		ra, na := utf8.DecodeRune(a)
		rb, nb := utf8.DecodeRune(b)
		if c := cmpOrdered(int(foldRune(ra)), int(foldRune(rb))); c != 0 {
			return c
		}
		a, b = a[na:], b[nb:]
	}
	return cmpOrdered(len(a), len(b))
}

// parseTime reads [-]HHH:MM:SS[.ffffff] as microseconds.
func parseTime(v []byte) int64 {
	s := string(v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var frac int64
	if i := strings.IndexByte(s, '.'); i >= 0 {
		f := (s[i+1:] + "000000")[:6]
		frac, _ = strconv.ParseInt(f, 10, 64)
		s = s[:i]
	}
	var total int64
	for _, part := range strings.Split(s, ":") {
		n, _ := strconv.ParseInt(part, 10, 64)
		total = total*60 + n
	}
	total = total*1_000_000 + frac
	if neg {
		return -total
	}
	return total
}

// splitDecimal splits a decimal's text into sign, integer digits without
// leading zeros and fraction digits without trailing zeros.
func splitDecimal(v []byte) (neg bool, intPart, frac []byte) {
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg, v = v[0] == '-', v[1:]
	}
	intPart, frac = v, nil
	if i := bytes.IndexByte(v, '.'); i >= 0 {
		intPart, frac = v[:i], v[i+1:]
	}
	intPart = bytes.TrimLeft(intPart, "0")
	frac = bytes.TrimRight(frac, "0")
	if len(intPart) == 0 && len(frac) == 0 {
		neg = false // -0 is 0
	}
	return neg, intPart, frac
}

func compareDecimal(a, b []byte) int {
	an, ai, af := splitDecimal(a)
	bn, bi, bf := splitDecimal(b)
	if an != bn {
		if an {
			return -1
		}
		return 1
	}
	c := cmpOrdered(len(ai), len(bi))
	if c == 0 {
		c = bytes.Compare(ai, bi)
	}
	if c == 0 {
		c = bytes.Compare(af, bf)
	}
	if an {
		return -c
	}
	return c
}

func appendDecimalNormal(dst, v []byte) []byte {
	neg, i, f := splitDecimal(v)
	if neg {
		dst = append(dst, '-')
	}
	dst = append(dst, i...)
	dst = append(dst, '.')
	return append(dst, f...)
}
