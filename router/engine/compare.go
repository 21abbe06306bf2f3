package engine

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/courier-proxy/courier/sqlerr"
)

// kind is how values of a column compare.
type kind uint8

const (
	kindBytes   kind = iota // binary strings, dates and datetimes (fixed-width text), BIT
	kindInt                 // signed integers
	kindUint                // unsigned integers
	kindDecimal             // exact decimals
	kindFloat               // FLOAT, DOUBLE
	kindTime                // TIME: may be negative or over 24 hours
	kindPadBin              // *_bin collations: by code point, trailing spaces ignored
	kindFold                // *_general_ci: case- and accent-insensitive, trailing spaces ignored
	kindEnum                // ENUM in ORDER BY: by member position
)

// numeric reports whether values of the kind are numbers.
func (k kind) numeric() bool {
	return k == kindInt || k == kindUint || k == kindDecimal || k == kindFloat
}

// comparer compares and normalises the values of one column as MariaDB
// does for the column's type and collation.
type comparer struct {
	kind kind
	enum map[string]int // kindEnum: member (lower case) → position from 1
}

// collations Courier compares exactly, by name (as the catalog gives
// them) and by id (as column definitions carry them).
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

// binCollations are the _bin collations of the character sets whose
// default collation a column definition names.
var binCollations = map[uint16]string{45: "utf8mb4_bin", 33: "utf8mb3_bin", 8: "latin1_bin", 11: "ascii_bin", 46: "utf8mb4_bin", 83: "utf8mb3_bin"}

// newComparer picks the comparison for a column; meta is the catalog's
// word on a table column (nil for expressions and without a catalog).
// Without it, a string's collation is read from the definition, which
// MariaDB fills with the default collation of the result's character
// set, and the BINARY flag, which it sets for _bin collations; a table
// column of another collation (utf8mb4_unicode_ci) needs the catalog.
// byPosition asks for ORDER BY's order, where ENUM values sort by member
// position (which needs the members from the catalog) and SET values
// cannot be sorted; otherwise ENUM and SET values compare as strings of
// their collation, as MIN, MAX, comparisons and equality do.
func newComparer(c *Column, meta *ColumnMeta, byPosition bool) (*comparer, error) {
	switch c.Type {
	case TypeTiny, TypeShort, TypeInt24, TypeLong,
		TypeLonglong, TypeYear:
		if c.Flags&FlagUnsigned != 0 {
			return &comparer{kind: kindUint}, nil
		}
		return &comparer{kind: kindInt}, nil
	case TypeDecimal, TypeNewdecimal:
		return &comparer{kind: kindDecimal}, nil
	case TypeFloat, TypeDouble:
		return &comparer{kind: kindFloat}, nil
	case TypeTime, TypeTime2:
		return &comparer{kind: kindTime}, nil
	case TypeDate, TypeNewdate, TypeDatetime, TypeDatetime2,
		TypeTimestamp, TypeTimestamp2, TypeBit:
		return &comparer{kind: kindBytes}, nil
	}
	if byPosition && c.Flags&FlagSet != 0 {
		return nil, sqlerr.NotSupported(fmt.Sprintf("sorting by SET column %s across shards", c.Name),
			"sort by CAST(... AS CHAR)")
	}
	if byPosition && c.Flags&FlagEnum != 0 {
		if meta == nil || meta.Enum == nil {
			return nil, sqlerr.NotSupported(fmt.Sprintf("sorting by ENUM expression %s across shards", c.Name),
				"sort by the column itself, or by CAST(... AS CHAR)")
		}
		cmp := &comparer{kind: kindEnum, enum: make(map[string]int, len(meta.Enum))}
		for i, m := range meta.Enum {
			cmp.enum[strings.ToLower(m)] = i + 1
		}
		return cmp, nil
	}
	name := collationIDs[c.Charset]
	switch {
	case meta != nil && meta.Collation != "":
		name = meta.Collation
	case c.Charset == 63:
		name = "binary"
	case c.Flags&FlagBinary != 0:
		// The definition names the result character set's default
		// collation; the flag says the value's is its _bin one.
		name = binCollations[c.Charset]
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

// normal appends the value's equality class: values equal under the
// column's comparison append the same bytes.
func (c *comparer) normal(dst, v []byte) []byte {
	switch c.kind {
	case kindInt:
		x, _ := strconv.ParseInt(string(v), 10, 64)
		return strconv.AppendInt(dst, x, 10)
	case kindUint:
		x, _ := strconv.ParseUint(string(v), 10, 64)
		return strconv.AppendUint(dst, x, 10)
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

// compareNullable orders two values of a column, NULL first.
func (c *comparer) compareNullable(a, b []byte) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return c.compare(a, b)
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
	intPart = v
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
