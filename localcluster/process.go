package localcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopTimeout is how long a SIGTERMed server may take before SIGKILL.
const stopTimeout = 30 * time.Second

// mariadbdArgs is the command line of one instance. --no-defaults must be
// first so that /etc/mysql is ignored; ExtraArgs come last so they win.
func mariadbdArgs(spec Spec, inst Instance) []string {
	p := pathsFor(spec.Dir, inst.Name)
	args := []string{"--no-defaults"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root") // mariadbd refuses to run as root otherwise
	}
	port := strconv.Itoa(inst.Port)
	args = append(args,
		"--datadir="+p.data,
		"--tmpdir="+p.tmp, // never share /tmp: a starting server deletes every #sql* file there
		"--socket="+p.socket,
		"--pid-file="+p.pidFile,
		"--log-error="+p.errLog,
		"--port="+port,
		"--bind-address=127.0.0.1",
		"--server-id="+port, // unique on this machine, not only in this cluster
		"--report-host=127.0.0.1",
		"--report-port="+port,
		"--log-bin=mysql-bin",
		"--relay-log=relay-bin", // the default name embeds the hostname
		"--log-slave-updates",
		"--gtid-strict-mode=1",
		"--binlog-format=ROW",
		"--skip-name-resolve",
		"--innodb-buffer-pool-size=64M",
		templateLogFileSize,
		"--innodb-flush-log-at-trx-commit=2",
		"--sync-binlog=0",
		"--performance-schema=OFF",
		"--max-connections=2000",
		"--max-allowed-packet=1G",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_general_ci",
	)
	return append(args, spec.ExtraArgs...)
}

// proc is a server process started by this package. exited receives the
// result of Wait once the process ends (we reap our own children so they do
// not linger as zombies).
type proc struct {
	pid    int
	exited <-chan error
}

// startProcess launches mariadbd for inst, detached into its own process
// group so it outlives the caller (courierctl exits, the servers stay).
func startProcess(ctx context.Context, bins binaries, spec Spec, inst Instance) (proc, error) {
	p := pathsFor(spec.Dir, inst.Name)
	if err := waitPortFree(ctx, inst.Port); err != nil {
		return proc{}, err
	}
	if err := os.MkdirAll(p.tmp, 0o700); err != nil {
		return proc{}, fmt.Errorf("localcluster: %s: %w", inst.Name, err)
	}
	out, err := os.OpenFile(p.outLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return proc{}, fmt.Errorf("localcluster: %s: %w", inst.Name, err)
	}
	defer out.Close() // the child has its own descriptor
	cmd := exec.Command(bins.mariadbd, mariadbdArgs(spec, inst)...)
	cmd.Dir = p.root
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return proc{}, fmt.Errorf("localcluster: start %s: %w", inst.Name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return proc{pid: cmd.Process.Pid, exited: exited}, nil
}

// portWait is how long startProcess waits for a busy port, which covers a
// killed server that is still exiting.
const portWait = 5 * time.Second

// waitPortFree returns once nothing listens on 127.0.0.1:port, or an error
// after portWait.
func waitPortFree(ctx context.Context, port int) error {
	deadline := time.Now().Add(portWait)
	for {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			return l.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("localcluster: port %d is not free (another server, or a cluster started with another dir?): %w", port, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ourProcess reports whether pid is a live (not zombie) mariadbd serving
// dataDir. Checking the command line keeps us from signalling a process that
// merely reused a recorded PID. Linux only (/proc). A process in the middle of
// exiting may already have lost its command line: use exists to wait for it.
func ourProcess(pid int, dataDir string) bool {
	if !exists(pid) {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(string(bytes.TrimRight(cmdline, "\x00")), "\x00")
	base := filepath.Base(args[0])
	if !strings.Contains(base, "mariadbd") && !strings.Contains(base, "mysqld") {
		return false
	}
	for _, a := range args[1:] {
		if a == "--datadir="+dataDir {
			return true
		}
	}
	return false
}

// exists reports whether pid is a process that has not yet become a zombie,
// i.e. may still hold its files and ports.
func exists(pid int) bool {
	if pid <= 0 {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z' && stat[i+2] != 'X'
}

// signalInstance sends sig to inst's recorded PID if it is still our server.
func signalInstance(inst Instance, sig syscall.Signal) error {
	if !ourProcess(inst.PID, inst.DataDir) {
		return fmt.Errorf("localcluster: %s (pid %d) is not running", inst.Name, inst.PID)
	}
	if err := syscall.Kill(inst.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("localcluster: signal %s (pid %d): %w", inst.Name, inst.PID, err)
	}
	return nil
}

// stopProcesses sends SIGTERM to each running instance, waits up to
// stopTimeout for all to exit, then SIGKILLs the rest. Instances whose PID is
// not our server are skipped. If ctx ends first, the rest are killed at once.
func stopProcesses(ctx context.Context, insts []Instance) error {
	var live []Instance
	for _, inst := range insts {
		if signalInstance(inst, syscall.SIGTERM) == nil {
			live = append(live, inst)
		}
	}
	deadline := time.Now().Add(stopTimeout)
	var ctxErr error
	for len(live) > 0 && time.Now().Before(deadline) && ctxErr == nil {
		select {
		case <-ctx.Done():
			ctxErr = ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		live = stillRunning(live)
	}
	for _, inst := range live {
		_ = syscall.Kill(inst.PID, syscall.SIGKILL) // these PIDs passed signalInstance above
	}
	for end := time.Now().Add(10 * time.Second); len(live) > 0 && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
		live = stillRunning(live)
	}
	if len(live) > 0 {
		return fmt.Errorf("localcluster: %s (pid %d) survived SIGKILL", live[0].Name, live[0].PID)
	}
	return ctxErr
}

// stillRunning keeps the instances whose process has not exited yet.
func stillRunning(insts []Instance) []Instance {
	var out []Instance
	for _, inst := range insts {
		if exists(inst.PID) {
			out = append(out, inst)
		}
	}
	return out
}

// errLogTail returns the end of an instance's error log, for error messages.
func errLogTail(dir, name string) string {
	p := pathsFor(dir, name)
	var b strings.Builder
	for _, f := range []string{p.errLog, p.outLog} {
		if data, err := os.ReadFile(f); err == nil && len(bytes.TrimSpace(data)) > 0 {
			fmt.Fprintf(&b, "--- tail of %s ---\n%s\n", f, tail(string(data), 15))
		}
	}
	return b.String()
}
