package proxy

import (
	"strconv"
	"strings"

	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// killTarget runs KILL [CONNECTION | QUERY] id for the id of a Courier
// session (the ids Courier hands out in the handshake): KILL QUERY stops
// the session's running statement on every backend it reached; KILL
// CONNECTION also closes the session. handled is false for statements
// that name no Courier session (they go to the backend, for accounts that
// may administer it); self reports a session that killed its own
// connection.
func (s *Server) killTarget(by *session, q []byte) (handled, self bool, err error) {
	f := strings.Fields(strings.TrimRight(strings.TrimSpace(string(q)), ";"))
	if len(f) < 2 || len(f) > 4 {
		return false, false, nil
	}
	onlyQuery := false
	for _, w := range f[1 : len(f)-1] {
		switch strings.ToUpper(w) {
		case "QUERY":
			onlyQuery = true
		case "CONNECTION", "HARD", "SOFT":
		default:
			return false, false, nil
		}
	}
	id, perr := strconv.ParseUint(f[len(f)-1], 10, 32)
	if perr != nil {
		return false, false, nil
	}
	target := s.session(uint32(id))
	switch {
	case target == nil:
		return true, false, sqlerr.New(1094, "Unknown thread id: %d", id)
	case target.user != by.user && !by.user.admin:
		return true, false, sqlerr.New(1095, "You are not owner of thread %d", id)
	}
	if onlyQuery {
		target.cmd.cancel(errKilled)
		return true, false, nil
	}
	target.killed.Store(true)
	target.cmd.cancel(errKilled)
	target.nc.Close()
	return true, target == by, nil
}

// killStatement runs a KILL statement; handled is false when it names no
// Courier session.
func (ss *session) killStatement(q []byte) (bool, error) {
	handled, self, err := ss.srv.killTarget(ss, q)
	switch {
	case !handled && !ss.user.admin: // a backend's thread: not the account's to see
		return true, sqlerr.New(1094, "Unknown thread id: %s", strings.TrimSpace(strings.TrimPrefix(strings.ToUpper(string(q)), "KILL")))
	case !handled:
		return false, nil
	case err != nil:
		return true, err
	case self:
		return true, errQuit
	}
	return true, ss.w.OK(engine.Result{})
}
