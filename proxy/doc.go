// Package proxy is Courier's MySQL front end: it accepts client
// connections, authenticates them, and runs each client's commands against
// the backends.
//
// Layers, from the socket inwards:
//
//   - Server (server.go) owns the listener, the backend pools and the
//     registry of live sessions; Serve runs one goroutine per client and
//     Shutdown closes the listener, then the sessions, then the pools.
//   - door.go admits accepted sockets: at most limits.max_unauthenticated
//     in their handshake, more waiting ungreeted, silent ones closed to
//     make room; throttle.go refuses client addresses and users with too
//     many failed logins (login_throttle). Both are shared by every
//     connection and lock internally.
//   - handshake.go and auth.go run the connection phase: greeting, optional
//     TLS upgrade, mysql_native_password and caching_sha2_password (fast
//     path, and full authentication over TLS or RSA), schema checks.
//   - session.go is the command loop of one client. Commands are serialised
//     per session; a panic in a session is recovered there, logged with its
//     stack, and closes only that connection.
//   - query.go decides, per statement, which backend connection runs it and
//     what the statement does to session state (schema, variables,
//     transactions, pinning); stmt.go does the same for prepared
//     statements; relay.go streams results back as raw packets.
//
// Backend connections are multiplexed: a session borrows a pooled
// connection per statement, brings it to the session's state (backend.Conn
// Sync) and gives it back, except while something on that connection
// belongs to the session (an open transaction, user variables, temporary
// tables, locks, a cursor, or the diagnostics of the last statement).
//
// Debugging: every session logs with its connection id; the admin HTTP
// server exposes Prometheus metrics and /healthz.
package proxy
