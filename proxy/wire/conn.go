package wire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// MaxPayload is the largest payload of one physical packet.
const MaxPayload = 1<<24 - 1

// ErrPacketTooLarge is returned by ReadPacket when a logical packet exceeds
// the caller's limit. The connection is then out of step and must be closed.
var ErrPacketTooLarge = errors.New("packet larger than the configured limit")

// ErrPacketTimeout is returned by ReadPacket (wrapping the network's
// timeout error) when a packet that had started to arrive was not complete
// within the packet timeout given to SetReadTimeouts.
var ErrPacketTimeout = errors.New("packet not completed within the packet timeout")

// WriteError wraps a failure to write to the destination of ForwardPacket,
// so that a relay can tell a dead client from a dead backend.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "write to peer: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// Conn frames packets over a net.Conn.
type Conn struct {
	nc  net.Conn
	r   *bufio.Reader
	w   *bufio.Writer
	seq uint8

	buf    []byte   // reassembly buffer for ReadPacket
	prefix [64]byte // copy of a forwarded packet's first bytes
	hdr    [4]byte

	// Read timeouts managed by ReadPacket (see SetReadTimeouts).
	idleTimeout   time.Duration
	packetTimeout time.Duration
	idleSet       time.Time // when the idle deadline was last moved
}

// NewConn wraps nc with read and write buffers of the given sizes.
func NewConn(nc net.Conn, readSize, writeSize int) *Conn {
	return &Conn{nc: nc, r: bufio.NewReaderSize(nc, readSize), w: bufio.NewWriterSize(nc, writeSize)}
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Reset points c at another net.Conn (after a TLS upgrade), keeping buffers.
// Anything buffered for reading is dropped; the caller upgrades only at a
// point where the peer waits for us.
func (c *Conn) Reset(nc net.Conn) {
	c.nc = nc
	c.r.Reset(nc)
	c.w.Reset(nc)
}

// Buffered reports how many bytes are buffered for reading.
func (c *Conn) Buffered() int { return c.r.Buffered() }

// TakeBuffered returns (a copy of) the bytes read ahead from the network
// and drops them from the buffer: before a TLS upgrade they belong to the
// TLS handshake, which reads the network itself.
func (c *Conn) TakeBuffered() []byte {
	n := c.r.Buffered()
	if n == 0 {
		return nil
	}
	p, _ := c.r.Peek(n)
	b := append([]byte(nil), p...)
	_, _ = c.r.Discard(n)
	return b
}

// Seq returns the sequence id the next written packet gets.
func (c *Conn) Seq() uint8 { return c.seq }

// SetSeq sets the sequence id of the next written packet.
func (c *Conn) SetSeq(s uint8) { c.seq = s }

// Close closes the underlying connection.
func (c *Conn) Close() error { return c.nc.Close() }

// SetReadTimeouts makes ReadPacket manage the read deadline from now on:
// it waits at most idle for the first byte of a packet (0: no bound), and
// once a physical packet (at most 16 MiB) has started to arrive, at most
// packet for the rest of it (0: no bound). Without a call (both zero),
// ReadPacket leaves the deadlines to the caller. The idle deadline is moved
// lazily, once an eighth of idle has passed, so a connection is closed
// after between 7/8 and all of idle without a packet.
func (c *Conn) SetReadTimeouts(idle, packet time.Duration) {
	c.idleTimeout, c.packetTimeout = idle, packet
	c.idleSet = time.Time{}
}

// ReadPacket reads one logical packet (reassembling continuation packets)
// and returns its payload, which is valid until the next read on c. A packet
// longer than limit bytes gives ErrPacketTooLarge. The sequence id of the
// last physical packet plus one becomes the next write's sequence id. With
// read timeouts set (SetReadTimeouts), a packet not completed in time gives
// ErrPacketTimeout; the connection is then out of step and must be closed.
func (c *Conn) ReadPacket(limit int) ([]byte, error) {
	timed := c.idleTimeout > 0 || c.packetTimeout > 0
	if timed {
		c.awaitIdle()
	}
	packetDeadline := false // a packet deadline replaced the idle one
	c.buf = c.buf[:0]
	for {
		if timed {
			if _, err := c.r.Peek(1); err != nil {
				return nil, c.readErr(err, packetDeadline)
			}
			if c.packetTimeout > 0 && !c.physicalBuffered() {
				_ = c.nc.SetReadDeadline(time.Now().Add(c.packetTimeout))
				packetDeadline = true
			}
		}
		if _, err := io.ReadFull(c.r, c.hdr[:]); err != nil {
			return nil, c.readErr(err, packetDeadline)
		}
		n := int(c.hdr[0]) | int(c.hdr[1])<<8 | int(c.hdr[2])<<16
		c.seq = c.hdr[3] + 1
		if len(c.buf)+n > limit {
			// Read past this packet (for a second at most) so that
			// closing the connection does not reset it before the peer
			// reads the error sent for it.
			_ = c.nc.SetReadDeadline(time.Now().Add(time.Second))
			_, _ = c.r.Discard(n)
			return nil, fmt.Errorf("%w: more than %d bytes", ErrPacketTooLarge, limit)
		}
		start := len(c.buf)
		c.buf = grow(c.buf, n)
		if _, err := io.ReadFull(c.r, c.buf[start:start+n]); err != nil {
			return nil, c.readErr(err, packetDeadline)
		}
		if n < MaxPayload {
			if packetDeadline {
				c.restoreIdle()
			}
			return c.buf, nil
		}
	}
}

// awaitIdle moves the idle deadline when it is due.
func (c *Conn) awaitIdle() {
	if c.idleTimeout <= 0 {
		return
	}
	if now := time.Now(); now.Sub(c.idleSet) > c.idleTimeout/8 {
		_ = c.nc.SetReadDeadline(now.Add(c.idleTimeout))
		c.idleSet = now
	}
}

// restoreIdle puts back the idle deadline after a packet deadline.
func (c *Conn) restoreIdle() {
	if c.idleTimeout <= 0 {
		_ = c.nc.SetReadDeadline(time.Time{})
		return
	}
	now := time.Now()
	_ = c.nc.SetReadDeadline(now.Add(c.idleTimeout))
	c.idleSet = now
}

// physicalBuffered reports whether the next physical packet is wholly in
// the read buffer, so reading it cannot wait.
func (c *Conn) physicalBuffered() bool {
	if c.r.Buffered() < 4 {
		return false
	}
	h, _ := c.r.Peek(4)
	return c.r.Buffered() >= 4+(int(h[0])|int(h[1])<<8|int(h[2])<<16)
}

// readErr marks a timeout during a started packet as ErrPacketTimeout.
func (c *Conn) readErr(err error, packetDeadline bool) error {
	var ne net.Error
	if packetDeadline && errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w (%s): %w", ErrPacketTimeout, c.packetTimeout, err)
	}
	return err
}

// ShrinkBuffer drops a reassembly buffer that grew past keep bytes, so one
// large packet does not pin memory for the rest of the connection.
func (c *Conn) ShrinkBuffer(keep int) {
	if cap(c.buf) > keep {
		c.buf = nil
	}
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, len(b)+n+len(b)/4)
	copy(nb, b)
	return nb
}

// WritePacket writes one logical packet, splitting it at 16 MiB - 1, into
// the write buffer. Call Flush to send.
func (c *Conn) WritePacket(payload []byte) error {
	for {
		n := min(len(payload), MaxPayload)
		c.hdr = [4]byte{byte(n), byte(n >> 8), byte(n >> 16), c.seq}
		c.seq++
		if _, err := c.w.Write(c.hdr[:]); err != nil {
			return err
		}
		if _, err := c.w.Write(payload[:n]); err != nil {
			return err
		}
		payload = payload[n:]
		if n < MaxPayload {
			return nil
		}
	}
}

// Flush sends everything buffered for writing.
func (c *Conn) Flush() error { return c.w.Flush() }

// ForwardPacket copies the next physical packet from c to dst unchanged
// (dst's next sequence id follows it) and returns the payload length and
// its first bytes (at most want, at most 64), valid until the next call
// on c. Packets of any size stream through without being held whole. With
// a packet timeout set (SetReadTimeouts), the packet must arrive within it:
// c is then a client in the middle of a statement (LOAD DATA LOCAL).
func (c *Conn) ForwardPacket(dst *Conn, want int) (prefix []byte, length int, err error) {
	if c.packetTimeout > 0 {
		return c.forwardTimed(dst, want, nil)
	}
	return c.forward(dst, want, nil)
}

// ForwardPacketCopy is ForwardPacket that also appends the packet, as
// framed, to *frames, when the packet fits in the read buffer (a longer
// one is forwarded and not appended).
func (c *Conn) ForwardPacketCopy(dst *Conn, want int, frames *[]byte) (prefix []byte, length int, err error) {
	if c.packetTimeout > 0 {
		return c.forwardTimed(dst, want, frames)
	}
	return c.forward(dst, want, frames)
}

func (c *Conn) forwardTimed(dst *Conn, want int, frames *[]byte) (prefix []byte, length int, err error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(c.packetTimeout))
	defer c.restoreIdle()
	return c.forward(dst, want, frames)
}

func (c *Conn) forward(dst *Conn, want int, frames *[]byte) (prefix []byte, length int, err error) {
	hdr, err := c.r.Peek(4)
	if err != nil {
		return nil, 0, err
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	dst.seq = hdr[3] + 1
	want = min(want, n, len(c.prefix))
	if 4+n <= c.r.Size() {
		p, err := c.r.Peek(4 + n)
		if err != nil {
			return nil, 0, err
		}
		if _, err := dst.w.Write(p); err != nil {
			return nil, 0, &WriteError{err}
		}
		if frames != nil {
			*frames = append(*frames, p...)
		}
		copy(c.prefix[:want], p[4:])
		_, _ = c.r.Discard(4 + n)
		return c.prefix[:want], n, nil
	}
	p, err := c.r.Peek(4 + want)
	if err != nil {
		return nil, 0, err
	}
	copy(c.prefix[:want], p[4:])
	if _, err := io.CopyN(&errWriter{dst.w}, c.r, int64(4+n)); err != nil {
		return nil, 0, err
	}
	return c.prefix[:want], n, nil
}

// ForwardPacketRenumbered is ForwardPacket for merged replies: the packet
// gets dst's next sequence id instead of the one it came with.
func (c *Conn) ForwardPacketRenumbered(dst *Conn, want int) (prefix []byte, length int, err error) {
	hdr, err := c.r.Peek(4)
	if err != nil {
		return nil, 0, err
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	want = min(want, n, len(c.prefix))
	p, err := c.r.Peek(4 + want)
	if err != nil {
		return nil, 0, err
	}
	copy(c.prefix[:want], p[4:])
	dst.hdr = [4]byte{byte(n), byte(n >> 8), byte(n >> 16), dst.seq}
	dst.seq++
	if _, err := dst.w.Write(dst.hdr[:]); err != nil {
		return nil, 0, &WriteError{err}
	}
	if _, err := c.r.Discard(4); err != nil {
		return nil, 0, err
	}
	if _, err := io.CopyN(&errWriter{dst.w}, c.r, int64(n)); err != nil {
		return nil, 0, err
	}
	return c.prefix[:want], n, nil
}

// Peeked is the head of the next packet, read without consuming it.
type Peeked struct {
	Length  int
	Payload []byte // at most the first bytes asked for; valid until the next read
}

// Peek returns the next physical packet's length and first bytes (at
// most want) without consuming it.
func (c *Conn) Peek(want int) (Peeked, error) {
	hdr, err := c.r.Peek(4)
	if err != nil {
		return Peeked{}, err
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	want = min(want, n, c.r.Size()-4)
	p, err := c.r.Peek(4 + want)
	if err != nil {
		return Peeked{}, err
	}
	return Peeked{Length: n, Payload: p[4:]}, nil
}

// SkipPacket reads the next physical packet and discards it, returning its
// first bytes like ForwardPacket.
func (c *Conn) SkipPacket(want int) (prefix []byte, length int, err error) {
	if _, err := io.ReadFull(c.r, c.hdr[:]); err != nil {
		return nil, 0, err
	}
	n := int(c.hdr[0]) | int(c.hdr[1])<<8 | int(c.hdr[2])<<16
	c.seq = c.hdr[3] + 1
	want = min(want, n, len(c.prefix))
	if _, err := io.ReadFull(c.r, c.prefix[:want]); err != nil {
		return nil, 0, err
	}
	if _, err := c.r.Discard(n - want); err != nil {
		return nil, 0, err
	}
	return c.prefix[:want], n, nil
}

// WriteRaw appends bytes that are already framed to the write buffer.
func (c *Conn) WriteRaw(p []byte) error {
	_, err := c.w.Write(p)
	return err
}

// errWriter marks write failures as WriteError inside io.CopyN.
type errWriter struct{ w io.Writer }

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil {
		err = &WriteError{err}
	}
	return n, err
}
