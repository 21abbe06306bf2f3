package engine

import (
	"slices"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// The tests below split one table of MariaDB 10.11 over two shards (rows
// 1, 2, 4, 7 and 3, 5, 6) and take each shard's reply to the statement the
// planner sends as the fake's reply; the wanted rows are what MariaDB
// answered the client's statement over the whole table:
//
//	CREATE TABLE ag (id int PRIMARY KEY, status enum('placed','accepted','delivered'), user_id int,
//	  name varchar(20) COLLATE utf8mb4_general_ci, amount decimal(10,2), f double, w float);
//	INSERT INTO ag VALUES (1,'placed',1,'abc',10.50,34646.507,0.1), (2,'placed',2,'ABC ',3.25,42308.939,0.2),
//	  (3,'placed',NULL,'café',10.50,138.263,0.1), (4,'accepted',1,'Cafe',NULL,87.244,NULL),
//	  (5,'placed',1,'abd',NULL,658.638,0.3), (6,'placed',3,NULL,1.00,658.638,16777217),
//	  (7,'delivered',NULL,NULL,NULL,NULL,NULL);

// typed makes a column definition with decimals and a charset.
func colDef(name string, typ byte, decimals byte, charset uint16) Column {
	c := col(name, typ)
	c.Decimals, c.Charset = decimals, charset
	return c
}

func enumColumn(name string) Column {
	c := colDef(name, mysql.MYSQL_TYPE_STRING, 0, 33)
	c.Flags |= mysql.ENUM_FLAG
	c.Schema, c.OrgTable = "t", "ag"
	return c
}

// aggCase is one Aggregate over two shards' replies.
type aggCase struct {
	name   string
	shard  string // the statement each shard runs
	cols   []Column
	folds  []Fold
	group  []Col
	hidden int
	rows0  []string
	rows1  []string
	want   []string // visible columns
	warns  uint16
	maxLen int // group_concat_max_len, 0 for the fake's 1024
}

func (tt aggCase) run(t *testing.T) {
	t.Helper()
	f := newFake().on(0, tt.shard, &reply{cols: tt.cols, rows: rows(tt.rows0...)}).
		on(1, tt.shard, &reply{cols: tt.cols, rows: rows(tt.rows1...)})
	f.sess.Budget = &RowBudget{Limit: 1 << 20}
	if tt.maxLen != 0 {
		f.sess.GroupConcatMaxLen = tt.maxLen
	}
	a := &Aggregate{Input: scanOf(tt.shard, 0, 1), GroupBy: tt.group, Folds: tt.folds, Hidden: tt.hidden}
	w, err := execRows(t, &Trim{Input: a, Hidden: tt.hidden}, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	expectRows(t, f, w, []string{"stream-read 0: " + tt.shard, "stream-read 1: " + tt.shard}, tt.want)
	if w.ends != 1 || w.warnings != tt.warns || len(w.cols) != len(tt.cols)-tt.hidden {
		t.Errorf("ends %d, warnings %d (want %d), columns %q", w.ends, w.warnings, tt.warns, w.cols)
	}
	if f.sess.Budget.Used() != 0 {
		t.Errorf("budget still holds %d bytes", f.sess.Budget.Used())
	}
}

func TestAggregate(t *testing.T) {
	for _, tt := range []aggCase{{
		// SELECT status, COUNT(*), SUM(amount), AVG(amount), MIN(name), MAX(user_id) FROM ag GROUP BY status
		name:  "count sum avg min max",
		shard: "SELECT status, COUNT(*), SUM(amount), AVG(amount), MIN(name), MAX(user_id), SUM(amount), COUNT(amount) FROM ag GROUP BY status",
		cols: []Column{enumColumn("status"), colDef("COUNT(*)", mysql.MYSQL_TYPE_LONGLONG, 0, 63),
			colDef("SUM(amount)", mysql.MYSQL_TYPE_NEWDECIMAL, 2, 63), colDef("AVG(amount)", mysql.MYSQL_TYPE_NEWDECIMAL, 6, 63),
			colDef("MIN(name)", mysql.MYSQL_TYPE_VAR_STRING, 39, 33), colDef("MAX(user_id)", mysql.MYSQL_TYPE_LONG, 0, 63),
			colDef("SUM(amount)", mysql.MYSQL_TYPE_NEWDECIMAL, 2, 63), colDef("COUNT(amount)", mysql.MYSQL_TYPE_LONGLONG, 0, 63)},
		folds: []Fold{{Kind: FoldAny}, {Kind: FoldCount}, {Kind: FoldSum}, {Kind: FoldAvg, Sum: -1, Count: -2},
			{Kind: FoldMin}, {Kind: FoldMax}, {Kind: FoldSum}, {Kind: FoldCount}},
		group: []Col{0}, hidden: 2,
		rows0: []string{"placed|2|13.75|6.875000|abc|2|13.75|2", "accepted|1|NULL|NULL|Cafe|1|NULL|0", "delivered|1|NULL|NULL|NULL|NULL|NULL|0"},
		rows1: []string{"placed|3|11.50|5.750000|abd|3|11.50|2"},
		want:  []string{"placed|5|25.25|6.312500|abc|3", "accepted|1|NULL|NULL|Cafe|1", "delivered|1|NULL|NULL|NULL|NULL"},
	}, {
		// SELECT status, COUNT(*), COUNT(DISTINCT user_id), SUM(DISTINCT amount), AVG(DISTINCT amount),
		//   SUM(DISTINCT user_id), AVG(DISTINCT user_id), MIN(status), MAX(name) FROM ag GROUP BY status
		name: "distinct numbers",
		shard: "SELECT status, COUNT(*), COUNT(DISTINCT user_id), SUM(DISTINCT amount), AVG(DISTINCT amount), " +
			"SUM(DISTINCT user_id), AVG(DISTINCT user_id), MIN(status), MAX(name), user_id, amount FROM ag GROUP BY status, user_id, amount",
		cols: []Column{enumColumn("status"), colDef("COUNT(*)", mysql.MYSQL_TYPE_LONGLONG, 0, 63),
			colDef("COUNT(DISTINCT user_id)", mysql.MYSQL_TYPE_LONGLONG, 0, 63),
			colDef("SUM(DISTINCT amount)", mysql.MYSQL_TYPE_NEWDECIMAL, 2, 63), colDef("AVG(DISTINCT amount)", mysql.MYSQL_TYPE_NEWDECIMAL, 6, 63),
			colDef("SUM(DISTINCT user_id)", mysql.MYSQL_TYPE_NEWDECIMAL, 0, 63), colDef("AVG(DISTINCT user_id)", mysql.MYSQL_TYPE_NEWDECIMAL, 4, 63),
			colDef("MIN(status)", mysql.MYSQL_TYPE_VAR_STRING, 0, 33), colDef("MAX(name)", mysql.MYSQL_TYPE_VAR_STRING, 39, 33),
			colDef("user_id", mysql.MYSQL_TYPE_LONG, 0, 63), colDef("amount", mysql.MYSQL_TYPE_NEWDECIMAL, 2, 63)},
		folds: []Fold{{Kind: FoldAny}, {Kind: FoldCount}, {Kind: FoldCountDistinct, Args: []Col{-1}},
			{Kind: FoldSumDistinct, Args: []Col{-2}}, {Kind: FoldAvgDistinct, Args: []Col{-2}},
			{Kind: FoldSumDistinct, Args: []Col{-1}}, {Kind: FoldAvgDistinct, Args: []Col{-1}},
			{Kind: FoldMin}, {Kind: FoldMax}, {Kind: FoldAny}, {Kind: FoldAny}},
		group: []Col{0}, hidden: 2,
		rows0: []string{"placed|1|1|10.50|10.500000|1|1.0000|placed|abc|1|10.50", "placed|1|1|3.25|3.250000|2|2.0000|placed|ABC |2|3.25",
			"accepted|1|1|NULL|NULL|1|1.0000|accepted|Cafe|1|NULL", "delivered|1|0|NULL|NULL|NULL|NULL|delivered|NULL|NULL|NULL"},
		rows1: []string{"placed|1|0|10.50|10.500000|NULL|NULL|placed|café|NULL|10.50", "placed|1|1|NULL|NULL|1|1.0000|placed|abd|1|NULL",
			"placed|1|1|1.00|1.000000|3|3.0000|placed|NULL|3|1.00"},
		want: []string{"placed|5|3|14.75|4.916667|6|2.0000|placed|café", "accepted|1|1|NULL|NULL|1|1.0000|accepted|Cafe",
			"delivered|1|0|NULL|NULL|NULL|NULL|delivered|NULL"},
	}, {
		// SELECT status, SUM(DISTINCT f), AVG(DISTINCT f), SUM(DISTINCT w), AVG(DISTINCT w), COUNT(DISTINCT w)
		//   FROM ag GROUP BY status
		name:  "distinct floats",
		shard: "SELECT status, SUM(DISTINCT f), AVG(DISTINCT f), SUM(DISTINCT w), AVG(DISTINCT w), COUNT(DISTINCT w), f, w FROM ag GROUP BY status, f, w",
		cols: []Column{enumColumn("status"), colDef("SUM(DISTINCT f)", mysql.MYSQL_TYPE_DOUBLE, 31, 63),
			colDef("AVG(DISTINCT f)", mysql.MYSQL_TYPE_DOUBLE, 31, 63), colDef("SUM(DISTINCT w)", mysql.MYSQL_TYPE_DOUBLE, 31, 63),
			colDef("AVG(DISTINCT w)", mysql.MYSQL_TYPE_DOUBLE, 31, 63), colDef("COUNT(DISTINCT w)", mysql.MYSQL_TYPE_LONGLONG, 0, 63),
			colDef("f", mysql.MYSQL_TYPE_DOUBLE, 31, 63), colDef("w", mysql.MYSQL_TYPE_FLOAT, 31, 63)},
		folds: []Fold{{Kind: FoldAny}, {Kind: FoldSumDistinct, Args: []Col{-1}}, {Kind: FoldAvgDistinct, Args: []Col{-1}},
			{Kind: FoldSumDistinct, Args: []Col{-2}}, {Kind: FoldAvgDistinct, Args: []Col{-2}},
			{Kind: FoldCountDistinct, Args: []Col{-2}}, {Kind: FoldAny}, {Kind: FoldAny}},
		group: []Col{0}, hidden: 2,
		rows0: []string{"placed|34646.507|34646.507|0.10000000149011612|0.10000000149011612|1|34646.507|0.1",
			"placed|42308.939|42308.939|0.20000000298023224|0.20000000298023224|1|42308.939|0.2",
			"accepted|87.244|87.244|NULL|NULL|0|87.244|NULL", "delivered|NULL|NULL|NULL|NULL|0|NULL|NULL"},
		rows1: []string{"placed|138.263|138.263|0.10000000149011612|0.10000000149011612|1|138.263|0.1",
			"placed|658.638|658.638|0.30000001192092896|0.30000001192092896|1|658.638|0.3",
			"placed|658.638|658.638|16777216|16777216|1|658.638|16777200"},
		want: []string{"placed|77752.34700000001|19438.086750000002|16777216.600000016|4194304.150000004|4",
			"accepted|87.244|87.244|NULL|NULL|0", "delivered|NULL|NULL|NULL|NULL|0"},
	}} {
		t.Run(tt.name, tt.run)
	}
}

// groupConcat is the GROUP_CONCAT case: SELECT status, GROUP_CONCAT(name
// ORDER BY name DESC SEPARATOR '; '), GROUP_CONCAT(DISTINCT name ORDER BY
// user_id, name), GROUP_CONCAT(user_id) FROM ag GROUP BY status.
func groupConcat() aggCase {
	blob := func(name string) Column { return colDef(name, mysql.MYSQL_TYPE_BLOB, 0, 33) }
	return aggCase{
		shard: "SELECT status, GROUP_CONCAT(name ORDER BY name DESC SEPARATOR '; '), GROUP_CONCAT(DISTINCT name ORDER BY user_id, name), " +
			"GROUP_CONCAT(user_id), name, user_id FROM ag GROUP BY status, name, user_id",
		cols: []Column{enumColumn("status"), blob("GROUP_CONCAT(name ORDER BY name DESC SEPARATOR '; ')"),
			blob("GROUP_CONCAT(DISTINCT name ORDER BY user_id, name)"), blob("GROUP_CONCAT(user_id)"),
			colDef("name", mysql.MYSQL_TYPE_VAR_STRING, 0, 33), colDef("user_id", mysql.MYSQL_TYPE_LONG, 0, 63)},
		folds: []Fold{{Kind: FoldAny},
			{Kind: FoldGroupConcat, Order: []SortKey{{Col: -1, Desc: true}}, Separator: "; "},
			{Kind: FoldGroupConcat, Distinct: true, Args: []Col{-1}, Order: []SortKey{{Col: -2}, {Col: -1}}, Separator: ","},
			{Kind: FoldGroupConcat, Separator: ","}, {Kind: FoldAny}, {Kind: FoldAny}},
		group: []Col{0}, hidden: 2,
		rows0: []string{"placed|abc|abc|1|abc|1", "placed|ABC |ABC |2|ABC |2", "accepted|Cafe|Cafe|1|Cafe|1", "delivered|NULL|NULL|NULL|NULL|NULL"},
		rows1: []string{"placed|NULL|NULL|3|NULL|3", "placed|abd|abd|1|abd|1", "placed|café|café|NULL|café|NULL"},
	}
}

func TestAggregateGroupConcat(t *testing.T) {
	// MariaDB: placed|café; abd; ABC ; abc|café,abc,abd|1,2,1,3. 'abc'
	// and 'ABC ' tie under the ORDER BY, and GROUP_CONCAT(user_id) has
	// none: there any order is MariaDB's answer, and shard order is ours.
	full := groupConcat()
	full.name = "whole"
	full.want = []string{"placed|café; abd; abc; ABC |café,abc,abd|1,2,3,1", "accepted|Cafe|Cafe|1", "delivered|NULL|NULL|NULL"}
	// With group_concat_max_len = 4 MariaDB answers caf (not the first byte
	// of é), caf and 1,2, with three warnings 1260; with 21 nothing is cut.
	cut := groupConcat()
	cut.name, cut.maxLen, cut.warns = "cut at 4 bytes", 4, 3
	cut.want = []string{"placed|caf|caf|1,2,", "accepted|Cafe|Cafe|1", "delivered|NULL|NULL|NULL"}
	exact := groupConcat()
	exact.name, exact.maxLen = "21 bytes fit", 21
	exact.want = full.want
	for _, tt := range []aggCase{full, cut, exact} {
		t.Run(tt.name, tt.run)
	}
}

func TestAggregateEmpty(t *testing.T) {
	// SELECT COUNT(*), SUM(amount), COUNT(DISTINCT user_id), SUM(DISTINCT amount), MAX(status),
	//   GROUP_CONCAT(name) FROM ag WHERE id > 100: MariaDB answers 0|NULL|0|NULL|NULL|NULL.
	const q = "SELECT COUNT(*), SUM(amount), COUNT(DISTINCT user_id), SUM(DISTINCT amount), MAX(status), GROUP_CONCAT(name), " +
		"user_id, amount FROM ag WHERE id > 100 GROUP BY user_id, amount"
	cols := []Column{colDef("COUNT(*)", mysql.MYSQL_TYPE_LONGLONG, 0, 63), colDef("SUM(amount)", mysql.MYSQL_TYPE_NEWDECIMAL, 2, 63),
		colDef("COUNT(DISTINCT user_id)", mysql.MYSQL_TYPE_LONGLONG, 0, 63), colDef("SUM(DISTINCT amount)", mysql.MYSQL_TYPE_NEWDECIMAL, 2, 63),
		colDef("MAX(status)", mysql.MYSQL_TYPE_VAR_STRING, 0, 33), colDef("GROUP_CONCAT(name)", mysql.MYSQL_TYPE_BLOB, 0, 33),
		colDef("user_id", mysql.MYSQL_TYPE_LONG, 0, 63), colDef("amount", mysql.MYSQL_TYPE_NEWDECIMAL, 2, 63)}
	folds := []Fold{{Kind: FoldCount}, {Kind: FoldSum}, {Kind: FoldCountDistinct, Args: []Col{-1}},
		{Kind: FoldSumDistinct, Args: []Col{-2}}, {Kind: FoldMax}, {Kind: FoldGroupConcat, Separator: ","}, {Kind: FoldAny}, {Kind: FoldAny}}
	ungrouped := aggCase{name: "ungrouped: one row", shard: q, cols: cols, folds: folds, hidden: 2,
		want: []string{"0|NULL|0|NULL|NULL|NULL"}}
	grouped := aggCase{name: "grouped: no rows", shard: q, cols: cols, folds: folds, hidden: 2, group: []Col{-1}}
	for _, tt := range []aggCase{ungrouped, grouped} {
		t.Run(tt.name, tt.run)
	}
}

// TestAggregateCountDistinctTuples checks COUNT(DISTINCT name, user_id):
// tuples with a NULL do not count, 'abc' and 'ABC ' are one name under
// utf8mb4_general_ci, and a tuple seen on both shards counts once.
func TestAggregateCountDistinctTuples(t *testing.T) {
	tt := aggCase{
		// SELECT COUNT(DISTINCT name, user_id), COUNT(*) FROM ag: MariaDB answers 4|7.
		name:  "tuples",
		shard: "SELECT COUNT(DISTINCT name, user_id), COUNT(*), name, user_id FROM ag GROUP BY name, user_id",
		cols: []Column{colDef("COUNT(DISTINCT name, user_id)", mysql.MYSQL_TYPE_LONGLONG, 0, 63), colDef("COUNT(*)", mysql.MYSQL_TYPE_LONGLONG, 0, 63),
			colDef("name", mysql.MYSQL_TYPE_VAR_STRING, 0, 45), colDef("user_id", mysql.MYSQL_TYPE_LONG, 0, 63)},
		folds:  []Fold{{Kind: FoldCountDistinct, Args: []Col{-1, -2}}, {Kind: FoldCount}, {Kind: FoldAny}, {Kind: FoldAny}},
		hidden: 2,
		rows0:  []string{"0|1|NULL|NULL", "1|1|abc|1", "1|1|ABC |2", "1|1|Cafe|1"},
		rows1:  []string{"0|1|NULL|3", "1|1|abd|1", "0|1|café|NULL"},
		want:   []string{"4|7"},
	}
	tt.run(t)
}

func TestAggregateErrors(t *testing.T) {
	const q = "SELECT status, COUNT(*) FROM ag GROUP BY status"
	cols := []Column{enumColumn("status"), colDef("COUNT(*)", mysql.MYSQL_TYPE_LONGLONG, 0, 63)}
	data := rows("placed|1", "accepted|2", "delivered|x")
	for _, tt := range []struct {
		name    string
		folds   []Fold
		group   []Col
		hidden  int
		maxRows int
		budget  int64
		num     int
	}{
		{"too many groups", []Fold{{Kind: FoldAny}, {Kind: FoldCount}}, []Col{0}, 0, 2, 0, ErrOutOfResources},
		{"budget", []Fold{{Kind: FoldAny}, {Kind: FoldCount}}, []Col{0}, 0, 100, 60, ErrOutOfResources},
		{"not a number", []Fold{{Kind: FoldAny}, {Kind: FoldCount}}, []Col{0}, 0, 100, 0, 1105},
		{"folds mismatch", []Fold{{Kind: FoldAny}}, []Col{0}, 0, 100, 0, 1105},
		{"bad group column", []Fold{{Kind: FoldAny}, {Kind: FoldCount}}, []Col{5}, 0, 100, 0, 1105},
		{"avg of no sum", []Fold{{Kind: FoldAvg, Sum: 0, Count: 1}, {Kind: FoldCount}}, nil, 0, 100, 0, 1105},
		{"avg out of range", []Fold{{Kind: FoldAvg, Sum: -1, Count: 1}, {Kind: FoldCount}}, nil, 0, 100, 0, 1105},
		{"count distinct of nothing", []Fold{{Kind: FoldAny}, {Kind: FoldCountDistinct}}, nil, 0, 100, 0, 1105},
		{"sum distinct of two", []Fold{{Kind: FoldAny}, {Kind: FoldSumDistinct, Args: []Col{0, 1}}}, nil, 0, 100, 0, 1105},
		{"group_concat distinct of nothing", []Fold{{Kind: FoldAny}, {Kind: FoldGroupConcat, Distinct: true}}, nil, 0, 100, 0, 1105},
		{"group_concat order by enum without catalog", []Fold{{Kind: FoldAny}, {Kind: FoldGroupConcat, Order: []SortKey{{Col: 0}}}}, nil, 0, 100, 0, 1235},
		{"unknown fold", []Fold{{Kind: FoldAny}, {Kind: 99}}, nil, 0, 100, 0, 1105},
		{"bad hidden", []Fold{{Kind: FoldAny}, {Kind: FoldCount}}, nil, 3, 100, 0, 1105},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake().on(0, q, &reply{cols: cols, rows: data})
			f.sess.MaxRows = tt.maxRows
			f.sess.Budget = &RowBudget{Limit: tt.budget}
			w, err := execRows(t, &Aggregate{Input: scanOf(q, 0), GroupBy: tt.group, Folds: tt.folds, Hidden: tt.hidden}, f, nil)
			if errnoOf(err) != tt.num {
				t.Fatalf("error %v, want number %d", err, tt.num)
			}
			if len(w.cols) != 0 || f.sess.Budget.Used() != 0 {
				t.Errorf("columns %q written; budget holds %d", w.cols, f.sess.Budget.Used())
			}
		})
	}
}

// TestAggregateDistinctBudget checks that a group's distinct values count
// against MaxRows.
func TestAggregateDistinctBudget(t *testing.T) {
	const q = "SELECT COUNT(DISTINCT user_id), user_id FROM ag GROUP BY user_id"
	cols := []Column{colDef("COUNT(DISTINCT user_id)", mysql.MYSQL_TYPE_LONGLONG, 0, 63), colDef("user_id", mysql.MYSQL_TYPE_LONG, 0, 63)}
	f := newFake().on(0, q, &reply{cols: cols, rows: rows("1|1", "1|2", "1|3")})
	f.sess.MaxRows = 3 // the one group and two of the three values
	_, err := execRows(t, &Aggregate{Input: scanOf(q, 0), Folds: []Fold{{Kind: FoldCountDistinct, Args: []Col{-1}}, {Kind: FoldAny}}, Hidden: 1}, f, nil)
	if errnoOf(err) != ErrOutOfResources {
		t.Fatalf("error %v, want 1041", err)
	}
}

func TestAggregateString(t *testing.T) {
	a := &Aggregate{Input: scanOf("q", 0), GroupBy: []Col{0, -1}, Folds: []Fold{{Kind: FoldAny}, {Kind: FoldAvg, Sum: -1, Count: -2},
		{Kind: FoldCountDistinct, Args: []Col{-3, -4}},
		{Kind: FoldGroupConcat, Distinct: true, Args: []Col{-3}, Order: []SortKey{{Col: -4, Desc: true}}, Separator: "; "}}}
	want := `Aggregate group by [0,h0] folds [any, avg(h0/h1), count_distinct(h2,h3), group_concat(distinct h2 order by h3 desc separator "; ")]` + "\n  Scan\n"
	if got := Format(a); got != want || !slices.Equal(a.Inputs(), []Primitive{a.Input}) {
		t.Errorf("Format:\n got %s\nwant %s", got, want)
	}
	f := newFake().on(0, "DO 1", &reply{ok: Result{Affected: 1}})
	w, err := execRows(t, &Aggregate{Input: scanOf("DO 1", 0)}, f, nil)
	if err != nil || w.ok == nil {
		t.Errorf("OK %v, error %v", w.ok, err)
	}
}

// TestAggregateFloats checks SUM and AVG over DOUBLE and FLOAT: the
// shards' sums added as DOUBLEs, printed as MariaDB prints them. A DOUBLE
// sum depends on the order of the additions, which over shards cannot be
// MariaDB's (its own depends on the order it reads the rows in): over the
// whole table MariaDB answers 78410.98500000002 and 15682.197000000004 for
// SUM(f) and AVG(f), a last digit off the shards' 76955.446 +
// 1455.5390000000002; the FLOAT columns agree to the digit.
func TestAggregateFloats(t *testing.T) {
	dbl := func(name string) Column { return colDef(name, mysql.MYSQL_TYPE_DOUBLE, 31, 63) }
	cnt := func(name string) Column { return colDef(name, mysql.MYSQL_TYPE_LONGLONG, 0, 63) }
	tt := aggCase{
		// SELECT status, SUM(f), AVG(f), AVG(w), SUM(w) FROM ag GROUP BY status
		name:  "floats",
		shard: "SELECT status, SUM(f), AVG(f), AVG(w), SUM(w), SUM(f), COUNT(f), SUM(w), COUNT(w) FROM ag GROUP BY status",
		cols: []Column{enumColumn("status"), dbl("SUM(f)"), dbl("AVG(f)"), dbl("AVG(w)"), dbl("SUM(w)"),
			dbl("SUM(f)"), cnt("COUNT(f)"), dbl("SUM(w)"), cnt("COUNT(w)")},
		folds: []Fold{{Kind: FoldAny}, {Kind: FoldSum}, {Kind: FoldAvg, Sum: -1, Count: -2}, {Kind: FoldAvg, Sum: -3, Count: -4},
			{Kind: FoldSum}, {Kind: FoldSum}, {Kind: FoldCount}, {Kind: FoldSum}, {Kind: FoldCount}},
		group: []Col{0}, hidden: 4,
		rows0: []string{"placed|76955.446|38477.723|0.15000000223517418|0.30000000447034836|76955.446|2|0.30000000447034836|2",
			"accepted|87.244|87.244|NULL|NULL|87.244|1|NULL|0", "delivered|NULL|NULL|NULL|NULL|NULL|0|NULL|0"},
		rows1: []string{"placed|1455.5390000000002|485.1796666666667|5592405.466666671|16777216.400000013|1455.5390000000002|3|16777216.400000013|3"},
		want: []string{"placed|78410.985|15682.197|3355443.3400000036|16777216.700000018",
			"accepted|87.244|87.244|NULL|NULL", "delivered|NULL|NULL|NULL|NULL"},
	}
	tt.run(t)
}

// TestAggregateFloatArgs checks distinct folds of a FLOAT, which prints
// with six digits (16777215 and 16777216 both as 16777200): COUNT(DISTINCT)
// tells them apart by the hidden CAST(w AS DOUBLE), SUM and AVG(DISTINCT)
// by their own columns. Over the whole table MariaDB answers
// 2|33554431|16777215.5.
func TestAggregateFloatArgs(t *testing.T) {
	dbl := func(name string) Column { return colDef(name, mysql.MYSQL_TYPE_DOUBLE, 31, 63) }
	tt := aggCase{
		name:  "float",
		shard: "SELECT COUNT(DISTINCT w), SUM(DISTINCT w), AVG(DISTINCT w), CAST(w AS DOUBLE), w FROM ff GROUP BY w",
		cols: []Column{colDef("COUNT(DISTINCT w)", mysql.MYSQL_TYPE_LONGLONG, 0, 63), dbl("SUM(DISTINCT w)"), dbl("AVG(DISTINCT w)"),
			dbl("CAST(w AS DOUBLE)"), colDef("w", mysql.MYSQL_TYPE_FLOAT, 31, 63)},
		folds: []Fold{{Kind: FoldCountDistinct, Args: []Col{-1}}, {Kind: FoldSumDistinct, Args: []Col{-2}},
			{Kind: FoldAvgDistinct, Args: []Col{-2}}, {Kind: FoldAny}, {Kind: FoldAny}},
		hidden: 2,
		rows0:  []string{"1|16777215|16777215|16777215|16777200", "1|16777216|16777216|16777216|16777200"},
		rows1:  []string{"1|16777216|16777216|16777216|16777200"},
		want:   []string{"2|33554431|16777215.5"},
	}
	tt.run(t)
}
