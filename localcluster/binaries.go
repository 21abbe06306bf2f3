package localcluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// installHint is the command printed when the server is missing.
const installHint = "sudo apt-get update && sudo apt-get install -y mariadb-server"

// binaries are the MariaDB programs we run.
type binaries struct {
	mariadbd  string
	installDB string
}

// findBinaries locates mariadbd and mariadb-install-db on PATH or in the usual
// Debian locations (/usr/sbin is often missing from a non-root PATH).
func findBinaries() (binaries, error) {
	d, err := lookBinary("mariadbd", "/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin")
	if err != nil {
		return binaries{}, err
	}
	i, err := lookBinary("mariadb-install-db", "/usr/bin", "/usr/local/bin", "/usr/local/mysql/scripts")
	if err != nil {
		return binaries{}, err
	}
	return binaries{mariadbd: d, installDB: i}, nil
}

func lookBinary(name string, dirs ...string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("localcluster: %s not found: %w; install it with: %s", name, ErrNotInstalled, installHint)
}

// EnsureMariaDB returns nil if mariadbd and mariadb-install-db are installed.
// Otherwise, when running as root on Debian, it runs
// `apt-get update && apt-get install -y mariadb-server` non-interactively,
// writing the output to logw; elsewhere it returns an error (wrapping
// ErrNotInstalled) that names the install command.
func EnsureMariaDB(ctx context.Context, logw io.Writer) error {
	if _, err := findBinaries(); err == nil {
		return nil
	}
	_, debErr := os.Stat("/etc/debian_version")
	if os.Geteuid() != 0 || debErr != nil {
		return fmt.Errorf("localcluster: mariadbd is required: %w; install it with: %s", ErrNotInstalled, installHint)
	}
	fmt.Fprintln(logw, "localcluster: mariadbd not found; installing mariadb-server with apt-get")
	for _, args := range [][]string{{"update"}, {"install", "-y", "mariadb-server"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = logw, logw
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("localcluster: apt-get %v: %w", args, err)
		}
	}
	_, err := findBinaries()
	return err
}
