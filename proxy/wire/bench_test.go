package wire

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"
)

// nopConn is a net.Conn that reads from a fixed buffer and discards writes.
type nopConn struct {
	net.Conn
	r *bytes.Reader
}

func (c *nopConn) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.r.Seek(0, io.SeekStart)
		if n == 0 {
			return c.r.Read(p)
		}
		err = nil
	}
	return n, err
}
func (c *nopConn) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkForwardPacket relays a point-select reply (column count, one
// column definition, EOF, one row, EOF) packet by packet, as the proxy
// does for every single-backend result.
func BenchmarkForwardPacket(b *testing.B) {
	var reply bytes.Buffer
	w := &Conn{w: bufio.NewWriter(&reply)}
	w.seq = 1
	for _, p := range [][]byte{{1}, bytes.Repeat([]byte{'d'}, 40), {0xfe, 0, 0, 2, 0},
		append([]byte{120}, bytes.Repeat([]byte{'c'}, 120)...), {0xfe, 0, 0, 2, 0}} {
		_ = w.WritePacket(p)
	}
	_ = w.Flush()
	src := NewConn(&nopConn{r: bytes.NewReader(reply.Bytes())}, 16<<10, 16<<10)
	dst := NewConn(&nopConn{r: bytes.NewReader(nil)}, 16<<10, 16<<10)
	b.SetBytes(int64(reply.Len()))
	b.ReportAllocs()
	for b.Loop() {
		for range 5 {
			if _, _, err := src.ForwardPacket(dst, 23); err != nil {
				b.Fatal(err)
			}
		}
		_ = dst.Flush()
	}
}

// BenchmarkReadWritePacket reads a client command and writes an OK.
func BenchmarkReadWritePacket(b *testing.B) {
	var cmd bytes.Buffer
	w := &Conn{w: bufio.NewWriter(&cmd)}
	_ = w.WritePacket(append([]byte{3}, "SELECT c FROM sbtest1 WHERE id=4711"...))
	_ = w.Flush()
	c := NewConn(&nopConn{r: bytes.NewReader(cmd.Bytes())}, 16<<10, 16<<10)
	ok := AppendOK(nil, 1, 0, StatusAutocommit, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ReadPacket(1 << 20); err != nil {
			b.Fatal(err)
		}
		_ = c.WritePacket(ok)
		_ = c.Flush()
	}
}
