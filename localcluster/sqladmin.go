package localcluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// readyTimeout bounds every wait for a server or for replication.
const readyTimeout = 60 * time.Second

// pollInterval is the pause between readiness probes.
const pollInterval = 50 * time.Millisecond

// adminDB connects to an instance over its unix socket as the OS user, which
// the template authorises through the unix_socket plugin (root when we run as
// root). Setup and Status use it because it works before any TCP user exists.
func adminDB(spec Spec, name string) (*sql.DB, error) {
	name0 := "root"
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return nil, fmt.Errorf("localcluster: current user: %w", err)
		}
		name0 = u.Username
	}
	cfg := mysql.NewConfig()
	cfg.User = name0
	cfg.Net = "unix"
	cfg.Addr = pathsFor(spec.Dir, name).socket
	return openDB(cfg)
}

// appDB connects to an instance over TCP as the application user.
func appDB(spec Spec, inst Instance) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = spec.User, spec.Password
	cfg.Net, cfg.Addr = "tcp", inst.Addr
	return openDB(cfg)
}

func openDB(cfg *mysql.Config) (*sql.DB, error) {
	cfg.Timeout = 2 * time.Second
	cfg.ReadTimeout = 30 * time.Second
	cfg.WriteTimeout = 30 * time.Second
	cfg.Logger = &mysql.NopLogger{} // probing a starting server is noisy by design
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("localcluster: connector: %w", err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(2)
	return db, nil
}

// fatalError marks a probe error that no amount of waiting will fix.
type fatalError struct{ err error }

func (f fatalError) Error() string { return f.err.Error() }
func (f fatalError) Unwrap() error { return f.err }

// pollUntil calls probe every pollInterval until it reports done, returns a
// fatalError, ctx ends or readyTimeout passes; what names the wait in errors.
// Other probe errors are remembered and reported on timeout.
func pollUntil(ctx context.Context, what string, probe func(context.Context) (done bool, err error)) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var last error
	for {
		done, err := probe(ctx)
		if done {
			return nil
		}
		var fatal fatalError
		if errors.As(err, &fatal) {
			return fatal.err
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("localcluster: waiting for %s: %w (last error: %v)", what, ctx.Err(), last)
		case <-time.After(pollInterval):
		}
	}
}

// waitReady waits until inst accepts a root login on its socket. If the
// process dies meanwhile, the error carries the tail of its error log.
// exited may be nil for a process we did not start in this call.
func waitReady(ctx context.Context, spec Spec, inst Instance, exited <-chan error) error {
	db, err := adminDB(spec, inst.Name)
	if err != nil {
		return err
	}
	defer db.Close()
	return pollUntil(ctx, inst.Name+" to accept connections", func(ctx context.Context) (bool, error) {
		select {
		case werr := <-exited:
			return false, fatalError{fmt.Errorf("localcluster: %s exited during startup (%v)\n%s", inst.Name, werr, errLogTail(spec.Dir, inst.Name))}
		default:
		}
		if exited == nil && !ourProcess(inst.PID, inst.DataDir) {
			return false, fatalError{fmt.Errorf("localcluster: %s (pid %d) is not running\n%s", inst.Name, inst.PID, errLogTail(spec.Dir, inst.Name))}
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		err := db.PingContext(pctx)
		return err == nil, err
	})
}

// waitAppLogin waits until the application user can log in over TCP; on a
// replica this also proves replication applied the primary's CREATE USER.
func waitAppLogin(ctx context.Context, spec Spec, inst Instance) error {
	db, err := appDB(spec, inst)
	if err != nil {
		return err
	}
	defer db.Close()
	return pollUntil(ctx, inst.Name+" to accept "+spec.User+" on "+inst.Addr, func(ctx context.Context) (bool, error) {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		err := db.PingContext(pctx)
		return err == nil, err
	})
}

// setupPrimary creates the replication and application users. It runs with
// sql_log_bin on, so replicas (which replicate from the primary's first
// binlog) get the same users with the same GTIDs; it is idempotent.
func setupPrimary(ctx context.Context, db *sql.DB, spec Spec) error {
	stmts := []string{
		fmt.Sprintf("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", sqlString(replUser), sqlString(replPassword)),
		fmt.Sprintf("GRANT REPLICATION SLAVE ON *.* TO %s@'%%'", sqlString(replUser)),
	}
	for _, host := range []string{"%", "localhost"} {
		acct := sqlString(spec.User) + "@" + sqlString(host)
		stmts = append(stmts,
			fmt.Sprintf("CREATE USER IF NOT EXISTS %s IDENTIFIED BY %s", acct, sqlString(spec.Password)),
			fmt.Sprintf("ALTER USER %s IDENTIFIED BY %s", acct, sqlString(spec.Password)),
			fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO %s WITH GRANT OPTION", acct),
		)
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("localcluster: primary setup %q: %w", redact(q, spec.Password), err)
		}
	}
	return nil
}

// setupReplica points a replica at its primary with GTID auto-positioning
// (once; a restarted replica keeps its master info) and starts the slave
// threads if they are not running.
func setupReplica(ctx context.Context, db *sql.DB, primary Instance) error {
	st, err := slaveStatus(ctx, db)
	if err != nil {
		return err
	}
	configured := st != nil && st["Master_Host"].String == "127.0.0.1" &&
		st["Master_Port"].String == fmt.Sprint(primary.Port) && st["Master_User"].String == replUser
	var stmts []string
	switch {
	case !configured:
		stmts = []string{
			"STOP SLAVE",
			fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER=%s, MASTER_PASSWORD=%s, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
				primary.Port, sqlString(replUser), sqlString(replPassword)),
			"START SLAVE",
		}
	case st["Slave_SQL_Running"].String != "Yes" || (st["Slave_IO_Running"].String != "Yes" && st["Slave_IO_Running"].String != "Connecting"):
		stmts = []string{"START SLAVE"}
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("localcluster: replica setup %q: %w", q, err)
		}
	}
	return nil
}

// waitReplicating waits until both slave threads of a replica run. A stopped
// thread with an error fails at once; "Connecting" keeps waiting.
func waitReplicating(ctx context.Context, db *sql.DB, inst Instance) error {
	return pollUntil(ctx, inst.Name+" replication threads", func(ctx context.Context) (bool, error) {
		st, err := slaveStatus(ctx, db)
		if err != nil || st == nil {
			return false, err
		}
		io, sqlT := st["Slave_IO_Running"].String, st["Slave_SQL_Running"].String
		if io == "Yes" && sqlT == "Yes" {
			return true, nil
		}
		if sqlT == "No" && st["Last_SQL_Errno"].String != "0" {
			return false, fatalError{fmt.Errorf("localcluster: %s SQL thread stopped: %s", inst.Name, st["Last_SQL_Error"].String)}
		}
		if io == "No" && st["Last_IO_Errno"].String != "0" {
			return false, fatalError{fmt.Errorf("localcluster: %s IO thread stopped: %s", inst.Name, st["Last_IO_Error"].String)}
		}
		return false, fmt.Errorf("io=%s sql=%s last io error: %s", io, sqlT, st["Last_IO_Error"].String)
	})
}

// slaveStatus returns SHOW SLAVE STATUS as column → value, or nil if the
// server is not a replica.
func slaveStatus(ctx context.Context, db *sql.DB) (map[string]sql.NullString, error) {
	rows, err := db.QueryContext(ctx, "SHOW SLAVE STATUS")
	if err != nil {
		return nil, fmt.Errorf("localcluster: show slave status: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("localcluster: show slave status: %w", err)
	}
	if !rows.Next() {
		return nil, rows.Err()
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("localcluster: show slave status: %w", err)
	}
	out := make(map[string]sql.NullString, len(cols))
	for i, c := range cols {
		out[c] = vals[i]
	}
	return out, rows.Err()
}

// sqlString quotes s as a MariaDB string literal.
func sqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// redact hides a password inside a statement shown in an error.
func redact(q, password string) string {
	return strings.ReplaceAll(q, sqlString(password), "'***'")
}
