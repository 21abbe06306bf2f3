package proxy

import (
	"context"
	"sync/atomic"
	"time"
)

// drainGrace is how long a drain still reads commands from sessions
// outside a transaction: one a client sent as the drain began is run,
// not lost.
const drainGrace = 100 * time.Millisecond

// drainState is whether a drain has begun, and its cutoff.
type drainState struct {
	on     atomic.Bool
	cutoff atomic.Int64 // Unix nanoseconds
}

// until is when sessions outside a transaction stop reading commands,
// once a drain has begun.
func (d *drainState) until() time.Time { return time.Unix(0, d.cutoff.Load()) }

// Drain stops accepting clients and lets the sessions finish: /healthz
// answers 503 "draining" from now on; sessions outside a transaction run
// the commands that reach them within drainGrace and then end, and those
// in a transaction end once it does (and the grace is over).
// It returns when every session has gone, or with ctx's error when ctx
// ends first (Shutdown then closes the rest).
func (s *Server) Drain(ctx context.Context) error {
	until := time.Now().Add(drainGrace)
	s.drain.cutoff.Store(until.UnixNano())
	s.drain.on.Store(true)
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
	}
	s.mu.Unlock()
	s.door.closeAll()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		s.mu.Lock()
		left := len(s.sessions)
		for _, ss := range s.sessions {
			// Waiting for a command outside a transaction: end the wait
			// (again each round, in case the session had just set its own
			// deadline); one that becomes busy ends after its command.
			if !ss.busy.Load() && !ss.inTxn.Load() {
				_ = ss.nc.SetReadDeadline(until)
			}
		}
		s.mu.Unlock()
		if left == 0 {
			return nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
