// Package wire frames MySQL protocol packets for both sides of the proxy.
//
// A Conn wraps a net.Conn with one buffered reader and one buffered writer
// that live as long as the connection, so reading a command, writing a
// reply and forwarding a backend's result set allocate nothing in the
// steady state. Payloads returned by ReadPacket and the prefixes returned by
// ForwardPacket point into the Conn's buffers and are valid only until the
// next read on the same Conn.
//
// Logical packets longer than 16 MiB - 1 are split into several physical
// packets on the wire; ReadPacket reassembles them (bounded by a limit the
// caller gives), WritePacket splits them, and ForwardPacket copies physical
// packets unchanged, so a relay never holds a whole large row in memory.
//
// SetReadTimeouts hands the read deadline to ReadPacket: an idle bound
// between packets and a shorter bound on the rest of a packet once it has
// started, so a client that stops in the middle of one is cut off. Packets
// already wholly buffered never touch the deadline.
//
// A Conn is used by one goroutine at a time: the session that owns it.
package wire
