package proxy

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// ClassStatus is one class of traffic as /classes serves it: its limits
// now and what it uses.
type ClassStatus struct {
	Name           string  `json:"name"`
	MaxConcurrency int64   `json:"max_concurrency"`
	Queue          int64   `json:"queue"`
	QueueTimeout   string  `json:"queue_timeout"`
	ShedAbove      int64   `json:"shed_above,omitempty"`
	Consolidate    bool    `json:"consolidate,omitempty"`
	Running        int64   `json:"running"`
	Waiting        int64   `json:"waiting"`
	PoolReserved   float64 `json:"pool_reserved"`
	PoolMax        float64 `json:"pool_max"`
}

// governHandlers adds the governance calls to mux:
//
//	GET  /classes                        []ClassStatus
//	POST /replicas/weight?name=R&weight=N  (an admin write call)
//
// A replica's weight 0 drains it: it takes no new reads until its weight
// is raised again (or a reload sets the file's).
func governHandlers(s *Server, mux *http.ServeMux, guard func(http.HandlerFunc) http.HandlerFunc) {
	mux.HandleFunc("GET /classes", func(w http.ResponseWriter, _ *http.Request) {
		s.reloadMu.Lock()
		byName := map[string]ClassStatus{}
		for name, c := range s.classes {
			l := c.limits.Load()
			byName[name] = ClassStatus{Name: name, MaxConcurrency: l.max, Queue: l.queue, QueueTimeout: l.wait.String(),
				ShedAbove: l.shedAbove, Consolidate: l.consolidate, Running: c.running.Load(), Waiting: c.waiters.Load()}
		}
		s.reloadMu.Unlock()
		out := []ClassStatus{}
		for _, c := range s.conf().Classes {
			st, ok := byName[c.Name]
			if ok {
				st.PoolReserved, st.PoolMax = c.PoolReserved, c.PoolMax
				out = append(out, st)
			}
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("POST /replicas/weight", guard(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		weight, err := strconv.Atoi(r.URL.Query().Get("weight"))
		if err != nil || weight < 0 {
			writeError(w, http.StatusBadRequest, "weight must be a number, 0 or more (0 drains the replica)")
			return
		}
		for _, ci := range s.clusterList {
			for i, rep := range ci.Replicas {
				if rep.Pool.Name() == name {
					ci.SetWeight(i, weight)
					writeJSON(w, http.StatusOK, map[string]any{"replica": name, "weight": weight})
					return
				}
			}
		}
		var names []string
		for _, st := range s.replicaStatus() {
			names = append(names, st.Name)
		}
		slices.Sort(names)
		writeError(w, http.StatusBadRequest, "no replica named "+strconv.Quote(name)+"; the replicas are "+strings.Join(names, ", "))
	}))
}
