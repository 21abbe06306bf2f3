package proxy

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/courier-proxy/courier/config"
)

// LayoutStatus is the document /layout serves: the layout version this
// instance serves, and the write hold in place, if any.
type LayoutStatus struct {
	Version uint64      `json:"version"`
	Hold    *HoldStatus `json:"hold,omitempty"`
}

// Layout reports the layout served and the hold in place.
func (l *Layouts) Status() LayoutStatus {
	st := LayoutStatus{Version: l.Version()}
	if h := l.holds.current(); h != nil {
		st.Hold = h.status()
	}
	return st
}

// HoldRequest is the body of POST /layout/hold.
type HoldRequest struct {
	Tables []string `json:"tables"`
	// Pause bounds the hold (at most MaxHold); Drain bounds the wait for
	// statements and transactions in flight. Go durations ("5s").
	Pause string `json:"pause"`
	Drain string `json:"drain"`
}

// maxLayoutBody bounds the body of a layout call (a configuration file).
const maxLayoutBody = 4 << 20

// layoutHandlers adds the layout calls to mux:
//
//	GET  /layout                    LayoutStatus
//	POST /layout/hold               HoldRequest → HoldStatus
//	POST /layout/release?hold=N
//	POST /layout/switch?hold=N&version=V  a whole configuration file (YAML) → LayoutStatus
//
// The switch takes the file's layout (its sharding section); its other
// settings must match the running ones where they change with a restart
// (clusters, default_cluster) and are otherwise ignored.
//
// The write calls need the admin token (admin_token), or come from
// loopback when none is set. Errors are {"error": "..."} with 400 (bad
// request), 403 or 409 (refused in the current state).
func (l *Layouts) handlers(mux *http.ServeMux) {
	mux.HandleFunc("GET /layout", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, l.Status())
	})
	mux.HandleFunc("POST /layout/hold", l.adminWrite(func(w http.ResponseWriter, r *http.Request) {
		var req HoldRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, maxLayoutBody)).Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "the body must be a JSON hold request: "+err.Error())
			return
		}
		pause, err1 := time.ParseDuration(req.Pause)
		drain, err2 := time.ParseDuration(orDefault(req.Drain, "5s"))
		if err1 != nil || err2 != nil {
			writeError(w, http.StatusBadRequest, "pause and drain must be durations such as \"5s\"")
			return
		}
		st, err := l.Hold(r.Context(), req.Tables, pause, drain)
		if err != nil {
			writeError(w, http.StatusConflict, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, st)
	}))
	mux.HandleFunc("POST /layout/release", l.adminWrite(func(w http.ResponseWriter, r *http.Request) {
		gen, err := strconv.ParseUint(r.URL.Query().Get("hold"), 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "hold must be the number of a write hold")
			return
		}
		if err := l.Release(gen); err != nil {
			writeError(w, http.StatusConflict, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, l.Status())
	}))
	mux.HandleFunc("POST /layout/switch", l.adminWrite(func(w http.ResponseWriter, r *http.Request) {
		var gen, version uint64
		for name, dst := range map[string]*uint64{"hold": &gen, "version": &version} {
			if v := r.URL.Query().Get(name); v != "" {
				var err error
				if *dst, err = strconv.ParseUint(v, 10, 64); err != nil {
					writeError(w, http.StatusBadRequest, name+" must be a number")
					return
				}
			}
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxLayoutBody))
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		next, err := config.Parse(body)
		if err != nil {
			writeError(w, http.StatusBadRequest, "the configuration is not valid: "+err.Error())
			return
		}
		if _, err := l.Swap(next, gen, version); err != nil {
			writeError(w, http.StatusConflict, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, l.Status())
	}))
}

// adminWrite guards an admin call that changes what Courier serves.
func (l *Layouts) adminWrite(h http.HandlerFunc) http.HandlerFunc {
	s := l.s
	return func(w http.ResponseWriter, r *http.Request) {
		if tok := s.conf().AdminToken; tok != "" {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+tok)) != 1 {
				writeError(w, http.StatusForbidden, "this call needs the admin token (Authorization: Bearer <admin_token>)")
				return
			}
		} else if host, _, err := net.SplitHostPort(r.RemoteAddr); err != nil || !net.ParseIP(host).IsLoopback() {
			writeError(w, http.StatusForbidden, "without admin_token this call is served to loopback clients only")
			return
		}
		h(w, r)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
