package proxy

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/courier-proxy/courier/proxy/backend"
)

// BackendStatus is one backend's state as /status reports it.
type BackendStatus struct {
	Name       string  `json:"name"`
	Role       string  `json:"role"` // primary or replica
	Addr       string  `json:"addr"`
	Healthy    bool    `json:"healthy"`
	InRotation bool    `json:"in_rotation"` // replicas: serves reads
	Share      float64 `json:"share"`       // replicas: warm-up share of its weight
	Weight     int     `json:"weight,omitempty"`
	LagSeconds float64 `json:"lag_seconds"` // replicas: -1 unknown
	Error      string  `json:"error,omitempty"`
	Open       int     `json:"open"`
	Idle       int     `json:"idle"`
	Queries    int64   `json:"queries"`
	Errors     int64   `json:"errors"`
	InFlight   int64   `json:"in_flight"`
	Version    string  `json:"version,omitempty"`
}

// SessionStatus is one authenticated client session.
type SessionStatus struct {
	ID   uint32 `json:"id"`
	User string `json:"user"`
	Busy bool   `json:"busy"` // a statement is running
}

// Status is the JSON document served at /status (read by courierctl).
type Status struct {
	Connections int `json:"connections"`
	// Unauthenticated counts the connections in their handshake, Waiting
	// those accepted but not greeted yet (see limits.max_unauthenticated).
	Unauthenticated int             `json:"unauthenticated"`
	Waiting         int             `json:"waiting"`
	Sessions        []SessionStatus `json:"sessions"`
	Backends        []BackendStatus `json:"backends"`
	// ReadOnly is the read-only switch (see /readonly).
	ReadOnly ReadOnlyStatus `json:"read_only"`
}

// Status reports the server's current state.
func (s *Server) Status() Status {
	st := Status{Connections: int(s.clients.Load()), ReadOnly: s.readOnly.status()}
	st.Unauthenticated, st.Waiting = s.door.count()
	s.mu.Lock()
	for _, ss := range s.sessions {
		st.Sessions = append(st.Sessions, SessionStatus{ID: ss.id, User: ss.user.name, Busy: ss.cur.run.busy()})
	}
	s.mu.Unlock()
	slices.SortFunc(st.Sessions, func(a, b SessionStatus) int { return cmp.Compare(a.ID, b.ID) })
	replicas := make(map[string]backend.ReplicaStatus)
	for _, r := range s.replicaStatus() {
		replicas[r.Name] = r
	}
	for _, p := range s.pools {
		ok, why := p.Healthy()
		open, idle := p.Stats()
		b := BackendStatus{Name: p.Name(), Role: "primary", Addr: p.Addr(), Healthy: ok, InRotation: ok,
			Error: why, Open: open, Idle: idle, Queries: p.Queries.Load(), Errors: p.Errors.Load(),
			InFlight: p.InFlight.Load(), Version: p.ServerVersion()}
		if r, isReplica := replicas[p.Name()]; isReplica {
			b.Role, b.InRotation, b.Share, b.Weight = "replica", r.InRotation, r.Share, r.Weight
			b.LagSeconds = replicaLag(r.State).Seconds()
			b.Healthy = r.InRotation
			if !r.InRotation {
				b.Error = r.Reason
			}
		}
		st.Backends = append(st.Backends, b)
	}
	return st
}

// AdminHandler serves /metrics (Prometheus), /healthz, /status, the
// layout calls (see layoutHandlers), the read-only switch (readOnly) and Go's /debug/pprof profiles (the
// admin address is loopback by default).
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if s.drain.on.Load() {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		if ok, why := s.primary.Healthy(); !ok {
			http.Error(w, "primary unhealthy: "+why, http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Status())
	})
	s.layouts.handlers(mux)
	s.readOnly.handlers(mux, s.layouts.adminWrite)
	mux.HandleFunc("POST /config/reload", s.layouts.adminWrite(reloadHandler(s)))
	mux.HandleFunc("GET /digests", s.digests.handler)
	governHandlers(s, mux, s.layouts.adminWrite)
	return mux
}

// ServeAdmin runs the admin HTTP server on ln until ctx ends.
func (s *Server) ServeAdmin(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.AdminHandler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// replicaStatus lists the replicas of every cluster.
func (s *Server) replicaStatus() []backend.ReplicaStatus {
	var out []backend.ReplicaStatus
	for _, c := range s.cfg.Clusters {
		out = append(out, s.clusters[c.Name].Status()...)
	}
	return out
}
