package localcluster

import (
	"context"
	"fmt"
)

// Restart starts the named instance again from its data dir (stopping it
// first, SIGTERM then SIGKILL, if it still runs) and waits until it accepts
// the application user. A restarted replica resumes replication from its
// GTID position; for a restarted primary, Restart also waits until the
// running replicas of its shard have reconnected.
func Restart(ctx context.Context, dir, name string) error {
	c, err := Load(dir)
	if err != nil {
		return err
	}
	unlock, err := lockDir(ctx, c.Spec.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	if c, err = Load(dir); err != nil {
		return err
	}
	inst, i, err := c.instance(name)
	if err != nil {
		return err
	}
	if err := stopProcesses(ctx, []Instance{inst}); err != nil {
		return err
	}
	if !dataDirExists(inst.DataDir) {
		return fmt.Errorf("localcluster: %s has no data dir %s; run Up", name, inst.DataDir)
	}
	bins, err := findBinaries()
	if err != nil {
		return err
	}
	p, err := startProcess(ctx, bins, c.Spec, inst)
	if err != nil {
		return err
	}
	c.Instances[i].PID = p.pid
	inst = c.Instances[i]
	if err := save(c); err != nil {
		return err
	}
	if err := waitReady(ctx, c.Spec, inst, p.exited); err != nil {
		return err
	}
	var followers []Instance
	if inst.Role == RoleReplica {
		followers = []Instance{inst}
	} else {
		for _, r := range c.Replicas(inst.Shard) {
			if ourProcess(r.PID, r.DataDir) {
				followers = append(followers, r)
			}
		}
	}
	if len(followers) > 0 {
		if err := forEach(ctx, followers, func(ctx context.Context, _ int, r Instance) error {
			return startReplication(ctx, c, r)
		}); err != nil {
			return err
		}
	}
	return waitAppLogin(ctx, c.Spec, inst)
}
