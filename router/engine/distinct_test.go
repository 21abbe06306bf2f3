package engine

import (
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestDistinct(t *testing.T) {
	const q = "SELECT DISTINCT name, amount, created FROM orders"
	bin := col("code", mysql.MYSQL_TYPE_VAR_STRING)
	bin.Charset = 46 // utf8mb4_bin
	for _, tt := range []struct {
		name   string
		cols   []Column
		hidden int
		shard0 []string
		shard1 []string
		want   []string
	}{
		{"general_ci", []Column{col("name", mysql.MYSQL_TYPE_VAR_STRING), col("amount", mysql.MYSQL_TYPE_NEWDECIMAL)}, 0,
			[]string{"abc|1.50", "café|2", "NULL|NULL"}, []string{"ABC |1.5", "CAFE|2.00", "NULL|NULL", "abd|1.5"},
			[]string{"abc|1.50", "café|2", "NULL|NULL", "abd|1.5"}},
		{"bin", []Column{bin}, 0, []string{"a", "A"}, []string{"a ", "b"}, []string{"a", "A", "b"}},
		{"hidden ignored", []Column{col("name", mysql.MYSQL_TYPE_VAR_STRING), col("created", mysql.MYSQL_TYPE_DATETIME)}, 1,
			[]string{"ann|2024-01-01 00:00:00"}, []string{"Ann|2023-01-01 00:00:00", "bob|2023-01-01 00:00:00"},
			[]string{"ann|2024-01-01 00:00:00", "bob|2023-01-01 00:00:00"}},
		{"time and double", []Column{col("t", mysql.MYSQL_TYPE_TIME), col("f", mysql.MYSQL_TYPE_DOUBLE)}, 0,
			[]string{"01:00:00|1e3", "-01:00:00|0"}, []string{"01:00:00.000000|1000", "-01:00:00|-0"},
			[]string{"01:00:00|1e3", "-01:00:00|0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake().on(0, q, &reply{cols: tt.cols, rows: rows(tt.shard0...)}).on(1, q, &reply{cols: tt.cols, rows: rows(tt.shard1...)})
			f.sess.Budget = &RowBudget{Limit: 1 << 20}
			w, err := execRows(t, &Distinct{Input: scanOf(q, 0, 1), Hidden: tt.hidden}, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			expectRows(t, f, w, []string{"stream-read 0: " + q, "stream-read 1: " + q}, tt.want)
			if w.ends != 1 || f.sess.Budget.Used() != 0 {
				t.Errorf("ends %d, budget still holds %d", w.ends, f.sess.Budget.Used())
			}
		})
	}
}

func TestDistinctLimits(t *testing.T) {
	const q = "SELECT DISTINCT id FROM t"
	cols := []Column{col("id", mysql.MYSQL_TYPE_LONG)}
	boom := errors.New("boom")
	for _, tt := range []struct {
		name    string
		maxRows int
		budget  int64
		reply   *reply
		cols    []Column
		num     int
	}{
		{"max rows", 2, 0, &reply{cols: cols, rows: rows("1", "2", "1", "3")}, nil, ErrOutOfResources},
		{"budget", 100, 100, &reply{cols: cols, rows: rows("1", "2", "3", "4")}, nil, ErrOutOfResources},
		{"shard error", 100, 0, &reply{cols: cols, rows: rows("1"), err: boom}, nil, -1},
		{"unknown collation", 100, 0, &reply{cols: []Column{{Name: "s", Type: mysql.MYSQL_TYPE_VAR_STRING, Charset: 224}}, rows: rows("1")}, nil, 1235},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake().on(0, q, tt.reply)
			f.sess.MaxRows = tt.maxRows
			f.sess.Budget = &RowBudget{Limit: tt.budget}
			_, err := execRows(t, &Distinct{Input: scanOf(q, 0)}, f, nil)
			if errnoOf(err) != tt.num {
				t.Fatalf("error %v, want number %d", err, tt.num)
			}
			if f.sess.Budget.Used() != 0 {
				t.Errorf("budget still holds %d", f.sess.Budget.Used())
			}
		})
	}
}
