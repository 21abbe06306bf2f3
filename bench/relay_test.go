package main

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"
)

// TestRelayConn pipes a line through relayConn to an echo server and back.
func TestRelayConn(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		c, err := echo.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		line, _ := bufio.NewReader(c).ReadString('\n')
		_, _ = c.Write([]byte("echo " + line))
	}()

	client, relaySide := net.Pipe()
	done := make(chan struct{})
	go func() {
		relayConn(context.Background(), relaySide, echo.Addr().String())
		close(done)
	}()
	_ = client.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := client.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(client).ReadString('\n')
	if err != nil || got != "echo hello\n" {
		t.Fatalf("read %q, %v; want %q", got, err, "echo hello\n")
	}
	client.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("relayConn did not return after the client closed")
	}
}

// TestRelayConnDeadTarget checks that a client of an unreachable target is
// disconnected rather than left hanging.
func TestRelayConnDeadTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	client, relaySide := net.Pipe()
	go relayConn(context.Background(), relaySide, addr)
	_ = client.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := client.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("read: %v; want the relay to close the connection", err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
