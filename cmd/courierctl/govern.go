package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/courier-proxy/courier/proxy"
)

// adminFlags are a running Courier's admin address and token.
type adminFlags struct{ addr, token string }

func (a *adminFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&a.addr, "admin", "127.0.0.1:9104", "Courier's admin HTTP address")
	cmd.Flags().StringVar(&a.token, "admin-token", os.Getenv("COURIER_ADMIN_TOKEN"), "its admin_token (default $COURIER_ADMIN_TOKEN)")
}

// call makes an admin call and decodes its JSON answer into out; an
// answer {"error": ...} is the error.
func (a *adminFlags) call(method, path string, out any) error {
	req, err := http.NewRequest(method, "http://"+a.addr+path, nil)
	if err != nil {
		return err
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach Courier's admin address %s: %w", a.addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s", e.Error)
		}
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return json.Unmarshal(body, out)
}

func newTopCmd() *cobra.Command {
	var a adminFlags
	var by, output string
	var limit int
	var once bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "top",
		Short: "Show a running Courier's statement shapes, the costliest first, refreshed until interrupted",
		Long: "Shows the statement shapes (values replaced by ?) a running Courier served, by user,\n" +
			"with their count, errors, rows, shards reached per statement, total, average and p99\n" +
			"latency, sorted by --by; refreshed every --interval until interrupted (--once: one table).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			out := cmd.OutOrStdout()
			for first := true; ; first = false {
				var ds []proxy.DigestStatus
				if err := a.call("GET", fmt.Sprintf("/digests?top=%d&by=%s", limit, url.QueryEscape(by)), &ds); err != nil {
					return err
				}
				if output == "json" {
					return json.NewEncoder(out).Encode(ds)
				}
				if !once && !first {
					fmt.Fprint(out, "\033[H\033[2J") // clear the terminal
				}
				printDigests(out, ds, by)
				if once {
					return nil
				}
				select {
				case <-cmd.Context().Done():
					return nil
				case <-time.After(interval):
				}
			}
		},
	}
	a.add(cmd)
	fl := cmd.Flags()
	fl.StringVar(&by, "by", "total", "order: total (time), count, errors or p99")
	fl.IntVar(&limit, "limit", 20, "shapes shown")
	fl.BoolVar(&once, "once", false, "print one table and exit")
	fl.DurationVar(&interval, "interval", 2*time.Second, "refresh period")
	fl.StringVar(&output, "output", "table", "table or json (json implies --once)")
	return cmd
}

func printDigests(w io.Writer, ds []proxy.DigestStatus, by string) {
	fmt.Fprintf(w, "%s  top %d statement shapes by %s\n\n", time.Now().Format("15:04:05"), len(ds), by)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COUNT\tERRORS\tROWS\tSHARDS\tTOTAL ms\tAVG ms\tP99 ms\tUSER\tCLASS\tSHAPE")
	for _, d := range ds {
		shape := strings.Join(strings.Fields(d.Digest), " ")
		if len(shape) > 100 {
			shape = shape[:97] + "..."
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%.1f\t%.1f\t%.2f\t%.2f\t%s\t%s\t%s\n", d.Count, d.Errors, d.Rows, d.Shards, d.Total, d.Avg, d.P99,
			d.User, orDash(d.Class), shape)
	}
	_ = tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newReadOnlyCmd() *cobra.Command {
	var a adminFlags
	var cluster string
	cmd := &cobra.Command{
		Use:   "readonly on|off|status",
		Short: "Refuse writes (error 1290) on a running Courier, or one of its clusters, while reads go on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			var st proxy.ReadOnlyStatus
			var err error
			switch args[0] {
			case "on", "off":
				q := url.Values{"on": {fmt.Sprint(args[0] == "on")}}
				if cluster != "" {
					q.Set("cluster", cluster)
				}
				err = a.call("POST", "/readonly?"+q.Encode(), &st)
			case "status":
				err = a.call("GET", "/readonly", &st)
			default:
				return fmt.Errorf("%q: say on, off or status", args[0])
			}
			if err != nil {
				return err
			}
			switch {
			case st.All:
				fmt.Fprintln(cmd.OutOrStdout(), "read-only: the whole instance")
			case len(st.Clusters) > 0:
				fmt.Fprintln(cmd.OutOrStdout(), "read-only clusters:", strings.Join(st.Clusters, ", "))
			default:
				fmt.Fprintln(cmd.OutOrStdout(), "read-write")
			}
			return nil
		},
	}
	a.add(cmd)
	cmd.Flags().StringVar(&cluster, "cluster", "", "one cluster (default: the whole instance)")
	return cmd
}

func newClassesCmd() *cobra.Command {
	var a adminFlags
	var output string
	cmd := &cobra.Command{
		Use:   "classes",
		Short: "Show a running Courier's classes of traffic: their limits and what they use now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			var cs []proxy.ClassStatus
			if err := a.call("GET", "/classes", &cs); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				return json.NewEncoder(out).Encode(cs)
			}
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CLASS\tRUNNING\tWAITING\tMAX\tQUEUE\tQUEUE TIMEOUT\tSHED ABOVE\tPOOL RESERVED\tPOOL MAX\tCONSOLIDATE")
			for _, c := range cs {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%d\t%.0f%%\t%.0f%%\t%v\n", c.Name, c.Running, c.Waiting, c.MaxConcurrency, c.Queue,
					c.QueueTimeout, c.ShedAbove, 100*c.PoolReserved, 100*c.PoolMax, c.Consolidate)
			}
			return tw.Flush()
		},
	}
	a.add(cmd)
	cmd.Flags().StringVar(&output, "output", "table", "table or json")
	return cmd
}

func newReplicaCmd() *cobra.Command {
	var a adminFlags
	var weight int
	cmd := &cobra.Command{
		Use:   "replica NAME --weight N",
		Short: "Re-weight a replica of a running Courier; weight 0 drains it (no new reads) until raised or reloaded",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			var ok map[string]any
			q := url.Values{"name": {args[0]}, "weight": {fmt.Sprint(weight)}}
			if err := a.call("POST", "/replicas/weight?"+q.Encode(), &ok); err != nil {
				return err
			}
			if weight == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%s drained: it takes no new reads\n", args[0])
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "%s weighs %d\n", args[0], weight)
			}
			return nil
		},
	}
	a.add(cmd)
	cmd.Flags().IntVar(&weight, "weight", -1, "read weight (0 drains the replica)")
	_ = cmd.MarkFlagRequired("weight")
	return cmd
}

func newHealthCmd() *cobra.Command {
	var addr string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Exit 0 when a running Courier's /healthz answers ok (a container's health check)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			resp, err := (&http.Client{Timeout: timeout}).Get("http://" + addr + "/healthz")
			if err != nil {
				return fmt.Errorf("cannot reach Courier's admin address %s: %w", addr, err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("not healthy: %s", strings.TrimSpace(string(body)))
			}
			fmt.Fprint(cmd.OutOrStdout(), string(body))
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "admin", "127.0.0.1:9104", "Courier's admin HTTP address")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	return cmd
}

func newReloadCmd() *cobra.Command {
	var a adminFlags
	cmd := &cobra.Command{
		Use:   "reload",
		Short: "Make a running Courier read its configuration file again (as SIGHUP does)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			var ok map[string]bool
			if err := a.call("POST", "/config/reload", &ok); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "reloaded")
			return nil
		},
	}
	a.add(cmd)
	return cmd
}
