package globalindex

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Create creates the index table, if missing, on every index cluster: the
// data clusters for a sharded index, the default cluster otherwise. The
// two columns take their types (and character set and collation) from the
// source table as information_schema shows it on the first data cluster;
// see router.GlobalIndex for the layout. It returns the clusters where the
// table was created.
func (x *Index) Create(ctx context.Context) ([]string, error) {
	ddl, err := x.CreateStatement(ctx)
	if err != nil {
		return nil, err
	}
	var created []string
	for _, c := range x.indexClusters {
		var n int
		err := x.pools[c].QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES "+
			"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", x.ix.Table).Scan(&n)
		if err != nil {
			return created, on(c, err)
		}
		if n > 0 {
			continue
		}
		if _, err := x.pools[c].ExecContext(ctx, ddl); err != nil {
			return created, on(c, err)
		}
		created = append(created, c)
	}
	return created, nil
}

// CreateStatement returns the CREATE TABLE statement of the index table,
// with column types read from the source table on the first data cluster.
func (x *Index) CreateStatement(ctx context.Context) (string, error) {
	c := x.dataClusters[0]
	rows, err := x.pools[c].QueryContext(ctx, "SELECT COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME "+
		"FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME IN (?, ?)",
		x.src.Name, x.ix.Column, x.src.Key)
	if err != nil {
		return "", on(c, err)
	}
	defer rows.Close()
	types := map[string]string{}
	for rows.Next() {
		var name, typ string
		var charset, collation sql.NullString
		if err := rows.Scan(&name, &typ, &charset, &collation); err != nil {
			return "", on(c, err)
		}
		if charset.Valid && collation.Valid {
			typ += " CHARACTER SET " + charset.String + " COLLATE " + collation.String
		}
		types[strings.ToLower(name)] = typ
	}
	if err := rows.Err(); err != nil {
		return "", on(c, err)
	}
	for _, col := range []string{x.ix.Column, x.src.Key} {
		if types[col] == "" {
			return "", fmt.Errorf("cluster %s: table %s.%s has no column %s; create the source table first",
				c, x.db, x.src.Name, col)
		}
	}
	pk := x.col() + ", " + x.key()
	if x.ix.Unique {
		pk = x.col()
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n  %s %s NOT NULL,\n  %s %s NOT NULL,\n  PRIMARY KEY (%s))",
		x.idxTable(), x.col(), types[x.ix.Column], x.key(), types[x.src.Key], pk), nil
}
