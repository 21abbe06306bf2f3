package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// sbUser, sbPassword and sbDB are the credentials and schema sysbench uses
// against every subject, so that the three see the same client traffic.
const (
	sbUser     = "sbtest"
	sbPassword = "sbtest"
	sbDB       = "sbtest"
)

// runSlack is how long a run may take beyond --time before it is killed:
// connecting, the final report, and a proxy that drains slowly.
const runSlack = 60 * time.Second

// sbTarget says where sysbench connects and what data it uses.
type sbTarget struct {
	Port      int
	DB        string // schema; sbDB when empty
	Tables    int    // 0 for a script workload: --tables and --table-size are left out
	TableSize int
}

// args returns the options common to prepare and run.
func (t sbTarget) args(workload string) []string {
	db := t.DB
	if db == "" {
		db = sbDB
	}
	args := []string{
		workload,
		"--db-driver=mysql",
		"--mysql-host=127.0.0.1",
		"--mysql-port=" + strconv.Itoa(t.Port),
		"--mysql-user=" + sbUser,
		"--mysql-password=" + sbPassword,
		"--mysql-db=" + db,
	}
	if t.Tables > 0 { // the oltp_* workloads' options; a script may not know them
		args = append(args, "--tables="+strconv.Itoa(t.Tables), "--table-size="+strconv.Itoa(t.TableSize))
	}
	return args
}

// sbRun is one measured sysbench run.
type sbRun struct {
	Workload string   // a built-in workload (oltp_point_select) or a Lua script's path
	Options  []string // the workload's own options, e.g. a script's --query
	Threads  int
	PSMode   string // --db-ps-mode: disable or auto
	Duration time.Duration
	SkipTrx  bool // --skip_trx=on: no BEGIN/COMMIT around each event
}

// runArgs is the full sysbench command line of r against t.
func runArgs(t sbTarget, r sbRun) []string {
	args := append(t.args(r.Workload), r.Options...)
	if r.SkipTrx {
		// Autocommit statements; without the DELETE+INSERT pair of
		// oltp_read_write, which then collides across threads (1062).
		args = append(args, "--skip_trx=on", "--delete_inserts=0")
	}
	return append(args,
		"--threads="+strconv.Itoa(r.Threads),
		"--time="+strconv.Itoa(int(r.Duration/time.Second)),
		"--events=0",
		"--histogram=on",
		"--report-interval=0",
		"--rand-type=uniform",
		"--db-ps-mode="+r.PSMode,
		"run",
	)
}

// prepare creates and loads the sysbench tables (oltp_read_write's prepare
// creates the tables every oltp_* workload uses), with extra sysbench
// options.
func prepare(ctx context.Context, t sbTarget, extra ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	args := append(append(t.args("oltp_read_write"), extra...), "prepare")
	out, err := sysbench(ctx, args)
	if err != nil {
		return fmt.Errorf("sysbench prepare: %w\n%s", err, tailLines(out, 15))
	}
	return nil
}

// run executes r against t and parses its output. A non-zero exit, a
// FATAL line or a missing statistics block is an error that carries the
// end of the output; the partial result is returned with it.
func run(ctx context.Context, t sbTarget, r sbRun) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, r.Duration+runSlack)
	defer cancel()
	out, runErr := sysbench(ctx, runArgs(t, r))
	res, perr := parseOutput(out)
	switch {
	case runErr != nil:
		return res, fmt.Errorf("sysbench: %w\n%s", runErr, tailLines(out, 12))
	case perr != nil:
		return res, perr
	case len(res.Fatal) > 0:
		return res, fmt.Errorf("sysbench exited 0 but reported FATAL: %s", res.Fatal[0])
	case !res.complete():
		return res, fmt.Errorf("sysbench printed no statistics\n%s", tailLines(out, 12))
	}
	return res, nil
}

// sysbench runs sysbench with args and returns its combined output.
func sysbench(ctx context.Context, args []string) ([]byte, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "sysbench", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		err = fmt.Errorf("exit status %d", ee.ExitCode())
	}
	return out.Bytes(), err
}

// sysbenchVersion returns `sysbench --version`, e.g. "sysbench 1.0.20".
func sysbenchVersion(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "sysbench", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("sysbench --version: %w (is sysbench installed?)", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// tailLines returns the last n non-blank lines of out, indented.
func tailLines(out []byte, n int) string {
	var lines []string
	for l := range strings.SplitSeq(string(out), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, "    | "+l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
