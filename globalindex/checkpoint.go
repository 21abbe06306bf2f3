package globalindex

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/courier-proxy/courier/config"
)

// checkpointTimeout bounds the write of one checkpoint.
const checkpointTimeout = 5 * time.Second

// Backfill checkpoints live in one small table on the default cluster, in
// the same schema as the data, one row per (index table, data cluster):
// the last sharding key whose chunk of entries is written, the rows read
// so far and whether the cluster is done. A checkpoint is saved after its
// chunk's entries, so a crash repeats at most one chunk, which INSERT
// IGNORE makes harmless.
const createProgress = "CREATE TABLE IF NOT EXISTS " + config.IndexProgressTable + ` (
  index_table  VARCHAR(64) NOT NULL,
  cluster      VARCHAR(64) NOT NULL,
  last_key     VARBINARY(3072) NULL,
  rows_scanned BIGINT UNSIGNED NOT NULL DEFAULT 0,
  done         BOOL NOT NULL DEFAULT FALSE,
  updated_at   TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (index_table, cluster))`

// Checkpoint is how far a backfill got on one data cluster.
type Checkpoint struct {
	Cluster string
	LastKey *string // nil: nothing written yet
	Rows    int64   // rows read up to LastKey, over all runs
	Done    bool
}

func (x *Index) progressDB() *sql.DB { return x.pools[x.defaultCluster] }

// Checkpoints returns the saved backfill checkpoints of the index, by data
// cluster; none when no backfill has run.
func (x *Index) Checkpoints(ctx context.Context) (map[string]Checkpoint, error) {
	out := map[string]Checkpoint{}
	rows, err := x.progressDB().QueryContext(ctx, "SELECT cluster, last_key, rows_scanned, done FROM "+
		config.IndexProgressTable+" WHERE index_table = ?", x.ix.Table)
	if err != nil {
		if errNumber(err) == errNoSuchTable {
			return out, nil
		}
		return nil, on(x.defaultCluster, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Checkpoint
		var last sql.NullString
		if err := rows.Scan(&c.Cluster, &last, &c.Rows, &c.Done); err != nil {
			return nil, on(x.defaultCluster, err)
		}
		if last.Valid {
			c.LastKey = &last.String
		}
		out[c.Cluster] = c
	}
	return out, on(x.defaultCluster, rows.Err())
}

// saveCheckpoint records a data cluster's progress.
//
// The write is not cut short by ctx's cancellation (only bounded in
// time): a statement cancelled on the client may still land on the
// server after Backfill returned, and the checkpoints read then would
// not be the ones a resumed run starts from.
func (x *Index) saveCheckpoint(ctx context.Context, c Checkpoint) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkpointTimeout)
	defer cancel()
	var last any
	if c.LastKey != nil {
		last = []byte(*c.LastKey)
	}
	_, err := x.progressDB().ExecContext(ctx, "INSERT INTO "+config.IndexProgressTable+
		" (index_table, cluster, last_key, rows_scanned, done) VALUES (?, ?, ?, ?, ?)"+
		" ON DUPLICATE KEY UPDATE last_key = VALUES(last_key), rows_scanned = VALUES(rows_scanned), done = VALUES(done)",
		x.ix.Table, c.Cluster, last, c.Rows, c.Done)
	return on(x.defaultCluster, err)
}

// resetCheckpoints creates the checkpoint table if needed and, when
// restart is set, forgets the index's checkpoints.
func (x *Index) resetCheckpoints(ctx context.Context, restart bool) error {
	db := x.progressDB()
	if _, err := db.ExecContext(ctx, createProgress); err != nil {
		return on(x.defaultCluster, fmt.Errorf("creating the checkpoint table: %w", err))
	}
	if restart {
		_, err := db.ExecContext(ctx, "DELETE FROM "+config.IndexProgressTable+" WHERE index_table = ?", x.ix.Table)
		return on(x.defaultCluster, err)
	}
	return nil
}
