package wire

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// frame returns a physical packet header for n payload bytes.
func frame(n int, seq byte) []byte { return []byte{byte(n), byte(n >> 8), byte(n >> 16), seq} }

// TestReadTimeouts: once a packet has started, the rest must arrive
// within the packet timeout; between packets only the idle timeout
// applies, and it is back in force after a slow packet.
func TestReadTimeouts(t *testing.T) {
	const idle, packet = 2 * time.Second, 150 * time.Millisecond
	tests := []struct {
		name   string
		chunks [][]byte // written with a pause before each
		pause  time.Duration
		// want: nil for a packet read whole, ErrPacketTimeout, or
		// errIdle for a plain timeout with no packet started
		want    error
		atLeast time.Duration
		atMost  time.Duration
	}{
		{"whole at once", [][]byte{append(frame(3, 0), 'a', 'b', 'c')}, 0, nil, 0, time.Second},
		{"slow but in time", [][]byte{frame(3, 0), {'a'}, {'b', 'c'}}, 30 * time.Millisecond, nil, 0, time.Second},
		{"idle longer than the packet timeout", [][]byte{append(frame(1, 0), 'x')}, 3 * packet, nil, 3 * packet, time.Second},
		{"truncated body", [][]byte{frame(100, 0), []byte("only part")}, 0, ErrPacketTimeout, packet, packet + time.Second},
		{"truncated header", [][]byte{{5, 0}}, 0, ErrPacketTimeout, packet, packet + time.Second},
		{"nothing sent", nil, 0, errIdle, idle, idle + time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := net.Pipe()
			t.Cleanup(func() { a.Close(); b.Close() })
			r := NewConn(b, 4096, 4096)
			r.SetReadTimeouts(idle, packet)
			go func() {
				for _, c := range tc.chunks {
					time.Sleep(tc.pause)
					if _, err := a.Write(c); err != nil {
						return
					}
				}
			}()
			start := time.Now()
			_, err := r.ReadPacket(1 << 20)
			took := time.Since(start)
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("ReadPacket: %v", err)
			case tc.want == ErrPacketTimeout && !errors.Is(err, ErrPacketTimeout):
				t.Fatalf("ReadPacket error %v, want ErrPacketTimeout", err)
			case tc.want == errIdle && (errors.Is(err, ErrPacketTimeout) || !isTimeout(err)):
				t.Fatalf("ReadPacket error %v, want a plain timeout", err)
			}
			if took < tc.atLeast || took > tc.atMost {
				t.Fatalf("ReadPacket returned after %s, want %s to %s", took, tc.atLeast, tc.atMost)
			}
		})
	}
}

// errIdle stands for a timeout with no packet started.
var errIdle = errors.New("idle timeout")

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestReadTimeoutRestoresIdle: after a slow packet the idle deadline is
// back, so a wait longer than the packet timeout between packets is fine.
func TestReadTimeoutRestoresIdle(t *testing.T) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	r := NewConn(b, 4096, 4096)
	r.SetReadTimeouts(5*time.Second, 100*time.Millisecond)
	go func() {
		_, _ = a.Write(frame(2, 0))
		time.Sleep(20 * time.Millisecond)
		_, _ = a.Write([]byte{'o', 'k'})
		time.Sleep(300 * time.Millisecond) // longer than the packet timeout
		_, _ = a.Write(append(frame(1, 1), '!'))
	}()
	for i, want := range []string{"ok", "!"} {
		p, err := r.ReadPacket(1 << 20)
		if err != nil || string(p) != want {
			t.Fatalf("packet %d: %q, %v; want %q", i, p, err, want)
		}
	}
}

// TestNoReadTimeouts: without SetReadTimeouts ReadPacket leaves the
// caller's deadline alone.
func TestNoReadTimeouts(t *testing.T) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	r := NewConn(b, 4096, 4096)
	_ = b.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	go func() { _, _ = a.Write(frame(10, 0)) }()
	start := time.Now()
	_, err := r.ReadPacket(1 << 20)
	if !isTimeout(err) || errors.Is(err, ErrPacketTimeout) || time.Since(start) > time.Second {
		t.Fatalf("ReadPacket = %v after %s; want the caller's plain timeout", err, time.Since(start))
	}
}

// TestForwardPacketTimeout: a client that stops in the middle of what it
// streams through ForwardPacket (LOAD DATA LOCAL) is cut off by the packet
// timeout, and the idle deadline is back afterwards.
func TestForwardPacketTimeout(t *testing.T) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	src := NewConn(b, 4096, 4096)
	src.SetReadTimeouts(5*time.Second, 150*time.Millisecond)
	x, y := net.Pipe()
	t.Cleanup(func() { x.Close(); y.Close() })
	dst := NewConn(x, 4096, 4096)
	go func() { _, _ = io.Copy(io.Discard, y) }()
	go func() {
		_, _ = a.Write(append(frame(2, 2), 'o', 'k'))
		_, _ = a.Write(frame(10, 3)) // and no payload
	}()
	if _, n, err := src.ForwardPacket(dst, 0); err != nil || n != 2 {
		t.Fatalf("first packet: %d bytes, %v", n, err)
	}
	start := time.Now()
	_, _, err := src.ForwardPacket(dst, 0)
	if !isTimeout(err) || time.Since(start) > time.Second {
		t.Fatalf("truncated packet: %v after %s; want a timeout after the packet timeout", err, time.Since(start))
	}
}
