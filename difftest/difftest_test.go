package difftest_test

import (
	"context"
	"database/sql"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/courier-proxy/courier/difftest"
)

// Seeds of the differential run's data and statements; set
// COURIER_DIFFTEST_SEED to explore others.
const (
	dataSeed  = 20250101
	querySeed = 7
	// statements is how many generated statements each way compares.
	statements = 2000
	// batch is how many rows each loading INSERT carries.
	batch = 500
	// shown is how many mismatches of one kind, shape and way are
	// reported in full.
	shown = 3
)

// digits matches the numbers in a mismatch's reason.
var digits = regexp.MustCompile(`[0-9]+`)

// mergeAbsent lets the shapes that need rows merged across shards answer
// 1235 without failing the run, for a Courier without the merge engine
// (COURIER_DIFFTEST_NO_MERGE=1). Unset, every shape that is not meant to
// be refused must be answered exactly.
var mergeAbsent = os.Getenv("COURIER_DIFFTEST_NO_MERGE") != ""

// TestDifferential loads one generated data set into Courier over four
// shards (each with a replica) and into a single MariaDB, runs thousands
// of generated statements of every shape on both, in every way
// (COURIER_DIFFTEST_WAYS: text, prepared, txn, txn_reject), and requires
// the same answers.
func TestDifferential(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	qseed := uint64(querySeed)
	if s := os.Getenv("COURIER_DIFFTEST_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("COURIER_DIFFTEST_SEED: %v", err)
		}
		qseed = n
	}
	ways, err := difftest.ParseWays(os.Getenv("COURIER_DIFFTEST_WAYS"))
	if err != nil {
		t.Fatalf("COURIER_DIFFTEST_WAYS: %v", err)
	}

	start := time.Now()
	e.createSchema(t, "delivery")
	ref, cour := e.referenceDB(t, "delivery", driverParams), e.courierDB(t, "delivery")
	d := difftest.Generate(dataSeed, difftest.DefaultSizes)
	loadDelivery(t, d, ref, cour)
	e.checkPlacement(t, d)
	e.syncReplicas(t)
	cour.Close() // each way starts a Courier of its own
	t.Logf("loaded %d orders and %d items on both sides in %v", len(d.Orders), len(d.Items), time.Since(start).Round(time.Millisecond))

	r := newRun(ctx, t, e, ref, qseed)
	for _, w := range ways {
		r.way(d, w)
	}
	r.report(ways)
}

// indexTables are the global index tables of orders (see the
// configuration in main_test.go); Courier fills them as rows are loaded.
var indexTables = []string{
	"CREATE TABLE orders_by_user_id (user_id BIGINT NOT NULL, order_id BIGINT NOT NULL, PRIMARY KEY (user_id, order_id))",
	"CREATE TABLE orders_by_rider_id (rider_id BIGINT NOT NULL, order_id BIGINT NOT NULL, PRIMARY KEY (rider_id, order_id))",
	"CREATE TABLE orders_by_merchant_id (merchant_id BIGINT NOT NULL, order_id BIGINT NOT NULL, PRIMARY KEY (merchant_id, order_id))",
}

// loadDelivery creates the delivery tables and loads d into both servers
// at once: the same multi-row INSERTs, which Courier splits by shard.
func loadDelivery(t *testing.T, d *difftest.Dataset, ref, cour *sql.DB) {
	t.Helper()
	schema, err := os.ReadFile("../testdata/delivery/schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, db := range []*sql.DB{ref, cour} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stmts := difftest.TableStatements(string(schema))
			if db == cour {
				stmts = append(stmts, indexTables...)
			}
			for _, st := range stmts {
				if _, err := db.Exec(st); err != nil {
					t.Errorf("%.60s: %v", st, err)
					return
				}
			}
			for _, tb := range d.Tables() {
				for _, ins := range tb.Inserts(batch) {
					if _, err := db.Exec(ins); err != nil {
						t.Errorf("loading %s: %v", tb.Name, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// checkPlacement checks that every order landed on the shard that owns
// its key, and the reference and unsharded tables where they belong.
func (e *env) checkPlacement(t *testing.T, d *difftest.Dataset) {
	t.Helper()
	var want [shards]int
	for _, o := range d.Orders {
		want[shardOf(o.ID)]++
	}
	for i := range shards {
		db := e.shardDB(t, i, "delivery")
		var orders, cities, users int
		if err := db.QueryRow("SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM cities), "+
			"(SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'delivery' AND table_name = 'users')").Scan(&orders, &cities, &users); err != nil {
			t.Fatal(err)
		}
		wantUsers := 0
		if i == 0 {
			wantUsers = 1
		}
		if orders != want[i] || cities != len(d.Tables()[0].Rows) || users != wantUsers {
			t.Fatalf("shard %d holds %d orders (want %d), %d cities, users table %d times (want %d)", i, orders, want[i], cities, users, wantUsers)
		}
	}
}
