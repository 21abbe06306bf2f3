package migrate

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/courier-proxy/courier/config"
)

// State is a migration's durable state, one row of
// courier_control.migrations on the default cluster.
type State struct {
	Name  string `json:"name"`
	DB    string `json:"db"`
	Mode  string `json:"mode"`
	Phase string `json:"phase"`
	// From and To are the two configuration files, as given.
	From string `json:"from"`
	To   string `json:"to"`
	// Admins are the admin addresses of the Courier instances switched;
	// Holds the write hold each placed, by address.
	Admins []string          `json:"admins"`
	Holds  map[string]uint64 `json:"holds,omitempty"`
	HeldAt time.Time         `json:"held_at,omitzero"`
	// Pause is how long writes were held (stop-the-world), Version the
	// layout version switched to.
	Pause time.Duration `json:"pause_ns,omitempty"`
	// Positions are, online, the binlog position of each source's
	// snapshot: its changes are applied from there.
	Positions map[string]binlogPos `json:"positions,omitempty"`
	// Back are, after an online switch, the binlog position of each
	// target at the switch: a reverse applies the new layout's changes
	// since then to the old copies, and copies nothing.
	Back    map[string]binlogPos `json:"back_positions,omitempty"`
	Version uint64               `json:"version,omitempty"`
	Message string               `json:"message,omitempty"`
	Updated time.Time            `json:"updated,omitzero"`
}

// The phases of a migration, in order.
const (
	PhaseCopying   = "copying"   // writes held, rows being copied
	PhaseCopied    = "copied"    // copied and verified to zero differences
	PhaseSwitching = "switching" // the new layout is recorded; instances being switched
	PhaseSwitched  = "switched"  // every instance serves the new layout
	PhaseCompleted = "completed" // the old copies are deleted
	PhaseAborted   = "aborted"   // stopped before the switch; the targets were emptied
	PhaseReversed  = "reversed"  // switched back to the old layout
)

// checkpoint is a copy's progress on one source cluster of one table.
type checkpoint struct {
	Table   string  `json:"table"`
	Source  string  `json:"source"`
	LastKey *string `json:"last_key"`
	Rows    int64   `json:"rows"`
	Done    bool    `json:"done"`
}

// store is the control schema on the default cluster's primary.
type store struct{ db *sql.DB }

var controlTables = []string{
	"CREATE DATABASE IF NOT EXISTS " + config.ControlSchema,
	"CREATE TABLE IF NOT EXISTS " + config.ControlSchema + ".migrations (name VARCHAR(64) PRIMARY KEY, state MEDIUMTEXT NOT NULL, updated TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)) ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS " + config.ControlSchema + ".migration_progress (name VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL, source VARCHAR(64) NOT NULL, state TEXT NOT NULL, PRIMARY KEY (name, tbl, source)) ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS " + config.LayoutsTable + " (version BIGINT UNSIGNED PRIMARY KEY, config MEDIUMTEXT NOT NULL, migration VARCHAR(64) NOT NULL, created TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB",
}

func (st *store) init(ctx context.Context) error {
	for _, q := range controlTables {
		if _, err := st.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("the control schema %s: %w", config.ControlSchema, err)
		}
	}
	return nil
}

// load returns the migration's state, nil when there is none.
func (st *store) load(ctx context.Context, name string) (*State, error) {
	var text string
	err := st.db.QueryRowContext(ctx, "SELECT state FROM "+config.ControlSchema+".migrations WHERE name = ?", name).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		return nil, fmt.Errorf("migration %s: its state is unreadable: %w", name, err)
	}
	return &s, nil
}

func (st *store) save(ctx context.Context, s *State) error {
	s.Updated = time.Now().UTC()
	text, _ := json.Marshal(s)
	_, err := st.db.ExecContext(ctx, "REPLACE INTO "+config.ControlSchema+".migrations (name, state) VALUES (?, ?)", s.Name, string(text))
	return err
}

func (st *store) checkpoints(ctx context.Context, name string) (map[[2]string]checkpoint, error) {
	rows, err := st.db.QueryContext(ctx, "SELECT state FROM "+config.ControlSchema+".migration_progress WHERE name = ? AND tbl <> ''", name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[[2]string]checkpoint{}
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return nil, err
		}
		var cp checkpoint
		if err := json.Unmarshal([]byte(text), &cp); err != nil {
			return nil, err
		}
		out[[2]string{cp.Table, cp.Source}] = cp
	}
	return out, rows.Err()
}

// saveCheckpoint records a copy's progress; the write is not cut short
// by ctx's cancellation, so what a stopped run left is what the next
// one reads.
func (st *store) saveCheckpoint(ctx context.Context, name string, cp checkpoint) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	text, _ := json.Marshal(cp)
	_, err := st.db.ExecContext(ctx, "REPLACE INTO "+config.ControlSchema+".migration_progress (name, tbl, source, state) VALUES (?, ?, ?, ?)",
		name, cp.Table, cp.Source, string(text))
	return err
}

func (st *store) resetCheckpoints(ctx context.Context, name string) error {
	_, err := st.db.ExecContext(ctx, "DELETE FROM "+config.ControlSchema+".migration_progress WHERE name = ?", name)
	return err
}

// latestLayout is the newest recorded layout's version (0: none).
func (st *store) latestLayout(ctx context.Context) (uint64, error) {
	var v sql.NullInt64
	err := st.db.QueryRowContext(ctx, "SELECT MAX(version) FROM "+config.LayoutsTable).Scan(&v)
	return uint64(v.Int64), err
}

// recordLayout records the layout a migration switches to, with its
// version: from then on it is the layout (the commit point).
func (st *store) recordLayout(ctx context.Context, version uint64, cfg, migration string) error {
	_, err := st.db.ExecContext(ctx, "INSERT INTO "+config.LayoutsTable+" (version, config, migration) VALUES (?, ?, ?)", version, cfg, migration)
	return err
}
