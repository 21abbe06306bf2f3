package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/courier-proxy/courier/localcluster"
)

// defaultLocalDir is where `courierctl local` keeps its cluster.
const defaultLocalDir = ".courier/local"

// newLocalCmd returns `courierctl local`, which runs a local MariaDB
// topology (shards × primary + replicas, real GTID replication) for demos,
// tests and benchmarks. See package localcluster.
func newLocalCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Start, inspect and stop a local MariaDB topology for demos and tests",
		Long: "Runs real mariadbd processes on 127.0.0.1: --shards shards, each with one primary\n" +
			"and --replicas replicas replicating with GTID. Data, logs and the state file live\n" +
			"under --dir; the servers keep running after `local up` exits until `local down`.",
	}
	cmd.AddCommand(newLocalUpCmd(), newLocalDownCmd(), newLocalStatusCmd())
	return cmd
}

func newLocalUpCmd() *cobra.Command {
	var spec localcluster.Spec
	cmd := &cobra.Command{
		Use:          "up",
		Short:        "Start the local topology (reuses servers already running in --dir)",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext(cmd)
			defer stop()
			if err := localcluster.EnsureMariaDB(ctx, cmd.ErrOrStderr()); err != nil {
				return err
			}
			c, err := localcluster.Up(ctx, spec, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tROLE\tSHARD\tADDR\tPID")
			for _, inst := range c.Instances {
				fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%d\n", inst.Name, inst.Role, inst.Shard, inst.Addr, inst.PID)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			p := c.Primary(0)
			fmt.Fprintf(cmd.OutOrStdout(), "\nconnect: mariadb -h 127.0.0.1 -P %d -u %s -p\nstop:    courierctl local down --dir %s\n",
				p.Port, c.Spec.User, spec.Dir)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Dir, "dir", defaultLocalDir, "work directory (data dirs, logs, cluster.json)")
	f.IntVar(&spec.Shards, "shards", localcluster.DefaultShards, "number of shards")
	f.IntVar(&spec.Replicas, "replicas", 2, "replicas per shard")
	f.IntVar(&spec.BasePort, "base-port", localcluster.DefaultBasePort, "port of the first instance; the others follow")
	f.StringVar(&spec.User, "user", localcluster.DefaultUser, "application user created on every instance")
	f.StringVar(&spec.Password, "password", localcluster.DefaultPassword, "password of --user")
	f.StringArrayVar(&spec.ExtraArgs, "mariadbd-arg", nil, "extra mariadbd flag for every instance (repeatable)")
	return cmd
}

func newLocalDownCmd() *cobra.Command {
	var dir string
	var purge bool
	cmd := &cobra.Command{
		Use:          "down",
		Short:        "Stop the local topology (--purge also deletes its data)",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext(cmd)
			defer stop()
			c, err := localcluster.Load(dir)
			if errors.Is(err, localcluster.ErrNoCluster) {
				fmt.Fprintf(cmd.OutOrStdout(), "no local cluster in %s\n", dir)
				return nil
			}
			if err != nil {
				return err
			}
			if err := localcluster.Down(ctx, dir, purge); err != nil {
				return err
			}
			what := "stopped"
			if purge {
				what = "stopped and purged"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %d instance(s) in %s\n", what, len(c.Instances), c.Spec.Dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", defaultLocalDir, "work directory of the cluster")
	cmd.Flags().BoolVar(&purge, "purge", false, "also delete data directories, logs and the state file")
	return cmd
}

func newLocalStatusCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:          "status",
		Short:        "Show each instance: process, replication threads, lag, GTID position",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext(cmd)
			defer stop()
			sts, err := localcluster.Status(ctx, dir)
			if err != nil {
				return err
			}
			unhealthy, err := printStatus(cmd.OutOrStdout(), sts)
			if err != nil {
				return err
			}
			if unhealthy > 0 {
				return fmt.Errorf("%d of %d instance(s) not healthy", unhealthy, len(sts))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", defaultLocalDir, "work directory of the cluster")
	return cmd
}

// printStatus writes the status table and counts unhealthy instances (not
// running, or a replica with a stopped thread).
func printStatus(out io.Writer, sts []localcluster.InstanceStatus) (int, error) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tROLE\tADDR\tPID\tRUNNING\tIO\tSQL\tLAG\tGTID\tERROR")
	unhealthy := 0
	for _, st := range sts {
		io, sqlT, lag := "-", "-", "-"
		if st.Role == localcluster.RoleReplica && st.Running {
			io, sqlT, lag = yesNo(st.IORunning), yesNo(st.SQLRunning), "NULL"
			if st.SecondsBehind != nil {
				lag = strconv.FormatInt(*st.SecondsBehind, 10) + "s"
			}
		}
		if !st.Running || (st.Role == localcluster.RoleReplica && !(st.IORunning && st.SQLRunning)) {
			unhealthy++
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n",
			st.Name, st.Role, st.Addr, st.PID, yesNo(st.Running), io, sqlT, lag, dash(st.GTID), st.Err)
	}
	return unhealthy, w.Flush()
}

// signalContext is the command's context, cancelled by Ctrl-C or SIGTERM so
// a half-finished `up` stops the servers it started.
func signalContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
