package engine

import (
	"errors"
	"fmt"
)

// ResultWriter receives one statement's result: either a result set
// (Fields, then Row for each row, then End) or an OK.
type ResultWriter interface {
	// Fields starts a result set with these columns.
	Fields(cols []Column) error
	// Row writes one row; it is valid during the call only.
	Row(r Row) error
	// End closes the result set.
	End(warnings uint16) error
	// OK answers a statement that returns no rows.
	OK(r Result) error
}

// Passthrough is implemented by writers that change nothing but column
// names: when every target runs the client's statement as it came (whose
// columns the server names as the client wrote them), the cursor may
// write to Passthrough() instead and relay the reply as it comes.
type Passthrough interface {
	ResultWriter
	Passthrough() ResultWriter
}

// Row is one text-protocol row: a value per column, nil for NULL.
type Row [][]byte

// Column is a column definition as the server sent it: the fields
// primitives compare and format by, and the packet itself, which reaches
// the client unchanged.
type Column struct {
	Schema, OrgTable, Name, OrgName string
	Charset                         uint16
	Type                            byte
	Flags                           uint16
	Decimals                        byte
	// Packet is the column definition's payload as the server sent it.
	Packet []byte
}

// ParseColumn decodes a column definition packet (protocol 4.1); the
// returned Column keeps a copy of p.
func ParseColumn(p []byte) (Column, error) {
	c := Column{Packet: append([]byte(nil), p...)}
	var strs [6]string
	rest := p
	for i := range strs {
		s, n, err := readLenEncString(rest)
		if err != nil {
			return c, fmt.Errorf("column definition: %w", err)
		}
		strs[i], rest = string(s), rest[n:]
	}
	c.Schema, c.OrgTable, c.Name, c.OrgName = strs[1], strs[3], strs[4], strs[5]
	if len(rest) < 11 {
		return c, errors.New("column definition: short fixed fields")
	}
	rest = rest[1:] // length of the fixed fields (0x0c)
	c.Charset = uint16(rest[0]) | uint16(rest[1])<<8
	c.Type = rest[6]
	c.Flags = uint16(rest[7]) | uint16(rest[8])<<8
	c.Decimals = rest[9]
	return c, nil
}

// readLenEncString reads a length-encoded string.
func readLenEncString(b []byte) (s []byte, size int, err error) {
	if len(b) == 0 {
		return nil, 0, errors.New("truncated length")
	}
	var n uint64
	switch c := b[0]; {
	case c < 0xfb:
		n, size = uint64(c), 1
	case c == 0xfc && len(b) >= 3:
		n, size = uint64(b[1])|uint64(b[2])<<8, 3
	case c == 0xfd && len(b) >= 4:
		n, size = uint64(b[1])|uint64(b[2])<<8|uint64(b[3])<<16, 4
	case c == 0xfe && len(b) >= 9:
		for i := 8; i >= 1; i-- {
			n = n<<8 | uint64(b[i])
		}
		size = 9
	default:
		return nil, 0, errors.New("bad length")
	}
	if uint64(len(b)-size) < n {
		return nil, 0, errors.New("truncated string")
	}
	return b[size : size+int(n)], size + int(n), nil
}

// WithName returns c named name, its definition packet rewritten to say
// so.
func (c Column) WithName(name string) Column {
	if c.Packet == nil {
		c.Name = name
		return c
	}
	var strs [6][]byte
	rest := c.Packet
	for i := range strs {
		s, n, err := readLenEncString(rest)
		if err != nil {
			c.Name = name
			return c
		}
		strs[i], rest = s, rest[n:]
	}
	strs[4] = []byte(name)
	p := make([]byte, 0, len(c.Packet)+len(name))
	for _, s := range strs {
		p = appendLenEncString(p, s)
	}
	c.Packet = append(p, rest...)
	c.Name = name
	return c
}

func appendLenEncString(b, s []byte) []byte {
	switch n := len(s); {
	case n < 0xfb:
		b = append(b, byte(n))
	case n < 1<<16:
		b = append(b, 0xfc, byte(n), byte(n>>8))
	case n < 1<<24:
		b = append(b, 0xfd, byte(n), byte(n>>8), byte(n>>16))
	default:
		b = append(b, 0xfe)
		for i := range 8 {
			b = append(b, byte(uint64(n)>>(8*i)))
		}
	}
	return append(b, s...)
}
