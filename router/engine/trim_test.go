package engine

import (
	"slices"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestTrim(t *testing.T) {
	const q = "SELECT name, created, id FROM users ORDER BY created, id"
	cols := []Column{col("name", mysql.MYSQL_TYPE_VAR_STRING), col("created", mysql.MYSQL_TYPE_DATETIME), col("id", mysql.MYSQL_TYPE_LONG)}
	for _, tt := range []struct {
		name     string
		hidden   int
		wantCols []string
		want     []string
	}{
		{"two hidden", 2, []string{"name"}, []string{"ann", "bob"}},
		{"none hidden", 0, []string{"name", "created", "id"}, []string{"ann|2024-01-01 00:00:00|1", "bob|NULL|2"}},
		{"all hidden", 3, nil, []string{"", ""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake().on(0, q, &reply{cols: cols, rows: rows("ann|2024-01-01 00:00:00|1", "bob|NULL|2")})
			w, err := execRows(t, &Trim{Input: scanOf(q, 0), Hidden: tt.hidden}, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			expectRows(t, f, w, []string{"stream-read 0: " + q}, tt.want)
			if !slices.Equal(w.cols, tt.wantCols) || w.ends != 1 {
				t.Errorf("columns %q, ends %d", w.cols, w.ends)
			}
		})
	}
	f := newFake().on(0, q, &reply{cols: cols[:1], rows: rows("ann")})
	if _, err := execRows(t, &Trim{Input: scanOf(q, 0), Hidden: 2}, f, nil); errnoOf(err) != 1105 {
		t.Errorf("more hidden than columns: %v", err)
	}
	tr := &Trim{Input: scanOf(q, 0), Hidden: 2}
	if Format(tr) != "Trim 2 hidden\n  Scan\n" || len(tr.Inputs()) != 1 {
		t.Errorf("Format = %q", Format(tr))
	}
}
