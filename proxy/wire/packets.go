package wire

import (
	"encoding/binary"
	"errors"
)

// Packet header bytes.
const (
	OKHeader    = 0x00
	EOFHeader   = 0xfe
	ErrHeader   = 0xff
	LocalInfile = 0xfb
)

// Server status flags used by the proxy.
const (
	StatusInTrans         uint16 = 0x0001
	StatusAutocommit      uint16 = 0x0002
	StatusMoreResults     uint16 = 0x0008
	StatusCursorExists    uint16 = 0x0040
	StatusLastRowSent     uint16 = 0x0080
	StatusNoBackslashEsc  uint16 = 0x0200
	StatusInTransReadonly uint16 = 0x2000
)

// ErrMalformed reports a packet that does not follow the protocol.
var ErrMalformed = errors.New("malformed packet")

// AppendLenEncInt appends n as a length-encoded integer.
func AppendLenEncInt(b []byte, n uint64) []byte {
	switch {
	case n < 251:
		return append(b, byte(n))
	case n < 1<<16:
		return append(b, 0xfc, byte(n), byte(n>>8))
	case n < 1<<24:
		return append(b, 0xfd, byte(n), byte(n>>8), byte(n>>16))
	default:
		return append(b, 0xfe, byte(n), byte(n>>8), byte(n>>16), byte(n>>24),
			byte(n>>32), byte(n>>40), byte(n>>48), byte(n>>56))
	}
}

// AppendLenEncString appends s prefixed with its length-encoded length.
func AppendLenEncString(b []byte, s string) []byte {
	return append(AppendLenEncInt(b, uint64(len(s))), s...)
}

// ReadLenEncInt decodes a length-encoded integer at the start of b and
// returns it with the number of bytes it used; null is true for 0xfb.
func ReadLenEncInt(b []byte) (n uint64, null bool, size int, err error) {
	if len(b) == 0 {
		return 0, false, 0, ErrMalformed
	}
	switch b[0] {
	case 0xfb:
		return 0, true, 1, nil
	case 0xfc:
		if len(b) < 3 {
			return 0, false, 0, ErrMalformed
		}
		return uint64(binary.LittleEndian.Uint16(b[1:])), false, 3, nil
	case 0xfd:
		if len(b) < 4 {
			return 0, false, 0, ErrMalformed
		}
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, false, 4, nil
	case 0xfe:
		if len(b) < 9 {
			return 0, false, 0, ErrMalformed
		}
		return binary.LittleEndian.Uint64(b[1:]), false, 9, nil
	case 0xff:
		return 0, false, 0, ErrMalformed
	default:
		return uint64(b[0]), false, 1, nil
	}
}

// ReadLenEncString decodes a length-encoded string at the start of b.
func ReadLenEncString(b []byte) (s []byte, size int, err error) {
	n, _, k, err := ReadLenEncInt(b)
	if err != nil {
		return nil, 0, err
	}
	if uint64(len(b)-k) < n {
		return nil, 0, ErrMalformed
	}
	return b[k : k+int(n)], k + int(n), nil
}

// OK is the decoded content of an OK packet that the proxy cares about.
type OK struct {
	AffectedRows uint64
	InsertID     uint64
	Status       uint16
	Warnings     uint16
}

// ParseOK decodes the fixed part of an OK packet (header 0x00 or 0xfe).
// It needs at most the first 23 bytes of the payload.
func ParseOK(p []byte) (OK, error) {
	var ok OK
	if len(p) < 1 {
		return ok, ErrMalformed
	}
	pos := 1
	var n int
	var err error
	if ok.AffectedRows, _, n, err = ReadLenEncInt(p[pos:]); err != nil {
		return ok, err
	}
	pos += n
	if ok.InsertID, _, n, err = ReadLenEncInt(p[pos:]); err != nil {
		return ok, err
	}
	pos += n
	if len(p) < pos+4 {
		return ok, ErrMalformed
	}
	ok.Status = binary.LittleEndian.Uint16(p[pos:])
	ok.Warnings = binary.LittleEndian.Uint16(p[pos+2:])
	return ok, nil
}

// ParseEOF decodes an EOF packet's warnings and status flags.
func ParseEOF(p []byte) (warnings, status uint16) {
	if len(p) < 5 {
		return 0, 0
	}
	return binary.LittleEndian.Uint16(p[1:]), binary.LittleEndian.Uint16(p[3:])
}

// IsEOF reports whether a payload of the given length starting with p is an
// EOF packet (0xfe with fewer than 9 bytes) rather than a row.
func IsEOF(p []byte, length int) bool {
	return length < 9 && len(p) > 0 && p[0] == EOFHeader
}

// AppendOK appends an OK packet payload.
func AppendOK(b []byte, affected, insertID uint64, status, warnings uint16) []byte {
	b = append(b, OKHeader)
	b = AppendLenEncInt(b, affected)
	b = AppendLenEncInt(b, insertID)
	return append(b, byte(status), byte(status>>8), byte(warnings), byte(warnings>>8))
}

// AppendEOF appends an EOF packet payload.
func AppendEOF(b []byte, warnings, status uint16) []byte {
	return append(b, EOFHeader, byte(warnings), byte(warnings>>8), byte(status), byte(status>>8))
}

// AppendErr appends an ERR packet payload (protocol 4.1 form).
func AppendErr(b []byte, num uint16, state, msg string) []byte {
	b = append(b, ErrHeader, byte(num), byte(num>>8), '#')
	if len(state) != 5 {
		state = "HY000"
	}
	b = append(b, state...)
	return append(b, msg...)
}

// ParseErr decodes an ERR packet payload.
func ParseErr(p []byte) (num uint16, state, msg string) {
	if len(p) < 3 {
		return 2027, "HY000", "malformed error packet"
	}
	num = binary.LittleEndian.Uint16(p[1:])
	rest := p[3:]
	state = "HY000"
	if len(rest) >= 6 && rest[0] == '#' {
		state = string(rest[1:6])
		rest = rest[6:]
	}
	return num, state, string(rest)
}
