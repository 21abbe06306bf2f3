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

// courierConfig is Courier's configuration for the benchmark: one cluster
// (the primary), the sysbench account, a pool large enough that 64 client
// threads never wait for a backend connection, and warn-level logs.
const courierConfig = `listen: %s
admin: ""
log: {level: warn}
users:
  - name: %s
    password: %s
clusters:
  - name: main
    user: %s
    password: %s
    pool: {max_open: 512, max_idle: 512}
    primary: {address: %s}
%s`

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

// startCourier writes the configuration into dir and starts Courier on
// listen (host:port) in front of primary (and replicas, when given, for
// read/write splitting), waiting until it accepts TCP.
func startCourier(ctx context.Context, bin, dir, listen, primary string, replicas []string,
	backendUser, backendPassword string) (*child, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "courier.yaml")
	rs := ""
	if len(replicas) > 0 {
		rs = "    replicas:\n"
		for _, r := range replicas {
			rs += "      - {address: " + r + "}\n"
		}
	}
	body := fmt.Sprintf(courierConfig, listen, sbUser, sbPassword, backendUser, backendPassword, primary, rs)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		return nil, err
	}
	return startListening(ctx, "courier", bin, []string{"--config", cfg}, filepath.Join(dir, "courier.log"), listen)
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
