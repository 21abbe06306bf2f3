package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// baseline is the second Courier of a run with --baseline: the revision
// asked for, the commit it names, and the binary built from it.
type baseline struct {
	Rev      string // as given on the command line
	Commit   string // full hash
	Describe string // git describe --always of the commit
	bin      string
}

// worktree is a git worktree the harness added; close removes whatever
// is still registered.
type worktree struct {
	src, dir string
}

// buildBaseline builds ./cmd/courier of revision rev of the repository at
// src: it checks the commit out with `git worktree add --detach` into a
// directory of its own under the work directory, builds there exactly as
// buildCourier builds the working tree, and removes the worktree again
// before returning, also when the build fails or ctx ends (close removes
// it too if that failed). The binary stays in the work directory.
func (e *env) buildBaseline(ctx context.Context, src, rev string, logw io.Writer) (b baseline, err error) {
	b.Rev = rev
	if b.Commit, err = git(ctx, src, "rev-parse", "--verify", "--quiet", rev+"^{commit}"); err != nil {
		return b, fmt.Errorf("--baseline %s: not a commit of %s: %w", rev, src, err)
	}
	b.Describe, _ = git(ctx, src, "describe", "--always", b.Commit)
	dir, err := os.MkdirTemp(e.dir, "baseline-")
	if err != nil {
		return b, err
	}
	wt := worktree{src: src, dir: filepath.Join(dir, "src")}
	e.worktrees = append(e.worktrees, wt)
	// Not cut short by Ctrl-C: a half-made worktree is harder to remove
	// than a finished one, and it takes seconds.
	addCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	_, err = git(addCtx, src, "worktree", "add", "--detach", wt.dir, b.Commit)
	cancel()
	if err != nil {
		_ = e.removeWorktree(wt) // git undoes a failed add itself; this is in case it did not
		e.forget(wt)
		return b, fmt.Errorf("--baseline %s: %w", rev, err)
	}
	defer func() {
		if rerr := e.removeWorktree(wt); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if err := ctx.Err(); err != nil {
		return b, err
	}
	fmt.Fprintf(logw, "bench: building the baseline Courier from %s (%s) in %s\n", rev, b.Describe, wt.dir)
	if b.bin, err = buildCourier(ctx, wt.dir, dir); err != nil {
		return b, fmt.Errorf("--baseline %s: %w", rev, err)
	}
	return b, nil
}

// removeWorktree removes a worktree the harness added (git worktree
// remove --force, which also drops its registration in the repository)
// and forgets it. It runs under its own deadline, so also after Ctrl-C.
func (e *env) removeWorktree(wt worktree) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := git(ctx, wt.src, "worktree", "remove", "--force", wt.dir); err != nil {
		return fmt.Errorf("remove the baseline worktree: %w", err)
	}
	e.forget(wt)
	return nil
}

// forget drops wt from the worktrees close removes.
func (e *env) forget(wt worktree) {
	for i, w := range e.worktrees {
		if w == wt {
			e.worktrees = append(e.worktrees[:i], e.worktrees[i+1:]...)
			return
		}
	}
}

// git runs git in dir and returns its trimmed standard output.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		err = fmt.Errorf("git %s in %s: %w", strings.Join(args, " "), dir, err)
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
