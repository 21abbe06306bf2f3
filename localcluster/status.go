package localcluster

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strconv"
	"time"
)

// InstanceStatus is the observed state of one instance.
type InstanceStatus struct {
	Instance
	Running       bool   // our PID is alive and the server answers on its port
	IORunning     bool   // replicas: Slave_IO_Running = Yes
	SQLRunning    bool   // replicas: Slave_SQL_Running = Yes
	SecondsBehind *int64 // replicas: Seconds_Behind_Master; nil when NULL
	GTID          string // replicas: Gtid_IO_Pos; primaries: @@gtid_binlog_pos
	Err           string // why a probe failed, if one did
}

// Status reports on every instance of the cluster in dir. Probe failures
// are reported per instance in Err; only a missing or unreadable state file
// is an error.
func Status(ctx context.Context, dir string) ([]InstanceStatus, error) {
	c, err := Load(dir)
	if err != nil {
		return nil, err
	}
	out := make([]InstanceStatus, len(c.Instances))
	_ = forEach(ctx, c.Instances, func(ctx context.Context, i int, inst Instance) error {
		out[i] = probe(ctx, c.Spec, inst)
		return nil
	})
	return out, nil
}

// probe inspects one instance with short timeouts.
func probe(ctx context.Context, spec Spec, inst Instance) InstanceStatus {
	st := InstanceStatus{Instance: inst}
	if !ourProcess(inst.PID, inst.DataDir) {
		st.Err = "not running"
		return st
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", inst.Addr)
	if err != nil {
		st.Err = fmt.Sprintf("port does not answer: %v", err)
		return st
	}
	_ = conn.Close()
	db, err := adminDB(spec, inst.Name)
	if err != nil {
		st.Err = err.Error()
		return st
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		st.Err = fmt.Sprintf("login: %v", err)
		return st
	}
	st.Running = true
	if inst.Role == RolePrimary {
		if err := db.QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&st.GTID); err != nil {
			st.Err = err.Error()
		}
		return st
	}
	ss, err := slaveStatus(ctx, db)
	if err != nil {
		st.Err = err.Error()
		return st
	}
	if ss == nil {
		st.Err = "replication is not configured"
		return st
	}
	fillReplica(&st, ss)
	return st
}

// fillReplica copies the interesting SHOW SLAVE STATUS columns into st.
func fillReplica(st *InstanceStatus, ss map[string]sql.NullString) {
	st.IORunning = ss["Slave_IO_Running"].String == "Yes"
	st.SQLRunning = ss["Slave_SQL_Running"].String == "Yes"
	st.GTID = ss["Gtid_IO_Pos"].String
	if v := ss["Seconds_Behind_Master"]; v.Valid {
		if n, err := strconv.ParseInt(v.String, 10, 64); err == nil {
			st.SecondsBehind = &n
		}
	}
	switch {
	case ss["Last_SQL_Error"].String != "":
		st.Err = "SQL thread: " + ss["Last_SQL_Error"].String
	case ss["Last_IO_Error"].String != "":
		st.Err = "IO thread: " + ss["Last_IO_Error"].String
	}
}
