package engine

import (
	"encoding/hex"
	"strings"

	"vitess.io/vitess/go/sqltypes"

	"github.com/courier-proxy/courier/parser"
)

// SQL is a statement text with holes where bind values go, rendered for
// each execution. The planner prints it once per plan; an execution only
// copies its parts and its values' literals.
type SQL struct {
	parts []string // len(holes)+1: the text around the holes
	holes []Hole
}

// Hole is one place in a SQL text that takes bind values.
type Hole struct {
	// Arg is the bind slot whose value goes here (when List is nil).
	Arg int
	// List, when set, is a comma-separated list of slots (an IN list a
	// route may split by shard; see Render).
	List []int
}

// NewSQL builds a template from the text around holes (len(parts) must
// be len(holes)+1).
func NewSQL(parts []string, holes []Hole) *SQL {
	if len(parts) != len(holes)+1 {
		panic("engine.NewSQL: parts and holes do not alternate")
	}
	return &SQL{parts: parts, holes: holes}
}

// Text returns s as plain text (no holes).
func Text(s string) *SQL { return &SQL{parts: []string{s}} }

// WithPrefix returns s with text put before it (a MariaDB statement
// prefix such as SET STATEMENT ... FOR).
func (s *SQL) WithPrefix(text string) *SQL {
	parts := append([]string(nil), s.parts...)
	parts[0] = text + parts[0]
	return &SQL{parts: parts, holes: s.holes}
}

// Holes returns the template's holes.
func (s *SQL) Holes() []Hole { return s.holes }

// String prints the template with :N for slot N and ::[N,M] for lists,
// for plan descriptions.
func (s *SQL) String() string {
	var b strings.Builder
	for i, h := range s.holes {
		b.WriteString(s.parts[i])
		if h.List != nil {
			b.WriteString("::[")
			for j, a := range h.List {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(itoa(a))
			}
			b.WriteByte(']')
		} else {
			b.WriteByte(':')
			b.WriteString(itoa(h.Arg))
		}
	}
	b.WriteString(s.parts[len(s.parts)-1])
	return b.String()
}

// Render appends the statement with bv's values to dst, printed as s
// reads them. When only is not nil, a List hole keeps just the slots in
// only (an IN list narrowed to one shard's values).
func (s *SQL) Render(dst []byte, bv *Bind, sess *Session, only []int) []byte {
	for i, h := range s.holes {
		dst = append(dst, s.parts[i]...)
		if h.List == nil {
			dst = AppendValue(dst, bv.Value(h.Arg), sess)
			continue
		}
		first := true
		for _, a := range h.List {
			if only != nil && !contains(only, a) {
				continue
			}
			if !first {
				dst = append(dst, ", "...)
			}
			first = false
			dst = AppendValue(dst, bv.Value(a), sess)
		}
	}
	return append(dst, s.parts[len(s.parts)-1]...)
}

// RenderString is Render returning a string.
func (s *SQL) RenderString(bv *Bind, sess *Session, only []int) string {
	if len(s.holes) == 0 {
		return s.parts[0]
	}
	return string(s.Render(make([]byte, 0, 64+len(s.parts[0])*2), bv, sess, only))
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func itoa(n int) string {
	if n >= 0 && n < 10 {
		return string(rune('0' + n))
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// AppendValue appends v as a SQL literal that the session's server reads
// back as the same value: numbers as written, temporal values and text
// as strings escaped for the session's mode, binary strings in hex.
func AppendValue(dst []byte, v sqltypes.Value, sess *Session) []byte {
	switch t := v.Type(); {
	case v.IsNull():
		return append(dst, "NULL"...)
	case sqltypes.IsNumber(t), t == sqltypes.HexNum, t == sqltypes.HexVal, t == sqltypes.BitNum:
		return append(dst, v.Raw()...)
	case t == sqltypes.VarBinary || t == sqltypes.Blob || t == sqltypes.Binary:
		return appendHex(dst, v.Raw())
	}
	return AppendString(dst, v.Raw(), sess)
}

// AppendString appends s as a quoted string literal for the session: with
// quotes doubled, and backslashes and NULs escaped unless the session
// reads backslashes as ordinary characters. Under a character set whose
// multi-byte characters may contain quote or backslash bytes, it is
// written in hex with the character set's introducer instead, so that no
// byte of it can end the string.
func AppendString(dst []byte, s []byte, sess *Session) []byte {
	var mode parser.Mode
	if sess != nil {
		mode = sess.Mode
	}
	if mode.Has(parser.MultibyteEscapes) && sess.Charset != "" {
		dst = append(dst, '_')
		dst = append(dst, sess.Charset...)
		dst = append(dst, ' ')
		return appendHex(dst, s)
	}
	dst = append(dst, '\'')
	for _, c := range s {
		switch {
		case c == '\'':
			dst = append(dst, '\'', '\'')
		case c == '\\' && !mode.Has(parser.NoBackslashEscapes):
			dst = append(dst, '\\', '\\')
		case c == 0 && !mode.Has(parser.NoBackslashEscapes):
			dst = append(dst, '\\', '0')
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '\'')
}

func appendHex(dst, b []byte) []byte {
	dst = append(dst, "X'"...)
	dst = hex.AppendEncode(dst, b)
	return append(dst, '\'')
}
