package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// BackendStatus is one backend's state as /status reports it.
type BackendStatus struct {
	Name    string `json:"name"`
	Addr    string `json:"addr"`
	Healthy bool   `json:"healthy"`
	Error   string `json:"error,omitempty"`
	Open    int    `json:"open"`
	Idle    int    `json:"idle"`
	Version string `json:"version,omitempty"`
}

// Status is the JSON document served at /status (read by courierctl).
type Status struct {
	Connections int             `json:"connections"`
	Backends    []BackendStatus `json:"backends"`
}

// Status reports the server's current state.
func (s *Server) Status() Status {
	s.mu.Lock()
	st := Status{Connections: len(s.sessions)}
	s.mu.Unlock()
	for _, p := range s.pools {
		ok, why := p.Healthy()
		open, idle := p.Stats()
		st.Backends = append(st.Backends, BackendStatus{Name: p.Name(), Addr: p.Addr(), Healthy: ok,
			Error: why, Open: open, Idle: idle, Version: p.ServerVersion()})
	}
	return st
}

// AdminHandler serves /metrics (Prometheus), /healthz and /status.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if ok, why := s.primary.Healthy(); !ok {
			http.Error(w, "primary unhealthy: "+why, http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Status())
	})
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
