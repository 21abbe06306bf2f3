package difftest_test

import (
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// checkRows compares, after the run, what the shards' primaries hold with
// what the reference holds: the same orders and items, each on the shard
// that owns its key, and a global index entry for every order (see
// courierConfig). A write that went wrong without any read noticing
// shows here.
func (e *env) checkRows(t *testing.T, ref *sql.DB) {
	t.Helper()
	for _, table := range []struct{ name, cols string }{
		{"orders", "order_id, user_id, merchant_id, rider_id, city_id, status, total_cents, created_at"},
		{"order_items", "order_id, line_no, item, qty, price_cents"},
	} {
		q := "SELECT " + table.cols + " FROM " + table.name
		want := readRows(t, ref, q)
		got := map[string]string{}
		var misplaced []string
		for i := range shards {
			for id, row := range readRows(t, e.shardDB(t, i, "delivery"), q) {
				if _, twice := got[id]; twice || shardOf(keyOf(id)) != i {
					misplaced = append(misplaced, id)
				}
				got[id] = row
			}
		}
		var missing, extra, differ []string
		for id, row := range want {
			switch g, ok := got[id]; {
			case !ok:
				missing = append(missing, id)
			case g != row:
				differ = append(differ, fmt.Sprintf("%s: %s, want %s", id, g, row))
			}
		}
		for id := range got {
			if _, ok := want[id]; !ok {
				extra = append(extra, id)
			}
		}
		for _, c := range []struct {
			what string
			ids  []string
		}{{"missing from the shards", missing}, {"on the shards only", extra}, {"different on the shards", differ}, {"on a shard that does not own them (or on two)", misplaced}} {
			if len(c.ids) > 0 {
				slices.Sort(c.ids)
				t.Errorf("after the run, %d rows of %s are %s: %s", len(c.ids), table.name, c.what, strings.Join(c.ids[:min(5, len(c.ids))], "; "))
			}
		}
	}

	// Every order on the shards has its index entries.
	entries := map[string]bool{}
	for i := range shards {
		db := e.shardDB(t, i, "delivery")
		for _, ix := range []string{"user_id", "rider_id", "merchant_id"} {
			if ix == "merchant_id" && i != 0 {
				continue // unsharded: on the default cluster
			}
			for id := range readRows(t, db, "SELECT CONCAT('"+ix+"=', "+ix+", '/', order_id) FROM orders_by_"+ix) {
				entries[id] = true
			}
		}
	}
	var unindexed []string
	for i := range shards {
		for id, row := range readRows(t, e.shardDB(t, i, "delivery"), "SELECT order_id, user_id, rider_id, merchant_id FROM orders") {
			cols := strings.Split(row, "|")
			for j, ix := range []string{"user_id", "rider_id", "merchant_id"} {
				if v := cols[j+1]; v != "NULL" && !entries[ix+"="+v+"/"+id] {
					unindexed = append(unindexed, ix+"="+v+"/"+id)
				}
			}
		}
	}
	if len(unindexed) > 0 {
		slices.Sort(unindexed)
		t.Errorf("after the run, %d index entries of orders are missing: %s", len(unindexed), strings.Join(unindexed[:min(5, len(unindexed))], "; "))
	}
}

// readRows reads q's rows as text, keyed by the first column's value
// (with the second's, for order_items) and joined by "|".
func readRows(t *testing.T, db *sql.DB, q string) map[string]string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	vals := make([]sql.NullString, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		text := make([]string, len(vals))
		for i, v := range vals {
			text[i] = "NULL"
			if v.Valid {
				text[i] = v.String
			}
		}
		id := text[0]
		if len(cols) > 1 && cols[1] == "line_no" {
			id += "#" + text[1]
		}
		out[id] = strings.Join(text, "|")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// keyOf is the order key of a readRows id.
func keyOf(id string) int64 {
	k, err := strconv.ParseInt(strings.SplitN(id, "#", 2)[0], 10, 64)
	if err != nil {
		panic(err)
	}
	return k
}
