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
	var admin string
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
			fmt.Printf("client connections: %d\n\n", st.Connections)
			tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "BACKEND\tADDRESS\tHEALTHY\tOPEN\tIDLE\tVERSION\tERROR")
			for _, b := range st.Backends {
				fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%d\t%s\t%s\n", b.Name, b.Addr, b.Healthy, b.Open, b.Idle, b.Version, b.Error)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&admin, "admin", "127.0.0.1:9104", "Courier's admin HTTP address")
	return cmd
}
