package localcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Sentinel errors; match them with errors.Is.
var (
	// ErrNoCluster means the directory has no cluster.json (never started or purged).
	ErrNoCluster = errors.New("no local cluster state")
	// ErrUnknownInstance means an instance name is not part of the cluster.
	ErrUnknownInstance = errors.New("unknown instance")
	// ErrNotInstalled means mariadbd or mariadb-install-db could not be found.
	ErrNotInstalled = errors.New("mariadb server is not installed")
)

// Load reads Dir/cluster.json. It fails with ErrNoCluster if the file is absent.
func Load(dir string) (*Cluster, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("localcluster: resolve dir %q: %w", dir, err)
	}
	b, err := os.ReadFile(stateFile(abs))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("localcluster: %s: %w (run Up / `courierctl local up` first)", stateFile(abs), ErrNoCluster)
	}
	if err != nil {
		return nil, fmt.Errorf("localcluster: read state: %w", err)
	}
	var c Cluster
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("localcluster: parse %s: %w", stateFile(abs), err)
	}
	return &c, nil
}

// save writes the state file atomically (write to a temporary file, rename),
// so a concurrent Load never sees half a file. The file holds the password,
// hence mode 0600.
func save(c *Cluster) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("localcluster: encode state: %w", err)
	}
	path := stateFile(c.Spec.Dir)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("localcluster: write state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("localcluster: write state: %w", err)
	}
	return nil
}

// lockDir takes an exclusive flock on Dir/.lock so that Up, Down and Restart
// on the same directory (from any process) do not interleave. The returned
// function releases it.
func lockDir(ctx context.Context, dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("localcluster: create dir: %w", err)
	}
	f, err := os.OpenFile(lockFile(dir), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("localcluster: open lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("localcluster: lock %s: %w", dir, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("localcluster: waiting for lock on %s: %w", dir, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
