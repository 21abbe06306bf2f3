package localcluster

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestSpecDefaultsAndValidation(t *testing.T) {
	tests := []struct {
		name    string
		spec    Spec
		wantErr string
		check   func(t *testing.T, s Spec)
	}{
		{name: "defaults", spec: Spec{Dir: "x"}, check: func(t *testing.T, s Spec) {
			if s.Shards != 1 || s.Replicas != 0 || s.BasePort != 3406 || s.User != "courier" || s.Password != "courier" {
				t.Errorf("defaults not applied: %+v", s)
			}
			if !filepath.IsAbs(s.Dir) {
				t.Errorf("Dir %q not absolute", s.Dir)
			}
		}},
		{name: "kept", spec: Spec{Dir: "/d", Shards: 3, Replicas: 2, BasePort: 20000, User: "u", Password: "p"}, check: func(t *testing.T, s Spec) {
			if s.Shards != 3 || s.Replicas != 2 || s.BasePort != 20000 || s.User != "u" || s.Password != "p" {
				t.Errorf("explicit values changed: %+v", s)
			}
		}},
		{name: "no dir", spec: Spec{}, wantErr: "Dir is required"},
		{name: "negative shards", spec: Spec{Dir: "/d", Shards: -1}, wantErr: "Shards"},
		{name: "negative replicas", spec: Spec{Dir: "/d", Replicas: -1}, wantErr: "Replicas"},
		{name: "ports overflow", spec: Spec{Dir: "/d", Shards: 2, Replicas: 1, BasePort: 65533}, wantErr: "out of range"},
		{name: "root user", spec: Spec{Dir: "/d", User: "root"}, wantErr: "reserved"},
		{name: "repl user", spec: Spec{Dir: "/d", User: "REPL"}, wantErr: "reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.spec.withDefaults()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}

func TestLayoutAndAccessors(t *testing.T) {
	spec := Spec{Dir: "/w", Shards: 2, Replicas: 2, BasePort: 5000, User: "app", Password: "pw"}
	c := &Cluster{Spec: spec, Instances: layout(spec)}
	want := []string{
		"s0-primary primary 0 5000", "s0-replica1 replica 0 5001", "s0-replica2 replica 0 5002",
		"s1-primary primary 1 5003", "s1-replica1 replica 1 5004", "s1-replica2 replica 1 5005",
	}
	if len(c.Instances) != len(want) {
		t.Fatalf("got %d instances, want %d", len(c.Instances), len(want))
	}
	for i, inst := range c.Instances {
		got := fmt.Sprintf("%s %s %d %d", inst.Name, inst.Role, inst.Shard, inst.Port)
		if got != want[i] {
			t.Errorf("instance %d = %q, want %q", i, got, want[i])
		}
		if inst.Addr != fmt.Sprintf("127.0.0.1:%d", inst.Port) || inst.DataDir != filepath.Join("/w", inst.Name, "data") {
			t.Errorf("instance %d addr/datadir = %s %s", i, inst.Addr, inst.DataDir)
		}
	}
	if p := c.Primaries(); len(p) != 2 || p[1].Name != "s1-primary" {
		t.Errorf("Primaries = %+v", p)
	}
	if r := c.Replicas(1); len(r) != 2 || r[0].Name != "s1-replica1" || r[1].Name != "s1-replica2" {
		t.Errorf("Replicas(1) = %+v", r)
	}
	if p := c.Primary(1); p.Port != 5003 {
		t.Errorf("Primary(1) = %+v", p)
	}
	if p := c.Primary(7); p.Name != "" {
		t.Errorf("Primary(7) = %+v, want zero", p)
	}
	if got, want := c.DSN(c.Primary(0), "db1"), "app:pw@tcp(127.0.0.1:5000)/db1?multiStatements=true&parseTime=false"; got != want {
		t.Errorf("DSN = %q, want %q", got, want)
	}
	if _, _, err := c.instance("s9-primary"); !errors.Is(err, ErrUnknownInstance) {
		t.Errorf("instance(unknown) err = %v", err)
	}
}

func TestPathsSocketFallback(t *testing.T) {
	tests := []struct {
		name      string
		dir       string
		wantInDir bool
	}{
		{name: "short", dir: "/tmp/w", wantInDir: true},
		{name: "long", dir: "/tmp/" + strings.Repeat("x", 120), wantInDir: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pathsFor(tt.dir, "s0-primary")
			if got := strings.HasPrefix(p.socket, tt.dir); got != tt.wantInDir {
				t.Errorf("socket %q in dir = %v, want %v", p.socket, got, tt.wantInDir)
			}
			if len(p.socket) > maxSocketPath {
				t.Errorf("socket path %d bytes", len(p.socket))
			}
			if q := pathsFor(tt.dir, "s0-primary"); q.socket != p.socket {
				t.Errorf("socket path not deterministic")
			}
		})
	}
}

func TestMariadbdArgs(t *testing.T) {
	spec := Spec{Dir: "/w", Shards: 1, BasePort: 4000, ExtraArgs: []string{"--innodb-buffer-pool-size=128M"}}
	args := mariadbdArgs(spec, layout(spec)[0])
	if args[0] != "--no-defaults" {
		t.Errorf("first arg %q, want --no-defaults", args[0])
	}
	if args[len(args)-1] != "--innodb-buffer-pool-size=128M" {
		t.Errorf("ExtraArgs not last: %v", args)
	}
	for _, want := range []string{"--port=4000", "--server-id=4000", "--datadir=/w/s0-primary/data", "--gtid-strict-mode=1", "--log-bin=mysql-bin"} {
		found := false
		for _, a := range args {
			found = found || a == want
		}
		if !found {
			t.Errorf("missing %s in %v", want, args)
		}
	}
	for _, a := range args {
		if strings.HasPrefix(a, "--read-only") {
			t.Errorf("unexpected %s", a)
		}
	}
}

func TestSQLString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "'plain'"},
		{"it's", `'it\'s'`},
		{`back\slash`, `'back\\slash'`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := sqlString(tt.in); got != tt.want {
				t.Errorf("sqlString(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestForEachKeepsCauseNotEchoes(t *testing.T) {
	insts := layout(Spec{Dir: "/w", Shards: 1, Replicas: 2, BasePort: 1})
	boom := errors.New("boom")
	err := forEach(context.Background(), insts, func(ctx context.Context, i int, _ Instance) error {
		if i == 1 {
			return boom
		}
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, boom) || errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want only boom", err)
	}
	if !strings.Contains(err.Error(), "s0-replica1") {
		t.Errorf("err %q does not name the instance", err)
	}
}
