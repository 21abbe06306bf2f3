package engine

import (
	"context"
	"strings"
	"sync"
)

// Catalog remembers what the shards' catalog says about table columns
// that primitives compare (collation, ENUM members), asked through the
// cursor once per column. One Catalog serves every plan of a schema; DDL
// through Courier clears it.
type Catalog struct {
	// Cluster is the cluster whose information_schema is asked (the
	// first shard: every shard holds the same definitions).
	Cluster int

	mu sync.Mutex
	m  map[string]*ColumnMeta
}

// ColumnMeta is what the catalog says about one table column.
type ColumnMeta struct {
	Collation string
	Enum      []string // ENUM members in order
}

// Clear forgets everything (after DDL).
func (c *Catalog) Clear() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// Meta returns what the catalog says about the table column col came
// from, asking cur (on the primary of c.Cluster) the first time. It
// returns nil for a column that is no table column (an expression) and
// when c is nil (no catalog: columns compare by their type and charset
// id alone). A column the catalog does not know (a temporary table, a
// derived table) has an empty ColumnMeta.
func (c *Catalog) Meta(ctx context.Context, cur Cursor, col *Column) (*ColumnMeta, error) {
	if c == nil || col.OrgTable == "" {
		return nil, nil
	}
	key := col.Schema + "\x00" + col.OrgTable + "\x00" + col.OrgName
	c.mu.Lock()
	md, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return md, nil
	}
	rows, err := cur.Internal(ctx, c.Cluster, columnQuery(col))
	if err != nil {
		return nil, err
	}
	md = &ColumnMeta{}
	if len(rows) == 1 && len(rows[0]) == 2 {
		md.Collation = string(rows[0][0])
		if t := string(rows[0][1]); len(t) > 6 && strings.EqualFold(t[:5], "enum(") {
			md.Enum = enumMembers(t[5 : len(t)-1])
		}
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*ColumnMeta{}
	}
	c.m[key] = md
	c.mu.Unlock()
	return md, nil
}

// columnQuery is the catalog read for one table column.
func columnQuery(col *Column) string {
	var b []byte
	b = append(b, "SELECT COLLATION_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "...)
	b = appendName(b, col.Schema)
	b = append(b, " AND TABLE_NAME = "...)
	b = appendName(b, col.OrgTable)
	b = append(b, " AND COLUMN_NAME = "...)
	b = appendName(b, col.OrgName)
	return string(b)
}

// appendName appends a name as a string literal that reads the same
// whatever the connection's sql_mode: quoted when it holds no backslash
// or NUL, else in hex (_utf8mb4 X'...', since the catalog's names are
// UTF-8).
func appendName(dst []byte, s string) []byte {
	if strings.ContainsAny(s, "\\\x00") {
		dst = append(dst, "_utf8mb4 "...)
		return appendHex(dst, []byte(s))
	}
	dst = append(dst, '\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			dst = append(dst, '\'')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '\'')
}

// enumMembers splits an ENUM definition's list as COLUMN_TYPE prints it,
// quotes doubled and backslashes escaped:
//
//	'a','b''c','d\\e' -> [a b'c d\e]
func enumMembers(list string) []string {
	var out []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(list); i++ {
		c := list[i]
		switch {
		case !in && c == '\'':
			in = true
		case in && c == '\'' && i+1 < len(list) && list[i+1] == '\'':
			cur.WriteByte('\'')
			i++
		case in && c == '\\' && i+1 < len(list):
			i++
			cur.WriteByte(unescape(list[i]))
		case in && c == '\'':
			in = false
			out = append(out, cur.String())
			cur.Reset()
		case in:
			cur.WriteByte(c)
		}
	}
	return out
}

// unescape is the character a backslash escape in COLUMN_TYPE stands for.
func unescape(c byte) byte {
	switch c {
	case '0':
		return 0
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 'Z':
		return 0x1a
	}
	return c
}
