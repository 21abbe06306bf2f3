package proxy_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
)

const cliScript = `
CREATE TABLE cities (id INT PRIMARY KEY, name VARCHAR(40), pop BIGINT NULL);
INSERT INTO cities VALUES (1, 'Lisboa', 545000), (2, 'Porto', NULL), (3, 'Ærø', 6000);
SELECT * FROM cities ORDER BY id;
SELECT name, pop FROM cities WHERE pop IS NULL;
UPDATE cities SET pop = pop + 1 WHERE id IN (1, 3);
SELECT SUM(pop), COUNT(*), AVG(pop) FROM cities;
SELECT CAST('12abc' AS SIGNED) AS n;
SHOW WARNINGS;
SET @x = 10;
SELECT @x * 2 AS twice;
BEGIN;
DELETE FROM cities WHERE id = 1;
ROLLBACK;
SELECT COUNT(*) FROM cities;
SHOW COLUMNS FROM cities;
SELECT DATABASE();
`

// cli runs the mariadb client with a script and returns its output.
func cli(t *testing.T, addr, user, pw, db, script string, extra ...string) (string, error) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	args := append([]string{"-h" + host, "-P" + port, "-u" + user, "-p" + pw, "--batch", "--show-warnings", db}, extra...)
	cmd := exec.Command("mariadb", args...)
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestMariaDBClient runs one script with the mariadb CLI straight against
// MariaDB and through Courier; the outputs must be identical.
func TestMariaDBClient(t *testing.T) {
	if _, err := exec.LookPath("mariadb"); err != nil {
		t.Skip("mariadb client not installed")
	}
	e := newEnv(t)
	mustExec(t, e.direct(""), "CREATE DATABASE "+e.schema+"_d")
	direct, err := cli(t, cluster.Primary(0).Addr, cluster.Spec.User, cluster.Spec.Password, e.schema+"_d", cliScript)
	if err != nil {
		t.Fatalf("direct: %v\n%s", err, direct)
	}
	through, err := cli(t, e.courier.Addr, "app", "app", e.schema, cliScript)
	if err != nil {
		t.Fatalf("through Courier: %v\n%s", err, through)
	}
	through = strings.ReplaceAll(through, e.schema, e.schema+"_d")
	if through != direct {
		t.Fatalf("outputs differ\n--- direct\n%s\n--- Courier\n%s", direct, through)
	}

	// An error: same code, SQLSTATE and message; exit status 1.
	out, err := cli(t, e.courier.Addr, "app", "app", e.schema, "SELECT * FROM missing_table;")
	if err == nil || !strings.Contains(out, "ERROR 1146 (42S02)") {
		t.Fatalf("error through the CLI: %v %q", err, out)
	}
	// The CLI's status command uses COM_STATISTICS.
	out, err = cli(t, e.courier.Addr, "app", "app", e.schema, "status")
	if err != nil || !strings.Contains(out, "Uptime:") {
		t.Fatalf("status through the CLI: %v %q", err, out)
	}
	out, err = cli(t, e.courier.Addr, "app", "wrong", e.schema, "SELECT 1;")
	if err == nil || !strings.Contains(out, "ERROR 1045 (28000)") {
		t.Fatalf("bad password through the CLI: %v %q", err, out)
	}
}

// TestFieldListAndPing uses go-mysql's client for commands other drivers
// rarely send: COM_FIELD_LIST, COM_PING, COM_INIT_DB.
func TestFieldListAndPing(t *testing.T) {
	e := newEnv(t)
	mustExec(t, e.direct(""), "CREATE TABLE fl (a INT, b VARCHAR(3))")
	c, err := client.Connect(e.courier.Addr, "app", "app", e.schema)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Ping(); err != nil {
		t.Fatal(err)
	}
	fields, err := c.FieldList("fl", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(fields) != 2 || string(fields[0].Name) != "a" || string(fields[1].Name) != "b" {
		t.Fatalf("fields %v", fields)
	}
	if _, err := c.FieldList("no_such", ""); err == nil {
		t.Fatal("field list of a missing table succeeded")
	}
	if err := c.UseDB("mysql"); err != nil {
		t.Fatal(err)
	}
	r, err := c.Execute("SELECT DATABASE()")
	if err != nil {
		t.Fatal(err)
	}
	if db, _ := r.GetString(0, 0); db != "mysql" {
		t.Fatalf("database %q", db)
	}
}

// TestChangeUser sends COM_CHANGE_USER: the session starts afresh as the
// new user (its schema rules apply, user variables are gone), and a wrong
// password is refused with 1045.
func TestChangeUser(t *testing.T) {
	e := newEnvWith(t, func(c *config.Config) {
		c.Users = append(c.Users, config.User{Name: "second", Password: "s", Schemas: []string{"mysql"}})
	})
	ctx := context.Background()
	dial := func() *backend.Conn {
		c, err := backend.Dial(ctx, backend.Options{Addr: e.courier.Addr, User: "app", Password: "app"}, backend.FlavourPlain)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	changeUser := func(c *backend.Conn, user, pw, db string) []byte {
		p := append([]byte{mysql.COM_CHANGE_USER}, user...)
		auth := mysql.CalcNativePassword(c.Scramble, []byte(pw))
		p = append(append(p, 0, byte(len(auth))), auth...)
		p = append(append(p, db...), 0)
		p = append(p, 45, 0)
		p = append(append(p, mysql.AUTH_NATIVE_PASSWORD...), 0)
		if err := c.WriteCommand(p); err != nil {
			t.Fatal(err)
		}
		reply, err := c.Wire().ReadPacket(1 << 20)
		if err != nil {
			t.Fatal(err)
		}
		return reply
	}

	c := dial()
	if err := c.Exec(ctx, "SET @left_behind = 1"); err != nil {
		t.Fatal(err)
	}
	if reply := changeUser(c, "second", "s", "mysql"); reply[0] != wire.OKHeader {
		t.Fatalf("change user: %q", reply)
	}
	rows, err := c.Query(ctx, "SELECT @left_behind, DATABASE()")
	if err != nil || !rows[0][0].Null || rows[0][1].Text != "mysql" {
		t.Fatalf("after change user: %v %v", rows, err)
	}
	if err := c.Exec(ctx, "USE "+e.schema); err == nil || !strings.Contains(err.Error(), "1044") {
		t.Fatalf("new user's schema rules not applied: %v", err)
	}

	c2 := dial()
	reply := changeUser(c2, "second", "wrong", "")
	if num, state, _ := wire.ParseErr(reply); reply[0] != wire.ErrHeader || num != 1045 || state != "28000" {
		t.Fatalf("bad password: %q", reply)
	}
}

// TestLoadDataLocal: LOAD DATA LOCAL INFILE streams the client's file to
// the server; a client that did not enable local files gets error 4166.
func TestLoadDataLocal(t *testing.T) {
	e := newEnv(t)
	mustExec(t, e.direct(""), "CREATE TABLE loaded (id INT PRIMARY KEY, name VARCHAR(20))")
	path := filepath.Join(t.TempDir(), "rows.csv")
	var b strings.Builder
	for i := range 5000 { // several packets' worth
		fmt.Fprintf(&b, "%d,name-%d\n", i, i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	mysqldrv.RegisterLocalFile(path)
	db := e.proxied("")
	mustExec(t, db, "LOAD DATA LOCAL INFILE '"+path+"' INTO TABLE loaded FIELDS TERMINATED BY ','")
	if got := queryString(t, e.direct(""), "SELECT COUNT(*) FROM loaded"); got != "5000" {
		t.Fatalf("loaded %s rows", got)
	}
	if got := queryString(t, db, "SELECT 1"); got != "1" {
		t.Fatal("connection unusable after LOAD DATA")
	}
	if _, err := exec.LookPath("mariadb"); err == nil {
		out, err := cli(t, e.courier.Addr, "app", "app", e.schema,
			"LOAD DATA LOCAL INFILE '"+path+"' INTO TABLE loaded;", "--local-infile=0")
		if err == nil || !strings.Contains(out, "4166") {
			t.Fatalf("LOAD DATA LOCAL from a client without local files: %v %q", err, out)
		}
	}
}
