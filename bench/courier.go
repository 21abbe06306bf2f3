package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// backendSet is one cluster of Courier's configuration: a primary and its
// replicas (host:port each).
type backendSet struct {
	primary  string
	replicas []string
}

// courierConfig is Courier's configuration for the benchmark: the
// clusters (named s0, s1, ...; s0 is the default), the sysbench account, a
// pool large enough that 64 client threads never wait for a backend
// connection, warn-level logs, the admin HTTP address when admin is not ""
// (none otherwise), and sharding when it is not "" (a YAML block starting
// with "sharding:").
func courierConfig(listen, admin, backendUser, backendPassword string, clusters []backendSet, sharding string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %s\nadmin: %q\nlog: {level: warn}\n", listen, admin)
	fmt.Fprintf(&b, "users:\n  - name: %s\n    password: %s\n", sbUser, sbPassword)
	b.WriteString("default_cluster: s0\nclusters:\n")
	for i, c := range clusters {
		fmt.Fprintf(&b, "  - name: s%d\n    user: %s\n    password: %s\n", i, backendUser, backendPassword)
		fmt.Fprintf(&b, "    pool: {max_open: 512, max_idle: 512}\n    primary: {address: %s}\n", c.primary)
		if len(c.replicas) > 0 {
			b.WriteString("    replicas:\n")
			for _, r := range c.replicas {
				fmt.Fprintf(&b, "      - {address: %s}\n", r)
			}
		}
	}
	b.WriteString(sharding)
	return b.String()
}

// buildCourier compiles ./cmd/courier of the module at src into dir and
// returns the binary's path.
func buildCourier(ctx context.Context, src, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	bin := filepath.Join(dir, "courier")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/courier")
	cmd.Dir = src
	cmd.Env = os.Environ()
	if os.Getenv("GOFLAGS") == "" {
		cmd.Env = append(cmd.Env, "GOFLAGS=-mod=mod")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/courier in %s: %w\n%s", src, err, strings.TrimSpace(string(out)))
	}
	return bin, nil
}

// startCourier writes the configuration into dir and starts Courier as
// the child called name, waiting until it accepts TCP on listen.
func startCourier(ctx context.Context, name, bin, dir, listen, config string) (*child, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "courier.yaml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		return nil, err
	}
	return startListening(ctx, name, bin, []string{"--config", cfg}, filepath.Join(dir, "courier.log"), listen)
}

// startRelay re-executes this binary in relay mode from listen to target.
func startRelay(ctx context.Context, dir, listen, target string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("relay: find own binary: %w", err)
	}
	return startListening(ctx, "relay", self, relayArgs(listen, target), filepath.Join(dir, "relay.log"), listen)
}

// startListening starts a child and waits until it accepts TCP on listen.
func startListening(ctx context.Context, name, path string, args []string, logPath, listen string) (*child, error) {
	c, err := startChild(name, path, args, logPath)
	if err != nil {
		return nil, err
	}
	if err := c.waitListening(ctx, listen); err != nil {
		c.stop(5 * time.Second)
		return nil, err
	}
	return c, nil
}
