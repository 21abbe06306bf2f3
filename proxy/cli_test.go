package proxy_test

import (
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
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
