package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/courier-proxy/courier/proxy"
)

func newStatusCmd() *cobra.Command {
	var admin, output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show a running Courier's connections and backends",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := &http.Client{Timeout: 5 * time.Second}
			resp, err := c.Get("http://" + admin + "/status")
			if err != nil {
				return fmt.Errorf("cannot reach Courier's admin address %s: %w", admin, err)
			}
			defer resp.Body.Close()
			var st proxy.Status
			if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
				return fmt.Errorf("bad /status answer from %s: %w", admin, err)
			}
			if output == "json" {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(st)
			}
			fmt.Printf("client connections: %d (%d logging in, %d waiting)\n\n", st.Connections, st.Unauthenticated, st.Waiting)
			tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "BACKEND\tROLE\tADDRESS\tSERVING\tSHARE\tLAG\tQUERIES\tERRORS\tIN FLIGHT\tOPEN\tIDLE\tPROBLEM")
			for _, b := range st.Backends {
				share, lag := "-", "-"
				if b.Role == "replica" {
					share = fmt.Sprintf("%.0f%%", 100*b.Share)
					if b.LagSeconds >= 0 {
						lag = fmt.Sprintf("%.3fs", b.LagSeconds)
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", b.Name, b.Role, b.Addr,
					b.InRotation, share, lag, b.Queries, b.Errors, b.InFlight, b.Open, b.Idle, b.Error)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&admin, "admin", "127.0.0.1:9104", "Courier's admin HTTP address")
	cmd.Flags().StringVar(&output, "output", "table", "table or json")
	return cmd
}
