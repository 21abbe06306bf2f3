package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// child is a long-running subprocess we started (Courier or the relay). We
// signal it only through its own *os.Process, i.e. by the PID we started.
type child struct {
	name   string
	cmd    *exec.Cmd
	log    string        // file holding its stdout and stderr
	exited chan struct{} // closed when the process has been reaped
	err    error         // Wait's result; read only after exited is closed
}

// startChild starts path with args, output to logPath. The child gets its
// own process group, so a Ctrl-C reaches only the harness, which then stops
// it in order; and it is SIGKILLed by the kernel if the harness dies.
func startChild(name, path string, args []string, logPath string) (*child, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close() // the child has its own descriptor
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

// pid is the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// alive reports whether the child is still running.
func (c *child) alive() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// describeExit says how the child ended, with the end of its log, for
// errors once it died unexpectedly.
func (c *child) describeExit() string {
	if c.alive() {
		return fmt.Sprintf("%s (pid %d) is running", c.name, c.pid())
	}
	out, _ := os.ReadFile(c.log)
	return fmt.Sprintf("%s (pid %d) exited: %v; end of %s:\n%s", c.name, c.pid(), c.err, c.log, tailLines(out, 20))
}

// stop sends SIGTERM, waits up to grace, then SIGKILLs and waits.
func (c *child) stop(grace time.Duration) {
	if !c.alive() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
		return
	case <-time.After(grace):
	}
	_ = c.cmd.Process.Kill()
	<-c.exited
}

// waitListening waits until addr accepts TCP connections, failing early if
// the child dies; it gives up after 30 s.
func (c *child) waitListening(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-c.exited:
			return errors.New(c.describeExit())
		case <-ctx.Done():
			return fmt.Errorf("%s not listening on %s: %w (last: %v)", c.name, addr, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
