package proxy

import (
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/courier-proxy/courier/sqlerr"
)

// readOnly is the admin switch that degrades the instance, or one
// cluster, to reads: statements that write there get error 1290 while
// reads go on, and transactions already open may still end. It is set
// through the admin API (POST /readonly) and kept until changed.
type readOnly struct {
	names    []string // the clusters, by index
	all      atomic.Bool
	clusters []atomic.Bool
}

func newReadOnly(names []string) *readOnly {
	return &readOnly{names: names, clusters: make([]atomic.Bool, len(names))}
}

// check refuses a write on cluster cl while it is read-only.
func (r *readOnly) check(cl int) error {
	if !r.all.Load() && !r.clusters[cl].Load() {
		return nil
	}
	what := "Courier is read-only"
	if !r.all.Load() {
		what = "cluster " + r.names[cl] + " is read-only in Courier"
	}
	return sqlerr.New(sqlerr.ErrReadOnly,
		"%s (set by its admin API, POST /readonly): writes are refused and reads go on; retry the write once it is lifted", what)
}

// ReadOnlyStatus is what /readonly serves: the whole instance, or the
// clusters, refusing writes.
type ReadOnlyStatus struct {
	All      bool     `json:"all"`
	Clusters []string `json:"clusters"`
}

func (r *readOnly) status() ReadOnlyStatus {
	st := ReadOnlyStatus{All: r.all.Load(), Clusters: []string{}}
	for i := range r.clusters {
		if r.clusters[i].Load() {
			st.Clusters = append(st.Clusters, r.names[i])
		}
	}
	return st
}

// handlers adds the read-only calls to mux:
//
//	GET  /readonly                         ReadOnlyStatus
//	POST /readonly?on=true|false[&cluster=NAME]
//
// Without cluster the switch is the whole instance's; with one, that
// cluster's (the two are independent). The POST is an admin write call
// (see adminWrite).
func (r *readOnly) handlers(mux *http.ServeMux, guard func(http.HandlerFunc) http.HandlerFunc) {
	mux.HandleFunc("GET /readonly", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, r.status())
	})
	mux.HandleFunc("POST /readonly", guard(func(w http.ResponseWriter, req *http.Request) {
		on, err := strconv.ParseBool(req.URL.Query().Get("on"))
		if err != nil {
			writeError(w, http.StatusBadRequest, "on must be true or false")
			return
		}
		flag := &r.all
		if name := req.URL.Query().Get("cluster"); name != "" {
			i := slices.Index(r.names, name)
			if i < 0 {
				writeError(w, http.StatusBadRequest, "cluster "+strconv.Quote(name)+" is not configured")
				return
			}
			flag = &r.clusters[i]
		}
		flag.Store(on)
		writeJSON(w, http.StatusOK, r.status())
	}))
}
