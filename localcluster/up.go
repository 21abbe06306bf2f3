package localcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Up starts the topology described by spec and returns it once every
// instance accepts the application user over TCP and every replica's IO and
// SQL threads run. It is idempotent: instances still running from an earlier
// Up with the same Dir are reused (they keep their original flags), and
// instances recorded with dead PIDs are started again from their data dirs.
// New instances get a copy of a cached mariadb-install-db template. If Up
// fails, it stops the processes it started itself. logw receives progress
// lines (nil or io.Discard for none).
func Up(ctx context.Context, spec Spec, logw io.Writer) (_ *Cluster, err error) {
	log := newProgress(logw)
	spec, err = spec.withDefaults()
	if err != nil {
		return nil, err
	}
	bins, err := findBinaries()
	if err != nil {
		return nil, err
	}
	unlock, err := lockDir(ctx, spec.Dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	began := time.Now()

	c := &Cluster{Spec: spec, Instances: layout(spec)}
	if err := adoptRunning(c); err != nil {
		return nil, err
	}
	exited := make([]<-chan error, len(c.Instances))
	defer func() {
		if err != nil {
			stopStarted(c, exited, log)
		}
	}()
	if err := startMissing(ctx, bins, c, exited, log); err != nil {
		return nil, err
	}
	if err := forEach(ctx, c.Instances, func(ctx context.Context, i int, inst Instance) error {
		err := waitReady(ctx, spec, inst, exited[i])
		if err == nil || exited[i] != nil || exists(inst.PID) {
			return err
		}
		// A reused server died meanwhile (say, killed just before Up): start it again.
		p, err := startProcess(ctx, bins, spec, inst)
		if err != nil {
			return err
		}
		c.Instances[i].PID, exited[i] = p.pid, p.exited
		log.printf("%s died; restarted as pid %d", inst.Name, p.pid)
		return waitReady(ctx, spec, c.Instances[i], p.exited)
	}); err != nil {
		return nil, err
	}
	if err := configure(ctx, c); err != nil {
		return nil, err
	}
	if err := forEach(ctx, c.Instances, func(ctx context.Context, _ int, inst Instance) error {
		return waitAppLogin(ctx, spec, inst)
	}); err != nil {
		return nil, err
	}
	log.printf("%d instance(s) up in %s (%s)", len(c.Instances), time.Since(began).Round(time.Millisecond), spec.Dir)
	return c, save(c)
}

// adoptRunning copies the PIDs of instances still running from the state
// file into c. A running instance that does not fit the new layout is an
// error: the caller must Down the old cluster first.
func adoptRunning(c *Cluster) error {
	prev, err := Load(c.Spec.Dir)
	if errors.Is(err, ErrNoCluster) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, old := range prev.Instances {
		if !ourProcess(old.PID, old.DataDir) {
			continue
		}
		_, i, err := c.instance(old.Name)
		if err != nil || c.Instances[i].Port != old.Port || c.Instances[i].DataDir != old.DataDir {
			return fmt.Errorf("localcluster: %s (pid %d, port %d) from an earlier cluster in %s is still running with a different layout; run Down first",
				old.Name, old.PID, old.Port, c.Spec.Dir)
		}
		c.Instances[i].PID = old.PID
	}
	return nil
}

// startMissing starts, in parallel, every instance without a live PID,
// creating its data dir from the template if needed, and records the PIDs
// in the state file before anybody waits on them.
func startMissing(ctx context.Context, bins binaries, c *Cluster, exited []<-chan error, log *progress) error {
	var template string
	for _, inst := range c.Instances {
		if inst.PID != 0 || dataDirExists(inst.DataDir) {
			continue
		}
		t, err := ensureTemplate(ctx, bins, c.Spec.ExtraArgs, log.w)
		if err != nil {
			return err
		}
		template = t
		break
	}
	err := forEach(ctx, c.Instances, func(ctx context.Context, i int, inst Instance) error {
		if inst.PID != 0 {
			log.printf("%s reusing running pid %d on %s", inst.Name, inst.PID, inst.Addr)
			return nil
		}
		if !dataDirExists(inst.DataDir) {
			if err := copyTemplate(ctx, template, inst.DataDir); err != nil {
				return err
			}
		}
		p, err := startProcess(ctx, bins, c.Spec, inst)
		if err != nil {
			return err
		}
		c.Instances[i].PID, exited[i] = p.pid, p.exited
		log.printf("%s started pid %d on %s", inst.Name, p.pid, inst.Addr)
		return nil
	})
	if serr := save(c); serr != nil && err == nil {
		err = serr
	}
	return err
}

// configure creates the users on every primary, then points every replica
// at its primary and waits for both slave threads.
func configure(ctx context.Context, c *Cluster) error {
	if err := forEach(ctx, c.Primaries(), func(ctx context.Context, _ int, inst Instance) error {
		db, err := adminDB(c.Spec, inst.Name)
		if err != nil {
			return err
		}
		defer db.Close()
		return setupPrimary(ctx, db, c.Spec)
	}); err != nil {
		return err
	}
	var replicas []Instance
	for s := 0; s < c.Spec.Shards; s++ {
		replicas = append(replicas, c.Replicas(s)...)
	}
	if len(replicas) == 0 {
		return nil
	}
	return forEach(ctx, replicas, func(ctx context.Context, _ int, inst Instance) error {
		return startReplication(ctx, c, inst)
	})
}

// startReplication configures one replica if needed and waits until it
// replicates.
func startReplication(ctx context.Context, c *Cluster, inst Instance) error {
	db, err := adminDB(c.Spec, inst.Name)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := setupReplica(ctx, db, c.Primary(inst.Shard)); err != nil {
		return err
	}
	return waitReplicating(ctx, db, inst)
}

// stopStarted stops the processes this Up started (exited is non-nil for
// those) after a failure, and records them as stopped.
func stopStarted(c *Cluster, exited []<-chan error, log *progress) {
	var started []Instance
	for i, inst := range c.Instances {
		if exited[i] != nil {
			started = append(started, inst)
			c.Instances[i].PID = 0
		}
	}
	if len(started) == 0 {
		return
	}
	log.printf("startup failed; stopping the %d instance(s) started", len(started))
	if err := stopProcesses(context.Background(), started); err != nil {
		log.printf("%v", err)
	}
	if err := save(c); err != nil {
		log.printf("%v", err)
	}
}

// dataDirExists reports whether dir holds an initialised data directory.
func dataDirExists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "mysql"))
	return err == nil
}
