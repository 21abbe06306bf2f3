package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// relayMode is the hidden first argument that turns this binary into the
// null TCP relay (see runRelay); the harness re-executes itself with it.
const relayMode = "relay"

// relayArgs is the command line that runs the relay from listen to target.
func relayArgs(listen, target string) []string {
	return []string{relayMode, "-listen", listen, "-target", target}
}

// runRelay is the relay subprocess: it accepts on -listen and, for every
// client, dials -target and copies bytes both ways until either side
// closes. It understands nothing of MySQL, so it is the cheapest possible
// extra hop: the baseline any proxy is compared with. It runs until ctx
// ends (SIGINT/SIGTERM from the harness).
func runRelay(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet(relayMode, flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to accept clients on")
	target := fs.String("target", "", "address to connect every client to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *target == "" {
		return errors.New("relay: -target is required")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		client, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("relay: accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			relayConn(ctx, client, *target)
		}()
	}
}

// relayConn serves one client: it dials target and pipes both directions,
// one goroutine each. When either direction ends (or ctx does), both
// connections are closed, which ends the other copy.
func relayConn(ctx context.Context, client net.Conn, target string) {
	defer client.Close()
	d := net.Dialer{Timeout: 5 * time.Second}
	server, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		return // the client sees the connection close, as with a dead server
	}
	defer server.Close()
	var wg sync.WaitGroup
	ended := make(chan struct{}, 2) // buffered: a finished pipe never blocks
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src) // TCP to TCP: splice(2) on Linux
		ended <- struct{}{}
	}
	wg.Add(2)
	go pipe(server, client)
	go pipe(client, server)
	select {
	case <-ended:
	case <-ctx.Done():
	}
	client.Close()
	server.Close()
	wg.Wait()
}
