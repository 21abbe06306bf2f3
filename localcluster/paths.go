package localcluster

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
)

// maxSocketPath is the longest unix socket path we hand to mariadbd; the
// kernel limit (sun_path) is 108 bytes including the terminating NUL.
const maxSocketPath = 100

// instancePaths are the files of one instance, all derived from the work
// directory and the instance name so the state file need not store them.
type instancePaths struct {
	root    string // Dir/<name>
	data    string // Dir/<name>/data, the mariadbd datadir
	tmp     string // Dir/<name>/tmp, the instance's private --tmpdir
	socket  string // Dir/<name>/mysqld.sock, or a short path under os.TempDir
	pidFile string // Dir/<name>/mysqld.pid
	errLog  string // Dir/<name>/error.log (mariadbd --log-error)
	outLog  string // Dir/<name>/mysqld.out (stdout and stderr of the process)
}

func pathsFor(dir, name string) instancePaths {
	root := filepath.Join(dir, name)
	p := instancePaths{
		root:    root,
		data:    filepath.Join(root, "data"),
		tmp:     filepath.Join(root, "tmp"),
		socket:  filepath.Join(root, "mysqld.sock"),
		pidFile: filepath.Join(root, "mysqld.pid"),
		errLog:  filepath.Join(root, "error.log"),
		outLog:  filepath.Join(root, "mysqld.out"),
	}
	if len(p.socket) > maxSocketPath {
		sum := sha256.Sum256([]byte(p.socket))
		p.socket = filepath.Join(os.TempDir(), fmt.Sprintf("courier-%x.sock", sum[:8]))
	}
	return p
}

func stateFile(dir string) string { return filepath.Join(dir, "cluster.json") }

func lockFile(dir string) string { return filepath.Join(dir, ".lock") }
