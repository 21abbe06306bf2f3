package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// rwPointScript is the sysbench script of the rw_point workload.
//
//go:embed rw_point.lua
var rwPointScript []byte

// writeScripts writes the Lua scripts of the harness's own workloads
// among workloads into dir and returns them by workload name.
func writeScripts(dir string, workloads []string) (map[string]sbScript, error) {
	scripts := map[string]sbScript{}
	if slices.Contains(workloads, rwPointWorkload) {
		path := filepath.Join(dir, "rw_point.lua")
		if err := os.WriteFile(path, rwPointScript, 0o644); err != nil {
			return nil, err
		}
		scripts[rwPointWorkload] = sbScript{Path: path}
	}
	return scripts, nil
}

// commandEnv, when set (scripts/bench.sh sets it), is the command line shown
// in the report instead of this binary's own arguments.
const commandEnv = "COURIER_BENCH_COMMAND"

func main() {
	os.Exit(mainCode())
}

// mainCode runs the harness (with the first argument "scatter", the
// scatter mode; with the hidden first argument "relay", the relay
// subprocess) and returns the exit status.
func mainCode() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == relayMode {
		if err := runRelay(ctx, os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	command := os.Getenv(commandEnv)
	if command == "" {
		command = shellJoin(os.Args)
	}
	var run func() error
	if len(os.Args) > 1 && os.Args[1] == scatterMode {
		o, err := parseScatterFlags(os.Args[2:], os.Stderr)
		if code, done := flagsFailed(err); done {
			return code
		}
		run = func() error { return scatterBench(ctx, o, command, os.Stdout, os.Stderr) }
	} else {
		o, err := parseFlags(os.Args[1:], os.Stderr)
		if code, done := flagsFailed(err); done {
			return code
		}
		run = func() error { return bench(ctx, o, command, os.Stdout, os.Stderr) }
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		if ctx.Err() != nil {
			return 130
		}
		return 1
	}
	return 0
}

// flagsFailed turns a flag parsing error into an exit status: 0 after
// -h, 2 for bad flags. done is false when parsing succeeded.
func flagsFailed(err error) (code int, done bool) {
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2, true
	}
	return 0, false
}

// bench runs the whole benchmark: environment, prepare, warmup, the
// matrix, the report. It returns an error if anything failed or a Courier
// run counted errors, after printing whatever was measured.
func bench(ctx context.Context, o options, command string, stdout, logw io.Writer) (err error) {
	sbVersion, err := sysbenchVersion(ctx)
	if err != nil {
		return err
	}
	h := newHeader(ctx, o, command)
	h.Sysbench = sbVersion
	h.ClkTck, h.ClkTckAssumed = clockTicks(ctx)
	if h.ClkTckAssumed {
		fmt.Fprintf(logw, "bench: `getconf CLK_TCK` failed; assuming %d ticks/s for /proc CPU times\n", h.ClkTck)
	}
	fmt.Fprintf(logw, "bench: %d measured runs of %s each (about %s plus setup)\n",
		o.runs(), o.Duration, (time.Duration(o.runs())*(o.Duration+time.Second) + time.Duration(len(o.Subjects))*o.Warmup).Round(time.Second))

	e := &env{}
	defer e.close(o.Keep, logw)
	if err := e.setup(ctx, o, logw); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if e.base != nil {
		h.Baseline = fmt.Sprintf("%s = %s (%s)", e.base.Rev, e.base.Commit, e.base.Describe)
	}
	r := &runner{env: e, opts: o, hz: h.ClkTck, logw: logw}
	if r.scripts, err = writeScripts(e.dir, o.Workloads); err != nil {
		return err
	}
	if slices.ContainsFunc(o.Subjects, func(s string) bool { return !isSharded(s) }) {
		fmt.Fprintf(logw, "bench: sysbench prepare (%d tables × %d rows) directly on MariaDB\n", o.Tables, o.TableSize)
		if err := prepare(ctx, r.target(subjectDirect)); err != nil {
			return err
		}
	}
	if l := loader(o.Subjects); l != "" {
		fmt.Fprintf(logw, "bench: sysbench prepare (%d tables × %d rows) through %s\n", o.Tables, o.TableSize, l)
		if err := prepareSharded(ctx, r.target(l)); err != nil {
			return fmt.Errorf("%s: %w", l, err)
		}
	}
	if err := e.waitReplicas(ctx, logw); err != nil {
		return err
	}
	if err := e.check(ctx, o.Subjects, o.TableSize, logw); err != nil {
		return err
	}
	if h.Mariadbd, err = e.serverVersion(ctx); err != nil {
		return err
	}
	r.warmup(ctx)
	results, runErr := r.matrix(ctx)
	h.End, h.LoadEnd = time.Now(), loadavg()

	var md bytes.Buffer
	writeTables(&md, results, o.Subjects, o.Rounds)
	ps := problems(results)
	writeProblems(&md, ps)
	if _, err := stdout.Write(md.Bytes()); err != nil {
		return err
	}
	if err := writeReport(o.Out, h.write, md.Bytes(), logw); err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("interrupted: %w (the tables hold the runs finished before)", runErr)
	}
	return verdict(ps, e, logw)
}

// verdict fails the benchmark loudly if any run failed or any Courier run
// counted errors, showing the end of Courier's log.
func verdict(ps []problem, e *env, logw io.Writer) error {
	var fatal []string
	for _, p := range ps {
		if p.Fatal {
			fatal = append(fatal, p.Text)
		}
	}
	if len(fatal) == 0 {
		return nil
	}
	bar := strings.Repeat("!", 72)
	fmt.Fprintf(logw, "\n%s\nbench: %d FAILED run(s) or run(s) with Courier errors:\n", bar, len(fatal))
	for _, t := range fatal {
		fmt.Fprintf(logw, "  - %s\n", t)
	}
	for _, c := range e.children {
		if isCourier(c.name) {
			out, _ := os.ReadFile(c.log)
			fmt.Fprintf(logw, "end of %s's log (%s):\n%s\n", c.name, c.log, tailLines(out, 30))
		}
	}
	fmt.Fprintln(logw, bar)
	return fmt.Errorf("%d run(s) failed or counted Courier errors (see above)", len(fatal))
}

// shellJoin quotes args for display as one shell command line.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// writeReport writes the report (header, then the tables md) to out,
// when out is set.
func writeReport(out string, header func(io.Writer), md []byte, logw io.Writer) error {
	if out == "" {
		return nil
	}
	var doc bytes.Buffer
	header(&doc)
	doc.Write(md)
	if err := os.WriteFile(out, doc.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(logw, "bench: report written to %s\n", out)
	return nil
}
