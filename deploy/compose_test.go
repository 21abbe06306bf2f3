package deploy

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/courier-proxy/courier/config"
)

// composeFile is the part of compose.yaml the test reads.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		DependsOn   map[string]any    `yaml:"depends_on"`
		Build       map[string]string `yaml:"build"`
	} `yaml:"services"`
}

// TestComposeFile checks compose/compose.yaml against the Courier
// configuration it mounts, read as the image reads it (with the
// Dockerfile's environment): every cluster's servers are services on
// MariaDB's port, each replica follows its own cluster's primary, the
// primaries write ROW binlogs with distinct server ids, Courier's
// listening and admin ports are published, its admin calls have a token
// (its admin address is on every interface), and it waits for every
// server. (Docker does not run here: the file is checked, not started.)
func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile("compose/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(raw, &cf); err != nil {
		t.Fatal(err)
	}
	courier, ok := cf.Services["courier"]
	if !ok || courier.Build["dockerfile"] != "Dockerfile" {
		t.Fatalf("no courier service built from the Dockerfile: %+v", courier)
	}
	dockerfile, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	const inImage = "/etc/courier/courier.yaml"
	var mounted string
	for _, v := range courier.Volumes {
		if src, dst, _ := strings.Cut(strings.TrimSuffix(v, ":ro"), ":"); dst == inImage {
			mounted = filepath.Join("compose", src)
		}
	}
	if mounted == "" || !strings.Contains(string(dockerfile), `"--config", "`+inImage+`"`) {
		t.Fatalf("the courier service does not mount the file the image reads (%s): %v", inImage, courier.Volumes)
	}
	for _, line := range strings.Split(string(dockerfile), "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "ENV "), "="); ok && strings.HasPrefix(line, "ENV ") {
			t.Setenv(k, v)
		}
	}
	for k, v := range courier.Environment {
		t.Setenv(k, v)
	}
	cfg, err := config.Load(mounted)
	if err != nil {
		t.Fatalf("the mounted configuration, as the image reads it: %v", err)
	}

	serverIDs := map[string]string{}
	for _, cl := range cfg.Clusters {
		primary := checkServer(t, cf, cl.Name, cl.Primary.Address)
		if !slices.Contains(cf.Services[primary].Command, "--log-bin") || !slices.Contains(cf.Services[primary].Command, "--binlog-format=ROW") {
			t.Errorf("primary %s: no ROW binary log: %v", primary, cf.Services[primary].Command)
		}
		servers := []string{primary}
		for _, r := range cl.Replicas {
			replica := checkServer(t, cf, cl.Name, r.Address)
			if got := cf.Services[replica].Environment["MARIADB_MASTER_HOST"]; got != primary {
				t.Errorf("replica %s of cluster %s follows %q, not its primary %s", replica, cl.Name, got, primary)
			}
			servers = append(servers, replica)
		}
		for _, s := range servers {
			if _, ok := courier.DependsOn[s]; !ok {
				t.Errorf("courier does not wait for %s", s)
			}
			for _, arg := range cf.Services[s].Command {
				if id, ok := strings.CutPrefix(arg, "--server-id="); ok {
					if other, dup := serverIDs[id]; dup {
						t.Errorf("%s and %s share server id %s", s, other, id)
					}
					serverIDs[id] = s
				}
			}
		}
	}
	for name, addr := range map[string]string{"listen": cfg.Listen, "admin": cfg.Admin} {
		host, port, _ := net.SplitHostPort(addr)
		if host != "0.0.0.0" || !slices.Contains(courier.Ports, port+":"+port) {
			t.Errorf("Courier's %s address %s is not published (ports %v)", name, addr, courier.Ports)
		}
	}
	if cfg.AdminToken == "" {
		t.Error("Courier's admin address is on every interface without an admin_token")
	}
}

// checkServer checks that a cluster's server address names a MariaDB
// service on port 3306, and returns the service.
func checkServer(t *testing.T, cf composeFile, cluster, addr string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	svc, ok := cf.Services[host]
	if err != nil || !ok || port != "3306" || !strings.HasPrefix(svc.Image, "mariadb:") {
		t.Fatalf("cluster %s: %s is not a MariaDB service of the compose file on port 3306", cluster, addr)
	}
	return host
}
