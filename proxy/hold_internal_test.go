package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/courier-proxy/courier/config"
)

// layoutConfig is a configuration over clusters s0..s3 (addresses that
// are never dialled) with the given shards.
func layoutConfig(t *testing.T, shards, extra string) *config.Config {
	t.Helper()
	var b strings.Builder
	b.WriteString("listen: 127.0.0.1:0\nadmin: \"\"\nusers: [{name: app, password: app}]\nclusters:\n")
	for i := range 4 {
		b.WriteString("  - {name: s" + string(rune('0'+i)) + ", user: u, password: p, primary: {address: \"127.0.0.1:" + string(rune('1'+i)) + "9999\"}}\n")
	}
	b.WriteString("default_cluster: s0\n" + extra + "sharding:\n  shards: " + shards + "\n  tables: [{name: moves, key: order_id}]\n")
	cfg, err := config.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newLayoutServer(t *testing.T, extra string) *Server {
	t.Helper()
	s, err := New(layoutConfig(t, `[{range: "-80", cluster: s0}, {range: "80-", cluster: s1}]`, extra), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

// TestSwapLayout: a switch replaces the layout and its version as a
// whole, and is refused, keeping the old one, when the new file changes
// what needs a restart or names a hold that is not in place.
func TestSwapLayout(t *testing.T) {
	s := newLayoutServer(t, "")
	if v := s.Layouts().Version(); v != 1 {
		t.Fatalf("version at start %d", v)
	}
	four := layoutConfig(t, `[{range: "-40", cluster: s0}, {range: "40-80", cluster: s2}, {range: "80-c0", cluster: s1}, {range: "c0-", cluster: s3}]`, "")
	if v, err := s.Layouts().Swap(four, 0, 0); err != nil || v != 2 {
		t.Fatalf("switch to four shards: %d, %v", v, err)
	}
	if n := s.snapshot().schema.Keyspace().Shards(); n != 4 {
		t.Fatalf("after the switch %d shards", n)
	}
	// The cluster indexes are the same in every layout.
	if got := s.snapshot().schema.Clusters; strings.Join(got, ",") != "s0,s1,s2,s3" {
		t.Fatalf("clusters %v", got)
	}

	other := layoutConfig(t, `[{range: "-", cluster: s1}]`, "")
	other.DefaultCluster = "s1"
	if _, err := s.Layouts().Swap(other, 0, 0); err == nil || !strings.Contains(err.Error(), "default_cluster") {
		t.Fatalf("a new default cluster: %v", err)
	}
	more := layoutConfig(t, `[{range: "-", cluster: s0}]`, "")
	more.Clusters = append(more.Clusters, config.Cluster{Name: "s9", Primary: config.Backend{Name: "s9", Address: "127.0.0.1:1"}})
	if _, err := s.Layouts().Swap(more, 0, 0); err == nil || !strings.Contains(err.Error(), "clusters") {
		t.Fatalf("a cluster the running Courier lacks: %v", err)
	}
	if _, err := s.Layouts().Swap(four, 7, 0); err == nil || !strings.Contains(err.Error(), "hold 7 is not in place") {
		t.Fatalf("a switch under a hold that is not in place: %v", err)
	}
	if v := s.Layouts().Version(); v != 2 {
		t.Fatalf("refused switches changed the version to %d", v)
	}
}

// TestHold: one hold at a time, bounded, released by its switch or
// explicitly, and lapsing by itself when its holder goes away.
func TestHold(t *testing.T) {
	s := newLayoutServer(t, "")
	ctx := context.Background()
	if _, err := s.Layouts().Hold(ctx, nil, time.Second, time.Second); err == nil {
		t.Fatal("a hold of no table was placed")
	}
	if _, err := s.Layouts().Hold(ctx, []string{"moves"}, 2*MaxHold, time.Second); err == nil {
		t.Fatal("a hold longer than MaxHold was placed")
	}
	h, err := s.Layouts().Hold(ctx, []string{"Moves"}, 10*time.Second, time.Second)
	if err != nil || h.Hold == 0 || h.Waited != 0 || len(h.Tables) != 1 || h.Tables[0] != "moves" {
		t.Fatalf("hold = %+v, %v", h, err)
	}
	if _, err := s.Layouts().Hold(ctx, []string{"other"}, time.Second, time.Second); err == nil {
		t.Fatal("a second hold was placed")
	}
	if st := s.Layouts().Status(); st.Hold == nil || st.Hold.Hold != h.Hold {
		t.Fatalf("layout status %+v", st)
	}
	if v, err := s.Layouts().Swap(layoutConfig(t, `[{range: "-", cluster: s0}]`, ""), h.Hold, 0); err != nil || v != 2 {
		t.Fatalf("switch under the hold: %d, %v", v, err)
	}
	if s.Layouts().Status().Hold != nil || s.Layouts().Release(h.Hold) == nil {
		t.Fatal("the switch did not release its hold")
	}

	// Past its pause, a hold lapses only once the recorded layout has
	// been read: here the default cluster is unreachable, so it stays.
	h2, err := s.Layouts().Hold(ctx, []string{"moves"}, 50*time.Millisecond, time.Second)
	if err != nil || h2.Hold <= h.Hold {
		t.Fatalf("second hold = %+v, %v", h2, err)
	}
	time.Sleep(300 * time.Millisecond)
	if st := s.Layouts().Status(); st.Hold == nil || st.Hold.Hold != h2.Hold {
		t.Fatalf("a hold lapsed without the recorded layout read: %+v", st)
	}
	if err := s.Layouts().Release(h2.Hold); err != nil || s.Layouts().Status().Hold != nil {
		t.Fatalf("release: %v", err)
	}
	if _, err := s.Layouts().Swap(layoutConfig(t, `[{range: "-", cluster: s1}]`, ""), h2.Hold, 0); err == nil {
		t.Fatal("a switch under a released hold went ahead")
	}
}

// TestAdminWrites: the layout's write calls need the admin token when
// one is set, and come from loopback otherwise.
func TestAdminWrites(t *testing.T) {
	for _, tc := range []struct {
		name, extra, auth, remote string
		want                      int
	}{
		{"loopback without a token", "", "", "127.0.0.1:5000", http.StatusOK},
		{"remote without a token", "", "", "10.1.2.3:5000", http.StatusForbidden},
		{"token required", "admin_token: sekrit\n", "", "127.0.0.1:5000", http.StatusForbidden},
		{"wrong token", "admin_token: sekrit\n", "Bearer nope", "127.0.0.1:5000", http.StatusForbidden},
		{"token", "admin_token: sekrit\n", "Bearer sekrit", "10.1.2.3:5000", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newLayoutServer(t, tc.extra)
			h := s.AdminHandler()
			r := httptest.NewRequest("POST", "/layout/hold", strings.NewReader(`{"tables": ["moves"], "pause": "5s"}`))
			r.RemoteAddr = tc.remote
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status %d (%s), want %d", w.Code, w.Body, tc.want)
			}
			held := s.Layouts().Status().Hold != nil
			if held != (tc.want == http.StatusOK) {
				t.Fatalf("hold in place: %v", held)
			}
			// Reading the layout needs no token.
			w = httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/layout", nil))
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"version":1`) {
				t.Fatalf("GET /layout: %d %s", w.Code, w.Body)
			}
		})
	}
}
