package localcluster

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Default values applied by Up to zero fields of a Spec.
const (
	DefaultShards   = 1
	DefaultBasePort = 3406
	DefaultUser     = "courier"
	DefaultPassword = "courier"
)

// Role names used in Instance.Role.
const (
	RolePrimary = "primary"
	RoleReplica = "replica"
)

// replUser and replPassword are the replication account created on every
// primary; replicas connect with it.
const (
	replUser     = "repl"
	replPassword = "repl"
)

// Spec describes the topology to start: Shards shards, each with one primary
// and Replicas replicas, on consecutive ports from BasePort.
type Spec struct {
	Dir       string   // work directory; created if missing; state file Dir/cluster.json
	Shards    int      // default 1
	Replicas  int      // replicas per shard, default 0
	BasePort  int      // port of the first instance; instance k gets BasePort+k; default 3406
	User      string   // application user with ALL PRIVILEGES on every instance; default "courier"
	Password  string   // password of User; default "courier"
	ExtraArgs []string // extra mariadbd flags for every instance, appended last (so they win)
}

// Instance is one mariadbd process of the topology.
type Instance struct {
	Name    string // "s0-primary", "s0-replica1", ..., "s1-primary", ...
	Shard   int
	Role    string // RolePrimary or RoleReplica
	Port    int
	Addr    string // "127.0.0.1:PORT"
	DataDir string
	PID     int // 0 when not started by us (or stopped by Down)
}

// Cluster is a started (or recorded) topology, as kept in Dir/cluster.json.
type Cluster struct {
	Spec      Spec
	Instances []Instance
}

// withDefaults returns a copy of s with zero fields set to their defaults and
// Dir made absolute.
func (s Spec) withDefaults() (Spec, error) {
	if s.Shards == 0 {
		s.Shards = DefaultShards
	}
	if s.BasePort == 0 {
		s.BasePort = DefaultBasePort
	}
	if s.User == "" {
		s.User = DefaultUser
	}
	if s.Password == "" {
		s.Password = DefaultPassword
	}
	s.ExtraArgs = append([]string(nil), s.ExtraArgs...)
	if s.Dir == "" {
		return s, errors.New("localcluster: Spec.Dir is required")
	}
	abs, err := filepath.Abs(s.Dir)
	if err != nil {
		return s, fmt.Errorf("localcluster: resolve dir %q: %w", s.Dir, err)
	}
	s.Dir = abs
	return s, s.validate()
}

// validate checks a spec that already has its defaults.
func (s Spec) validate() error {
	switch {
	case s.Shards < 1:
		return fmt.Errorf("localcluster: Shards must be >= 1, got %d", s.Shards)
	case s.Replicas < 0:
		return fmt.Errorf("localcluster: Replicas must be >= 0, got %d", s.Replicas)
	case s.BasePort < 1 || s.BasePort+s.size()-1 > 65535:
		return fmt.Errorf("localcluster: ports %d..%d are out of range", s.BasePort, s.BasePort+s.size()-1)
	}
	switch strings.ToLower(s.User) {
	case "root", replUser, "mariadb.sys":
		return fmt.Errorf("localcluster: User %q is reserved; choose another application user", s.User)
	}
	return nil
}

// size is the number of instances in the topology.
func (s Spec) size() int { return s.Shards * (1 + s.Replicas) }

// layout lists the instances of s in port order (shard0 primary, shard0
// replicas, shard1 primary, ...), without PIDs.
func layout(s Spec) []Instance {
	out := make([]Instance, 0, s.size())
	for shard := 0; shard < s.Shards; shard++ {
		for r := 0; r <= s.Replicas; r++ {
			inst := Instance{Shard: shard, Role: RolePrimary, Name: fmt.Sprintf("s%d-primary", shard)}
			if r > 0 {
				inst.Role = RoleReplica
				inst.Name = fmt.Sprintf("s%d-replica%d", shard, r)
			}
			inst.Port = s.BasePort + len(out)
			inst.Addr = fmt.Sprintf("127.0.0.1:%d", inst.Port)
			inst.DataDir = pathsFor(s.Dir, inst.Name).data
			out = append(out, inst)
		}
	}
	return out
}

// Primaries returns the primary of every shard, in shard order.
func (c *Cluster) Primaries() []Instance {
	var out []Instance
	for _, inst := range c.Instances {
		if inst.Role == RolePrimary {
			out = append(out, inst)
		}
	}
	return out
}

// Replicas returns the replicas of one shard, in name order.
func (c *Cluster) Replicas(shard int) []Instance {
	var out []Instance
	for _, inst := range c.Instances {
		if inst.Role == RoleReplica && inst.Shard == shard {
			out = append(out, inst)
		}
	}
	return out
}

// Primary returns the primary of one shard (the zero Instance if there is no
// such shard).
func (c *Cluster) Primary(shard int) Instance {
	for _, inst := range c.Instances {
		if inst.Role == RolePrimary && inst.Shard == shard {
			return inst
		}
	}
	return Instance{}
}

// DSN returns a go-sql-driver/mysql DSN for the application user on inst,
// with db as default database (may be empty).
func (c *Cluster) DSN(inst Instance, db string) string {
	return fmt.Sprintf("%s:%s@tcp(%s)/%s?multiStatements=true&parseTime=false",
		c.Spec.User, c.Spec.Password, inst.Addr, db)
}

// instance returns the instance called name.
func (c *Cluster) instance(name string) (Instance, int, error) {
	for i, inst := range c.Instances {
		if inst.Name == name {
			return inst, i, nil
		}
	}
	return Instance{}, -1, fmt.Errorf("localcluster: no instance %q in %s: %w", name, c.Spec.Dir, ErrUnknownInstance)
}
