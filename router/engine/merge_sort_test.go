package engine

import (
	"errors"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestMergeSort(t *testing.T) {
	const q = "SELECT name, total, id FROM orders ORDER BY total DESC, name"
	cols := []Column{col("name", mysql.MYSQL_TYPE_VAR_STRING), col("total", mysql.MYSQL_TYPE_NEWDECIMAL), col("id", mysql.MYSQL_TYPE_LONG)}
	for _, tt := range []struct {
		name   string
		keys   []SortKey
		shards [][]string
		want   []string
	}{
		{"desc and ci name, ties by shard",
			[]SortKey{{Col: 1, Desc: true}, {Col: 0}},
			[][]string{{"b|10.00|1", "a|9.5|2", "x|NULL|3"}, {"B|10|4", "A|9.50|5"}, {"c|11|6"}},
			[]string{"c|11|6", "b|10.00|1", "B|10|4", "a|9.5|2", "A|9.50|5", "x|NULL|3"}},
		{"NULL first ascending, hidden key",
			[]SortKey{{Col: -1}},
			[][]string{{"a|NULL|1", "b|1|5"}, {"c|2|NULL", "d|3|4"}, {}},
			[]string{"c|2|NULL", "a|NULL|1", "d|3|4", "b|1|5"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			var clusters []int
			var wantCalls []string
			for i, s := range tt.shards {
				f.on(i, q, &reply{cols: cols, rows: rows(s...)})
				clusters = append(clusters, i)
				wantCalls = append(wantCalls, "open "+itoa(i)+": "+q)
			}
			in := scanOf(q, clusters...)
			in.warnings = []uint16{1, 0, 2}
			w, err := execRows(t, &MergeSort{Input: in, Keys: tt.keys, Hidden: 1}, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			expectRows(t, f, w, wantCalls, tt.want)
			if w.ends != 1 || w.warnings != 3 || len(w.cols) != 3 {
				t.Errorf("ends %d, warnings %d, cols %q", w.ends, w.warnings, w.cols)
			}
		})
	}
}

// notStreamer is an input without streams.
type notStreamer struct{ bufferedInput }

func TestMergeSortErrors(t *testing.T) {
	const q = "SELECT id FROM t ORDER BY id"
	cols := []Column{col("id", mysql.MYSQL_TYPE_LONG)}
	boom := errors.New("boom")
	for _, tt := range []struct {
		name  string
		in    Primitive
		reply *reply
		keys  []SortKey
		num   int
	}{
		{"no streamer", &notStreamer{}, nil, nil, 1105},
		{"no streams", scanOf(q), nil, nil, 1105},
		{"open fails", scanOf(q, 0), &reply{err: boom}, nil, -1},
		{"first row fails", scanOf(q, 0), &reply{cols: cols, err: boom}, []SortKey{{Col: 0}}, -1},
		{"later row fails", scanOf(q, 0), &reply{cols: cols, rows: rows("1"), err: boom}, []SortKey{{Col: 0}}, -1},
		{"bad key", scanOf(q, 0), &reply{cols: cols}, []SortKey{{Col: 1}}, 1105},
		{"bad hidden", scanOf(q, 0), &reply{cols: cols}, []SortKey{{Col: -3}}, 1105},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			if tt.reply != nil {
				f.on(0, q, tt.reply)
			}
			hidden := 0
			if tt.name == "bad hidden" {
				hidden = 1
			}
			_, err := execRows(t, &MergeSort{Input: tt.in, Keys: tt.keys, Hidden: hidden}, f, nil)
			if errnoOf(err) != tt.num {
				t.Fatalf("error %v, want number %d", err, tt.num)
			}
		})
	}
	m := &MergeSort{Input: scanOf(q, 0), Keys: []SortKey{{Col: 0, Desc: true}}}
	if Format(m) != "MergeSort 0 desc\n  Scan\n" || len(m.Inputs()) != 1 {
		t.Errorf("Format = %q", Format(m))
	}
}
