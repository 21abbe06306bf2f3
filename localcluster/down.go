package localcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Down stops every instance of the cluster in dir: SIGTERM to each PID
// recorded in the state file that is still our mariadbd, up to 30 s to exit,
// then SIGKILL. It never signals other processes. With removeData it also
// deletes the instance directories (data, logs, sockets) and the state
// file. Down of a directory without a cluster is a no-op.
func Down(ctx context.Context, dir string, removeData bool) error {
	c, err := Load(dir)
	if errors.Is(err, ErrNoCluster) {
		return nil
	}
	if err != nil {
		return err
	}
	unlock, err := lockDir(ctx, c.Spec.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	if c, err = Load(dir); err != nil { // re-read under the lock
		if errors.Is(err, ErrNoCluster) {
			return nil
		}
		return err
	}
	stopErr := stopProcesses(ctx, c.Instances)
	for i := range c.Instances {
		if !ourProcess(c.Instances[i].PID, c.Instances[i].DataDir) {
			c.Instances[i].PID = 0
		}
	}
	if stopErr != nil {
		return errors.Join(stopErr, save(c))
	}
	if !removeData {
		return save(c)
	}
	var errs []error
	for _, inst := range c.Instances {
		p := pathsFor(c.Spec.Dir, inst.Name)
		errs = append(errs, removeUnder(c.Spec.Dir, p.root))
		if !strings.HasPrefix(p.socket, p.root) {
			if err := os.Remove(p.socket); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	if err := os.Remove(stateFile(c.Spec.Dir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeUnder deletes path, refusing anything that is not strictly inside dir.
func removeUnder(dir, path string) error {
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("localcluster: refusing to delete %s (not inside %s)", path, dir)
	}
	return os.RemoveAll(path)
}

// Kill sends sig to the named instance's recorded PID (only if it is still
// our mariadbd). For SIGKILL and SIGTERM it returns once the process has
// exited (SIGTERM: up to 30 s), so the instance is known to be down; other
// signals (SIGSTOP, ...) return at once. Use Restart to bring it back.
func Kill(dir, name string, sig syscall.Signal) error {
	c, err := Load(dir)
	if err != nil {
		return err
	}
	inst, _, err := c.instance(name)
	if err != nil {
		return err
	}
	if err := signalInstance(inst, sig); err != nil {
		return err
	}
	if sig != syscall.SIGKILL && sig != syscall.SIGTERM {
		return nil
	}
	for end := time.Now().Add(stopTimeout); exists(inst.PID); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			return fmt.Errorf("localcluster: %s (pid %d) still running %s after %v", name, inst.PID, stopTimeout, sig)
		}
	}
	return nil
}
