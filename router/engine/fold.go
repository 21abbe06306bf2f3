package engine

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/courier-proxy/courier/sqlerr"
)

// exact reports whether a column holds exact numbers (DECIMAL, an
// integer) rather than FLOAT or DOUBLE: SUM and AVG over it are exact.
func exact(c *Column) bool {
	return c.Type != TypeFloat && c.Type != TypeDouble
}

// parseExact reads a number a shard printed in column c.
func parseExact(v []byte, c *Column) (*big.Rat, error) {
	x, ok := new(big.Rat).SetString(string(v))
	if !ok {
		return nil, sqlerr.New(sqlerr.ErrUnknown, "engine: %q is not a number in column %s", v, c.Name)
	}
	return x, nil
}

// parseFloat reads a shard's DOUBLE as a number (a string, as MySQL
// does, by its longest numeric prefix).
func parseFloat(v []byte) float64 {
	if f, err := strconv.ParseFloat(string(v), 64); err == nil {
		return f
	}
	return floatPrefix(string(v))
}

// floatPrefix reads a string as MySQL does in numeric context: by its
// longest numeric prefix, 0 when it has none.
func floatPrefix(s string) float64 {
	f, _ := strconv.ParseFloat(numPrefix(s), 64)
	return f
}

// numPrefix is the longest prefix of s that is a number, leading spaces
// skipped: [sign] digits [. digits] [e [sign] digits]; "0" when there is
// none.
func numPrefix(s string) string {
	s = strings.TrimLeft(s, " \t\n\r")
	end, digits := 0, 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end, digits = end+1, digits+1
	}
	if end < len(s) && s[end] == '.' {
		end++
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end, digits = end+1, digits+1
		}
	}
	if digits == 0 {
		return "0"
	}
	if end < len(s) && (s[end] == 'e' || s[end] == 'E') {
		e := end + 1
		if e < len(s) && (s[e] == '-' || s[e] == '+') {
			e++
		}
		if e < len(s) && s[e] >= '0' && s[e] <= '9' {
			for e < len(s) && s[e] >= '0' && s[e] <= '9' {
				e++
			}
			end = e
		}
	}
	return strings.TrimSuffix(s[:end], ".")
}

// sumFloats adds distinct values in the order MariaDB's distinct tree
// holds them, which decides the rounding of the sum: DOUBLE and FLOAT
// values as their stored bytes compare (little-endian, byte by byte),
// others in their column's order (cmp). f holds the values as numbers,
// raw as the shards printed them.
func sumFloats(f []float64, raw [][]byte, c *Column, cmp *comparer) float64 {
	idx := make([]int, len(f))
	for i := range idx {
		idx[i] = i
	}
	switch c.Type {
	case TypeDouble:
		slices.SortFunc(idx, func(a, b int) int { return bytes.Compare(le64(f[a]), le64(f[b])) })
	case TypeFloat:
		slices.SortFunc(idx, func(a, b int) int { return bytes.Compare(le32(f[a]), le32(f[b])) })
	default:
		slices.SortFunc(idx, func(a, b int) int { return cmp.compare(raw[a], raw[b]) })
	}
	var sum float64
	for _, i := range idx {
		sum += f[i]
	}
	return sum
}

func le64(f float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(f)) }
func le32(f float64) []byte {
	return binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(f)))
}

// formatRat prints an exact number as a column of c's type prints it:
// rounded half away from zero to its decimals (none unless DECIMAL).
func formatRat(x *big.Rat, c *Column) string {
	d := int(c.Decimals)
	if c.Type != TypeNewdecimal && c.Type != TypeDecimal || d > 38 {
		d = 0
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d)), nil)
	num := new(big.Int).Mul(x.Num(), scale)
	q, r := new(big.Int).QuoRem(num, x.Denom(), new(big.Int))
	// round half away from zero: |2r| >= denom
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(x.Denom()) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	neg := q.Sign() < 0
	digits := q.Abs(q).String()
	if d > 0 {
		if len(digits) <= d {
			digits = strings.Repeat("0", d-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-d] + "." + digits[len(digits)-d:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

// formatFloat prints a DOUBLE as MariaDB does: with the column's
// decimals when it has fixed ones, else with the fewest digits that read
// back as the same value, positional (0.000000000000001,
// 1000000000000000.2) unless the exponent is below -15 or above 15, or
// 15 with a whole number (1e-16, 1e15, 1.234567890123456e15); NULL (nil)
// for a value that is not finite.
func formatFloat(f float64, c *Column) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil
	}
	if c.Decimals > 0 && c.Decimals < 31 {
		return strconv.AppendFloat(nil, f, 'f', int(c.Decimals), 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	e := strings.IndexByte(s, 'e')
	exp, _ := strconv.Atoi(s[e+1:])
	digits := len(strings.TrimPrefix(strings.Replace(s[:e], ".", "", 1), "-"))
	if exp >= -15 && exp < 15 || exp == 15 && digits > 16 {
		return strconv.AppendFloat(nil, f, 'f', -1, 64)
	}
	return []byte(s[:e+1] + strconv.Itoa(exp))
}
