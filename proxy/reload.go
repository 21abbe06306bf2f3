package proxy

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/courier-proxy/courier/config"
)

// conf is the configuration's live part: the settings a reload changes.
func (s *Server) conf() *config.Config { return s.live.Load() }

// SetReloader gives the server the way to read its configuration again
// (the file it started from), for POST /config/reload.
func (s *Server) SetReloader(f func() (*config.Config, error)) { s.reloader = f }

// Reload swaps in next, a validated configuration, as a whole: users
// (passwords, schemas, access, class, rate: new logins use them, sessions
// already logged in keep theirs), classes (their limits apply at once,
// to every session, and their shares of the pools), limits, timeouts,
// log.slow_query, consistency, admin_token and the replicas' weights. A
// file that changes a setting only a restart changes is refused, with
// every such setting listed, and nothing changes. The layout (sharding)
// is not read: it changes with courierctl migrate.
func (s *Server) Reload(next *config.Config) error {
	if problems := restartOnly(s.cfg, next); len(problems) > 0 {
		return fmt.Errorf("not reloaded: these settings change only with a restart:\n  %s", strings.Join(problems, "\n  "))
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	for _, c := range next.Classes {
		if tc := s.classes[c.Name]; tc != nil {
			tc.setLimits(c)
		} else {
			s.classes[c.Name] = newClass(c, len(s.classes)+1, s.metrics)
			s.metrics.classGauges(map[string]*trafficClass{c.Name: s.classes[c.Name]})
		}
	}
	users, err := loadAccounts(next.Users, s.classes)
	if err != nil {
		return err
	}
	attachWrites(s.writes, users, len(s.cfg.Clusters), next.CausalScope)
	// Every class ever configured keeps its index in the pools; one no
	// longer in the file keeps no reserve and no bound.
	byIdx := make([]config.Class, len(s.classes))
	for name, tc := range s.classes {
		byIdx[tc.idx-1] = config.Class{Name: name, PoolMax: 1}
	}
	for _, c := range next.Classes {
		byIdx[s.classes[c.Name].idx-1] = c
	}
	for _, cl := range next.Clusters {
		ci := s.clusters[cl.Name]
		ci.Primary.SetShares(shares(byIdx, cl.Pool.MaxOpen))
		for j, r := range cl.Replicas {
			ci.Replicas[j].Pool.SetShares(shares(byIdx, cl.Pool.MaxOpen))
			ci.SetWeight(j, r.Weight)
		}
	}
	s.metrics.rateSeries(users)
	s.users.Store(&users)
	shapes := shapeLimiters(next.RateLimits)
	s.shapes.Store(&shapes)
	s.live.Store(next)
	s.log.Info("configuration reloaded")
	return nil
}

// attachWrites gives each account its user's register of latest writes
// (over clusters clusters), kept in writes: the same one across reloads;
// none with causal_scope: session.
func attachWrites(writes map[string]*userWrites, users map[string]*account, clusters int, scope string) {
	for name, a := range users {
		if scope == "session" {
			continue
		}
		w := writes[name]
		if w == nil {
			w = newUserWrites(clusters)
			writes[name] = w
		}
		a.writes = w
	}
}

// restartOnly lists the settings of next that differ from cfg's and
// change only with a restart.
func restartOnly(cfg, next *config.Config) []string {
	var out []string
	same := func(path string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			out = append(out, path)
		}
	}
	same("listen", cfg.Listen, next.Listen)
	same("admin", cfg.Admin, next.Admin)
	same("server_version", cfg.ServerVersion, next.ServerVersion)
	same("auth_plugin", cfg.AuthPlugin, next.AuthPlugin)
	same("default_cluster", cfg.DefaultCluster, next.DefaultCluster)
	same("tls", cfg.TLS, next.TLS)
	same("login_throttle", cfg.LoginThrottle, next.LoginThrottle)
	same("log.level", cfg.Log.Level, next.Log.Level)
	same("log.format", cfg.Log.Format, next.Log.Format)
	l, n := cfg.Limits, next.Limits
	same("limits.max_unauthenticated", l.MaxUnauthenticated, n.MaxUnauthenticated)
	same("limits.handshake_timeout", l.HandshakeTimeout, n.HandshakeTimeout)
	same("limits.plan_cache", l.PlanCache, n.PlanCache)
	same("limits.merge_memory", l.MergeMemory, n.MergeMemory)
	if len(cfg.Clusters) != len(next.Clusters) {
		out = append(out, "clusters (a cluster added or removed)")
	} else {
		for i := range cfg.Clusters {
			a, b := cfg.Clusters[i], next.Clusters[i]
			path := fmt.Sprintf("clusters[%d]", i)
			if len(a.Replicas) != len(b.Replicas) {
				out = append(out, path+".replicas (a replica added or removed)")
				continue
			}
			a.Replicas, b.Replicas = slices.Clone(a.Replicas), slices.Clone(b.Replicas)
			for j := range a.Replicas {
				a.Replicas[j].Weight, b.Replicas[j].Weight = 0, 0 // weights change live
			}
			same(path+" (anything but its replicas' weights)", a, b)
		}
	}
	if len(cfg.Classes) == 0 && len(next.Classes) > 0 {
		out = append(out, "classes (the first classes: the pools' shares need a restart)")
	}
	return out
}

// reloadHandler serves POST /config/reload: the file read again and
// reloaded, or refused with every problem listed (400) and nothing
// changed.
func reloadHandler(s *Server) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if s.reloader == nil {
			writeError(w, http.StatusConflict, "this server was not started from a file")
			return
		}
		next, err := s.reloader()
		if err == nil {
			err = s.Reload(next)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"reloaded": true})
	}
}
