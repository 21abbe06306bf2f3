package clients

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// python is Debian's interpreter, which has Debian's python3-sqlalchemy
// and python3-pymysql (another python3 on PATH may not).
const python = "/usr/bin/python3"

// TestSQLAlchemy runs the scenarios as a SQLAlchemy ORM application over
// PyMySQL writes them (python/matrix.py).
func TestSQLAlchemy(t *testing.T) {
	if err := exec.Command(python, "-c", "import sqlalchemy, pymysql").Run(); err != nil {
		t.Fatalf("SQLAlchemy and PyMySQL are not installed for %s (apt-get install python3-sqlalchemy python3-pymysql): %v", python, err)
	}
	compare(t, script(python, "python/matrix.py", "400000"), "")
}

// TestPDO runs them as a PHP application writes them with PDO, with
// emulated prepares (PDO's default for MySQL) and without.
func TestPDO(t *testing.T) {
	if err := exec.Command("php", "-r", "exit(extension_loaded('pdo_mysql') ? 0 : 1);").Run(); err != nil {
		t.Fatalf("PHP with PDO MySQL is not installed (apt-get install php-cli php-mysql): %v", err)
	}
	t.Run("emulated", func(t *testing.T) { compare(t, script("php", "php/matrix.php", "500000", "1"), "") })
	t.Run("server-side", func(t *testing.T) { compare(t, script("php", "php/matrix.php", "600000", "0"), "") })
}

// TestMySQL2 runs them as a Node.js application writes them with mysql2
// (execute: server-side prepared statements, a transaction included).
func TestMySQL2(t *testing.T) {
	if _, err := os.Stat("node/node_modules/mysql2"); err != nil {
		t.Fatalf("mysql2 is not installed (npm install --prefix clients/node, as scripts/test.sh does): %v", err)
	}
	compare(t, script("node", "node/matrix.js", "700000"), "")
}

// connectorJ is Debian's libmariadb-java.
const connectorJ = "/usr/share/java/mariadb-java-client.jar"

// TestConnectorJ runs them as a Java application writes them with MariaDB
// Connector/J and its pool, with useServerPrepStmts off (its default) and
// on.
func TestConnectorJ(t *testing.T) {
	if _, err := os.Stat(connectorJ); err != nil {
		t.Fatalf("Connector/J is not installed (apt-get install libmariadb-java default-jdk-headless): %v", err)
	}
	t.Run("client-side", func(t *testing.T) {
		compare(t, script("java", "-cp", connectorJ, "java/Matrix.java", "--", "800000", "false"), "")
	})
	t.Run("server-side", func(t *testing.T) {
		compare(t, script("java", "-cp", connectorJ, "java/Matrix.java", "--", "900000", "true"), "")
	})
}

// script is a scenario run by a program of another language: prog
// with the arguments before "--" (its script first), then the server's
// address, the credentials, the database and the arguments after "--"
// (all of them when there is no "--"); it prints the transcript, a line
// a step (REFUSED lines: refusals).
func script(prog string, args ...string) func(dsn string, tr *transcript) error {
	head, tail := args[:1], args[1:]
	for i, a := range args {
		if a == "--" {
			head, tail = args[:i], args[i+1:]
		}
	}
	return func(dsn string, tr *transcript) error {
		host, port, user, password, db := dsnParts(dsn)
		argv := append(append(slices.Clone(head), host, port, user, password, db), tail...)
		out, err := exec.Command(prog, argv...).CombinedOutput()
		if err != nil {
			return &scriptError{err, string(out)}
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if r, ok := strings.CutPrefix(line, "REFUSED "); ok {
				tr.mu.Lock()
				tr.refusals = append(tr.refusals, r)
				tr.mu.Unlock()
				continue
			}
			tr.add("%s", line)
		}
		return nil
	}
}

type scriptError struct {
	err error
	out string
}

func (e *scriptError) Error() string { return e.err.Error() + ":\n" + e.out }

// dsnParts reads a go-sql-driver DSN's address, credentials and database.
func dsnParts(dsn string) (host, port, user, password, db string) {
	cred, rest, _ := strings.Cut(dsn, "@tcp(")
	user, password, _ = strings.Cut(cred, ":")
	addr, rest, _ := strings.Cut(rest, ")/")
	host, port, _ = strings.Cut(addr, ":")
	db, _, _ = strings.Cut(rest, "?")
	return
}
