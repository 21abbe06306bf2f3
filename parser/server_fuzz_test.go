package parser_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/testbed"
)

// FuzzSplitServer compares Courier's reading of multi-statement batches
// with MariaDB's. The fuzzer's bytes choose a batch from a grammar of
// harmless statements (SELECTs of string literals full of quotes,
// backslashes, semicolons and comment markers, executable comments,
// INSERTs into a scratch table, a compound statement), and for each
// sql_mode that changes how quotes read the batch runs on the server
// whole (multiStatements=true) and as Split's statements one at a time.
// Both runs must return the same result sets, fail at the same statement
// with the same error and write the same rows; a statement Split calls a
// SELECT must write nothing; a batch ClassifyMode calls a single SELECT
// must write nothing when run whole; and a batch Split finds several
// statements in must have FlagMulti.
//
// Seeds run as a normal test (skipped with -short or without mariadbd;
// COURIER_REQUIRE_MARIADB=1 makes that a failure). To fuzz:
//
//	go test ./parser -run '^$' -fuzz FuzzSplitServer -fuzztime 60s
func FuzzSplitServer(f *testing.F) {
	testbed.Require(f)
	f.Cleanup(func() { fuzzServer.stop() })
	for _, s := range splitSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		srv := fuzzServer.get(t)
		batch := (&batchGen{b: b}).batch()
		for _, sqlMode := range []string{"", "NO_BACKSLASH_ESCAPES", "ANSI_QUOTES", "NO_BACKSLASH_ESCAPES,ANSI_QUOTES"} {
			if err := srv.check(batch, sqlMode); err != nil {
				t.Fatalf("sql_mode=%q, batch %q:\n%v", sqlMode, batch, err)
			}
		}
	})
}

// splitSeeds are fuzz inputs that make interesting batches.
var splitSeeds = []string{
	"", "\x00\x01\x02", "\x10\x05\x03\x04\x06\x01\x11\x02", "\x22\x31\x03\x05\x0a\x07\x01\x13\x02\x21",
	"\x01\x03\x14\x0b\x09\x01\x02\x04\x05\x06\x07\x08", "\x42\x17\x0e\x0f\x19\x12\x03\x04\x33\x01",
	"\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8",
	// One compound statement of each shape, then a SELECT.
	"\x01\x09\x00\x02\x07\x01\x03\x02\x01", "\x01\x09\x01\x02\x0b\x02\x00\x01", "\x01\x09\x02\x03\x01\x03\x00\x02",
	"\x01\x09\x03\x01\x05\x04\x00\x01", "\x01\x09\x04\x02\x14\x15\x00\x01", "\x01\x09\x05\x02\x16\x00\x01\x00",
	"\x01\x09\x06\x01\x17\x02\x01\x02\x00\x01", "\x01\x09\x07\x02\x0a\x13\x00\x02",
}

// batchGen maps fuzz bytes to a batch.
type batchGen struct {
	b      []byte
	n      int
	marker int
}

func (g *batchGen) pick(n int) int {
	if g.n >= len(g.b) {
		return 0
	}
	g.n++
	return int(g.b[g.n-1]) % n
}

func (g *batchGen) next() int {
	g.marker++
	return g.marker
}

// strPieces go inside string literals: quotes and escapes that different
// modes end strings at, and the makings of hidden statements.
var strPieces = []string{
	"a", "'", "''", `\'`, `\\`, `"`, `""`, `\"`, `\`, ";", " ", "--", "-- ", "#", "/*", "*/", "/*!", "/*!99999 ", "`",
	"; INSERT INTO fz.t (m) VALUES (900); SELECT 901, '", `; INSERT INTO fz.t (m) VALUES (902); -- `,
	`\'; INSERT INTO fz.t (m) VALUES (903); -- '`, `"; INSERT INTO fz.t (m) VALUES (904); SELECT "`,
}

func (g *batchGen) literal() string {
	q := `'`
	if g.pick(3) == 0 {
		q = `"`
	}
	var b strings.Builder
	b.WriteString(q)
	for i, n := 0, g.pick(5); i < n; i++ {
		b.WriteString(strPieces[g.pick(len(strPieces))])
	}
	b.WriteString(q)
	return b.String()
}

func (g *batchGen) statement() string {
	k := g.next()
	switch g.pick(11) {
	case 9, 10:
		return g.compound(k)
	case 0, 1, 2:
		return fmt.Sprintf("SELECT %d, %s", k, g.literal())
	case 3:
		return fmt.Sprintf("INSERT INTO fz.t (m) VALUES (%d)", k)
	case 4:
		if g.pick(4) == 0 {
			return fmt.Sprintf("SELECT %d /*!99999 ; INSERT INTO fz.t (m) VALUES (905) */", k)
		}
		return fmt.Sprintf("SELECT %d /*%s , %s */", k, []string{"!", "!40001", "!50700", "M!50700", "!99999", "!100000"}[g.pick(6)], g.literal())
	case 5:
		return fmt.Sprintf("/*!%s SELECT %d, %s */", []string{"", "40001", "50700", "99999"}[g.pick(4)], k, g.literal())
	case 6:
		return fmt.Sprintf("SELECT %d FROM dual WHERE %s <> %s", k, g.literal(), g.literal())
	case 7:
		return fmt.Sprintf("BEGIN NOT ATOMIC SELECT %d, %s; INSERT INTO fz.t (m) VALUES (%d); END", k, g.literal(), g.next())
	}
	return fmt.Sprintf("SELECT %d, %s -- %s", k, g.literal(), g.literal())
}

// compound returns a compound statement whose body hides semicolons,
// quotes and comments; the routines it creates are never called, the
// trigger is on a table nothing writes, the event never fires.
func (g *batchGen) compound(k int) string {
	body := fmt.Sprintf("SELECT %d, %s; INSERT INTO fz.t (m) VALUES (%d);", k, g.literal(), g.next())
	switch g.pick(8) {
	case 0:
		return fmt.Sprintf("CREATE OR REPLACE PROCEDURE fz.p() COMMENT %s BEGIN %s END", g.literal(), body)
	case 1:
		return fmt.Sprintf("CREATE OR REPLACE FUNCTION fz.f() RETURNS VARCHAR(10) RETURN CASE WHEN 1 THEN %s END", g.literal())
	case 2:
		return fmt.Sprintf("CREATE OR REPLACE FUNCTION fz.f() RETURNS INT BEGIN DECLARE x INT DEFAULT %d; IF x > 0 THEN RETURN x; END IF; RETURN LENGTH(%s); END", k, g.literal())
	case 3:
		return fmt.Sprintf("CREATE OR REPLACE TRIGGER fz.tr BEFORE INSERT ON fz.u FOR EACH ROW BEGIN SET NEW.m = LENGTH(%s); SET NEW.m = %d; END", g.literal(), k)
	case 4:
		return fmt.Sprintf("CREATE OR REPLACE EVENT fz.e ON SCHEDULE AT CURRENT_TIMESTAMP + INTERVAL 1 YEAR DO BEGIN %s END", body)
	case 5:
		return fmt.Sprintf("IF %d > 0 THEN %s ELSE SELECT %s; END IF", k, body, g.literal())
	case 6:
		return fmt.Sprintf("CASE WHEN %s = '' THEN %s ELSE BEGIN %s END; END CASE", g.literal(), body, body)
	}
	return fmt.Sprintf("BEGIN NOT ATOMIC DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN SELECT %d; END; %s SELECT * FROM fz.nosuch; END", g.next(), body)
}

var joiners = []string{";", "; ", " ;\n", ";/* j */ ", "; -- j\n", ";# j\n", "/* j */;", "; ;", ";\n-- j\n"}

func (g *batchGen) batch() string {
	var b strings.Builder
	for i, n := 0, 1+g.pick(4); i < n; i++ {
		if i > 0 {
			b.WriteString(joiners[g.pick(len(joiners))])
		}
		b.WriteString(g.statement())
	}
	b.WriteString([]string{"", ";", "; -- end", " ; ; ", ";/* end */"}[g.pick(5)])
	return b.String()
}

// server is one MariaDB for the fuzz target, started on first use.
type server struct {
	once  sync.Once
	err   error
	dir   string
	close func()
	db    *sql.DB
	whole *sql.Conn // runs batches with multiStatements
	piece *sql.Conn // runs Split's statements
}

var fuzzServer server

func (s *server) get(t *testing.T) *server {
	s.once.Do(func() { s.err = s.start() })
	if s.err != nil {
		if os.Getenv("COURIER_REQUIRE_MARIADB") != "" {
			t.Fatal(s.err)
		}
		t.Skip(s.err)
	}
	return s
}

func (s *server) start() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "courier-splitfuzz-")
	if err != nil {
		return err
	}
	s.dir = dir
	c, stop, err := testbed.Cluster(ctx, dir, 1, 0)
	if err != nil {
		return err
	}
	s.close = stop
	if s.db, err = sql.Open("mysql", c.DSN(c.Primary(0), "")); err != nil {
		return err
	}
	for _, q := range []string{"CREATE DATABASE IF NOT EXISTS fz",
		"CREATE TABLE IF NOT EXISTS fz.t (id INT AUTO_INCREMENT PRIMARY KEY, m INT)",
		"CREATE TABLE IF NOT EXISTS fz.u (m INT)"} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	if s.whole, err = s.db.Conn(ctx); err != nil {
		return err
	}
	s.piece, err = s.db.Conn(ctx)
	return err
}

func (s *server) stop() {
	for _, c := range []*sql.Conn{s.whole, s.piece} {
		if c != nil {
			c.Close()
		}
	}
	if s.db != nil {
		s.db.Close()
	}
	if s.close != nil {
		s.close()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// check runs batch under sqlMode whole and split, and compares.
func (s *server) check(batch, sqlMode string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mode := parser.ModeOf(sqlMode, "utf8mb4")
	info := parser.ClassifyMode([]byte(batch), mode)
	whole, err := s.run(ctx, s.whole, sqlMode, []string{batch}, nil)
	if err != nil {
		return err
	}
	if info.Kind == parser.KindSelect && !info.Flags.Has(parser.FlagMulti) && whole.rows != "" {
		return fmt.Errorf("ClassifyMode reads one SELECT, but the batch wrote rows %s", whole.rows)
	}
	sts, ok := parser.Split(nil, []byte(batch), mode)
	if !ok {
		return nil // the proxy refuses it or sends it whole to the primary
	}
	var texts []string
	tokens := 0
	for _, st := range sts {
		texts = append(texts, string(st.Text))
		if st.Info.Kind != parser.KindEmpty {
			tokens++
		}
	}
	if tokens > 1 && !info.Flags.Has(parser.FlagMulti) {
		return fmt.Errorf("Split finds %d statements %q, but ClassifyMode has no FlagMulti", tokens, texts)
	}
	split, err := s.run(ctx, s.piece, sqlMode, texts, sts)
	if err != nil {
		return err
	}
	if split.String() != whole.String() {
		return fmt.Errorf("the server ran the batch as\n  %s\nbut Split's statements %q as\n  %s", whole, texts, split)
	}
	return nil
}

// outcome is what the server did with a batch: its result sets, the
// error that stopped it, the rows it wrote.
type outcome struct {
	results []string
	errno   uint16
	rows    string
}

func (o outcome) String() string {
	return fmt.Sprintf("results %q, error %d, rows written [%s]", o.results, o.errno, o.rows)
}

// run runs the queries on conn in order, stopping at the first error,
// after emptying the scratch table; with sts (Split's statements) it
// answers an empty statement that is not the last with 1064, as the
// server does, and fails when a statement read as a SELECT writes.
func (s *server) run(ctx context.Context, conn *sql.Conn, sqlMode string, queries []string, sts []parser.Statement) (outcome, error) {
	var o outcome
	for _, q := range []string{"TRUNCATE TABLE fz.t", "SET SESSION sql_mode = '" + sqlMode + "'"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return o, err
		}
	}
	for i, q := range queries {
		if sts != nil && sts[i].Info.Kind == parser.KindEmpty && i < len(sts)-1 {
			o.errno = 1064
			break
		}
		before, err := s.written(ctx)
		if err != nil {
			return o, err
		}
		if o.errno, err = s.query(ctx, conn, q, &o.results); err != nil {
			return o, err
		}
		if o.errno != 0 {
			break
		}
		after, err := s.written(ctx)
		if err != nil {
			return o, err
		}
		if sts != nil && sts[i].Info.Kind == parser.KindSelect && after != before {
			return o, fmt.Errorf("statement %q is read as a SELECT but wrote rows [%s]", q, after)
		}
	}
	var err error
	o.rows, err = s.written(ctx)
	return o, err
}

// query runs one COM_QUERY and appends its result sets; it returns the
// server's error number, 0 when all went well, and other errors.
func (s *server) query(ctx context.Context, conn *sql.Conn, q string, results *[]string) (uint16, error) {
	rows, err := conn.QueryContext(ctx, q)
	for err == nil {
		cols, cerr := rows.Columns()
		if cerr != nil {
			err = cerr
			break
		}
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err = rows.Scan(ptrs...); err != nil {
				break
			}
			var row []string
			for _, v := range vals {
				row = append(row, strconv.Quote(string(v)))
			}
			*results = append(*results, strings.Join(row, ","))
		}
		if err == nil && !rows.NextResultSet() {
			err = rows.Err()
			break
		}
	}
	if rows != nil {
		rows.Close()
	}
	var me *mysql.MySQLError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &me):
		return me.Number, nil
	}
	return 0, fmt.Errorf("%q: %w", q, err)
}

// written lists the markers in the scratch table, in the order written.
func (s *server) written(ctx context.Context) (string, error) {
	var out string
	err := s.db.QueryRowContext(ctx, "SELECT COALESCE(GROUP_CONCAT(m ORDER BY id), '') FROM fz.t").Scan(&out)
	return out, err
}
