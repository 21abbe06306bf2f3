package clients

import (
	"os/exec"
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
	compare(t, func(dsn string, tr *transcript) error {
		host, port, user, password, db := dsnParts(dsn)
		out, err := exec.Command(python, "python/matrix.py", host, port, user, password, db, "400000").CombinedOutput()
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
	}, "")
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
