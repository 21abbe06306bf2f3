package engine

import (
	"errors"
	"slices"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

const enumQuery = "SELECT COLLATION_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'orders' AND COLUMN_NAME = 'status'"

func TestSort(t *testing.T) {
	const q = "SELECT status, total, id FROM orders"
	status := statusCol()
	cols := []Column{status, col("total", mysql.MYSQL_TYPE_NEWDECIMAL), col("id", mysql.MYSQL_TYPE_LONG)}
	data0 := []string{"accepted|10.00|1", "placed|NULL|2", "delivered|9.5|3"}
	data1 := []string{"placed|2.50|4", "accepted|10|5", "PLACED|-1|6"}
	for _, tt := range []struct {
		name string
		keys []SortKey
		want []string // ids
	}{
		{"decimal, NULL first", []SortKey{{Col: 1}}, []string{"2", "6", "4", "3", "1", "5"}},
		{"decimal desc, NULL last, stable", []SortKey{{Col: 1, Desc: true}}, []string{"1", "5", "3", "4", "6", "2"}},
		{"enum by position then id desc", []SortKey{{Col: 0}, {Col: 2, Desc: true}}, []string{"6", "4", "2", "5", "1", "3"}},
		{"hidden key", []SortKey{{Col: -1, Desc: true}}, []string{"6", "5", "4", "3", "2", "1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake().on(0, q, &reply{cols: cols, rows: rows(data0...)}).on(1, q, &reply{cols: cols, rows: rows(data1...)}).
				on(0, enumQuery, &reply{rows: rows("utf8mb4_general_ci|enum('placed','accepted','delivered')")})
			f.sess.Budget = &RowBudget{Limit: 1 << 20}
			w, err := execRows(t, &Sort{Input: scanOf(q, 0, 1), Keys: tt.keys, Hidden: 1, Cat: &Catalog{}}, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range w.rows {
				ids = append(ids, r[len(r)-1:])
			}
			wantCalls := []string{"stream-read 0: " + q, "stream-read 1: " + q}
			if tt.keys[0].Col == 0 {
				wantCalls = append(wantCalls, "internal 0: "+enumQuery)
			}
			if !slices.Equal(f.calls, wantCalls) || !slices.Equal(ids, tt.want) {
				t.Errorf("calls %q\nids %q, want %q", f.calls, ids, tt.want)
			}
			if w.ends != 1 || len(w.cols) != 3 || f.sess.Budget.Used() != 0 {
				t.Errorf("ends %d, cols %q, budget %d", w.ends, w.cols, f.sess.Budget.Used())
			}
		})
	}
}

func TestSortErrors(t *testing.T) {
	const q = "SELECT id FROM t"
	cols := []Column{col("id", mysql.MYSQL_TYPE_LONG)}
	boom := errors.New("boom")
	for _, tt := range []struct {
		name    string
		reply   *reply
		keys    []SortKey
		maxRows int
		num     int
	}{
		{"too many rows", &reply{cols: cols, rows: rows("1", "2", "3")}, []SortKey{{Col: 0}}, 2, ErrOutOfResources},
		{"shard error", &reply{cols: cols, rows: rows("1"), err: boom}, []SortKey{{Col: 0}}, 10, -1},
		{"bad key", &reply{cols: cols, rows: rows("1")}, []SortKey{{Col: 4}}, 10, 1105},
		{"enum without catalog", &reply{cols: []Column{statusCol()}, rows: rows("a")}, []SortKey{{Col: 0}}, 10, 1235},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake().on(0, q, tt.reply)
			f.sess.MaxRows = tt.maxRows
			f.sess.Budget = &RowBudget{}
			w, err := execRows(t, &Sort{Input: scanOf(q, 0), Keys: tt.keys}, f, nil)
			if errnoOf(err) != tt.num {
				t.Fatalf("error %v, want number %d", err, tt.num)
			}
			if len(w.cols) != 0 || len(w.rows) != 0 || f.sess.Budget.Used() != 0 {
				t.Errorf("wrote %q %q before the error; budget %d", w.cols, w.rows, f.sess.Budget.Used())
			}
		})
	}
	f := newFake().on(0, "DO 1", &reply{ok: Result{Affected: 2}})
	w, err := execRows(t, &Sort{Input: scanOf("DO 1", 0), Keys: []SortKey{{Col: 0}}}, f, nil)
	if err != nil || w.ok == nil || w.ok.Affected != 2 {
		t.Fatalf("OK %v, error %v", w.ok, err)
	}
	s := &Sort{Input: scanOf(q, 0), Keys: []SortKey{{Col: 0}, {Col: -2, Desc: true}}}
	if Format(s) != "Sort 0, h1 desc\n  Scan\n" || len(s.Inputs()) != 1 {
		t.Errorf("Format = %q", Format(s))
	}
}
