package wire

import (
	"bytes"
	"net"
	"testing"
)

func TestLenEncRoundTrip(t *testing.T) {
	for _, n := range []uint64{0, 1, 250, 251, 65535, 65536, 1<<24 - 1, 1 << 24, 1<<64 - 1} {
		b := AppendLenEncInt(nil, n)
		got, null, size, err := ReadLenEncInt(b)
		if err != nil || null || size != len(b) || got != n {
			t.Fatalf("%d: got %d null=%v size=%d err=%v", n, got, null, size, err)
		}
	}
}

func TestOKRoundTrip(t *testing.T) {
	p := AppendOK(nil, 300, 70000, StatusAutocommit|StatusInTrans, 2)
	ok, err := ParseOK(p)
	if err != nil || ok.AffectedRows != 300 || ok.InsertID != 70000 || ok.Status != StatusAutocommit|StatusInTrans || ok.Warnings != 2 {
		t.Fatalf("ParseOK = %+v, %v", ok, err)
	}
}

func TestErrRoundTrip(t *testing.T) {
	num, state, msg := ParseErr(AppendErr(nil, 1235, "42000", "nope"))
	if num != 1235 || state != "42000" || msg != "nope" {
		t.Fatalf("ParseErr = %d %s %s", num, state, msg)
	}
}

// pipe returns two Conns connected in memory.
func pipe(t *testing.T) (*Conn, *Conn) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return NewConn(a, 4096, 4096), NewConn(b, 4096, 4096)
}

func TestLargePacketSplitAndReassemble(t *testing.T) {
	tests := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"small", 10},
		{"just under", MaxPayload - 1},
		{"exactly one max", MaxPayload},
		{"two packets", MaxPayload + 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, r := pipe(t)
			payload := bytes.Repeat([]byte{0xab}, tc.size)
			go func() {
				_ = w.WritePacket(payload)
				_ = w.Flush()
			}()
			got, err := r.ReadPacket(1 << 30)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("got %d bytes, want %d", len(got), len(payload))
			}
		})
	}
}

func TestReadPacketLimit(t *testing.T) {
	w, r := pipe(t)
	go func() {
		_ = w.WritePacket(make([]byte, 1000))
		_ = w.Flush()
	}()
	if _, err := r.ReadPacket(999); err == nil {
		t.Fatal("want ErrPacketTooLarge")
	}
}

func TestForwardPacket(t *testing.T) {
	srcW, src := pipe(t)
	dst, dstR := pipe(t)
	big := bytes.Repeat([]byte{1}, 10000) // larger than the 4 KiB buffers
	go func() {
		srcW.SetSeq(5)
		_ = srcW.WritePacket([]byte{0xfe, 0, 0, 2, 0})
		_ = srcW.WritePacket(big)
		_ = srcW.Flush()
	}()
	go func() {
		for range 2 {
			if _, _, err := src.ForwardPacket(dst, 9); err != nil {
				t.Error(err)
			}
		}
		_ = dst.Flush()
	}()
	p, err := dstR.ReadPacket(1 << 20)
	if err != nil || !IsEOF(p, len(p)) || dstR.Seq() != 6 {
		t.Fatalf("first packet %v seq %d err %v", p, dstR.Seq(), err)
	}
	p, err = dstR.ReadPacket(1 << 20)
	if err != nil || !bytes.Equal(p, big) || dstR.Seq() != 7 {
		t.Fatalf("second packet: %d bytes seq %d err %v", len(p), dstR.Seq(), err)
	}
}
