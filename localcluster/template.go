package localcluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
)

// templateLogFileSize is the redo log size of the template and of every
// instance, so that no instance has to resize its redo log on first start.
const templateLogFileSize = "--innodb-log-file-size=48M"

// layoutOptions are mariadbd options that change what mariadb-install-db
// writes to disk. If ExtraArgs sets one, it goes into the template too (and
// into its cache key).
func layoutOptions() []string {
	return []string{
		"--innodb-page-size", "--innodb_page_size",
		"--innodb-data-file-path", "--innodb_data_file_path",
		"--innodb-log-file-size", "--innodb_log_file_size",
		"--lower-case-table-names", "--lower_case_table_names",
	}
}

// ensureTemplate returns a data directory initialised by mariadb-install-db,
// to be copied (cp -a) for each new instance. The template is made once per
// mariadbd version and layout options and cached under os.TempDir(); a
// concurrent caller that loses the race to publish it uses the winner's copy.
func ensureTemplate(ctx context.Context, bins binaries, extra []string, logw io.Writer) (string, error) {
	version, err := exec.CommandContext(ctx, bins.mariadbd, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("localcluster: %s --version: %w", bins.mariadbd, err)
	}
	args := []string{templateLogFileSize}
	for _, a := range extra {
		for _, p := range layoutOptions() {
			if strings.HasPrefix(a, p+"=") {
				args = append(args, a)
			}
		}
	}
	osUser, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("localcluster: current user: %w", err)
	}
	key := sha256.Sum256([]byte(string(bytes.TrimSpace(version)) + "\x00" + osUser.Username + "\x00" + strings.Join(args, "\x00")))
	final := filepath.Join(os.TempDir(), fmt.Sprintf("courier-mariadb-template-%x", key[:6]))
	if templateComplete(final) {
		return filepath.Join(final, "data"), nil
	}

	fmt.Fprintf(logw, "localcluster: creating data directory template %s\n", final)
	tmp, err := os.MkdirTemp(os.TempDir(), "courier-mariadb-template-tmp-")
	if err != nil {
		return "", fmt.Errorf("localcluster: template dir: %w", err)
	}
	defer os.RemoveAll(tmp) // no-op once renamed
	if err := os.Mkdir(filepath.Join(tmp, "tmp"), 0o700); err != nil {
		return "", fmt.Errorf("localcluster: template dir: %w", err)
	}
	install := []string{
		"--no-defaults",
		"--datadir=" + filepath.Join(tmp, "data"),
		// A private tmpdir: any mariadbd starting meanwhile deletes #sql* files
		// from its tmpdir, including the bootstrap's temporary tables.
		"--tmpdir=" + filepath.Join(tmp, "tmp"),
		"--auth-root-authentication-method=socket",
		"--skip-test-db",
		"--skip-name-resolve",
	}
	if os.Geteuid() == 0 {
		install = append(install, "--user=root")
	} else {
		install = append(install, "--auth-root-socket-user="+osUser.Username)
	}
	install = append(install, args...)
	cmd := exec.CommandContext(ctx, bins.installDB, install...)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("localcluster: %s: %w\n%s", bins.installDB, err, tail(string(out), 30))
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), version, 0o644); err != nil {
		return "", fmt.Errorf("localcluster: template marker: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		if templateComplete(final) { // somebody else published it first
			return filepath.Join(final, "data"), nil
		}
		_ = os.RemoveAll(final) // an incomplete leftover: replace it
		if err := os.Rename(tmp, final); err != nil {
			return "", fmt.Errorf("localcluster: publish template: %w", err)
		}
	}
	return filepath.Join(final, "data"), nil
}

// templateComplete reports whether dir holds a finished template (the marker
// and the system tables survived any temp-dir cleaner).
func templateComplete(dir string) bool {
	for _, f := range []string{".complete", "data/ibdata1", "data/mysql/global_priv.MAI", "data/mysql/gtid_slave_pos.ibd"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// copyTemplate creates dst as a copy of the template data directory.
func copyTemplate(ctx context.Context, template, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("localcluster: create %s: %w", filepath.Dir(dst), err)
	}
	tmp := dst + ".tmp"
	_ = os.RemoveAll(tmp)
	if out, err := exec.CommandContext(ctx, "cp", "-a", template, tmp).CombinedOutput(); err != nil {
		return fmt.Errorf("localcluster: copy template to %s: %w: %s", dst, err, out)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("localcluster: copy template: %w", err)
	}
	return nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
