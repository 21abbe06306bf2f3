package main

import (
	"strings"
	"testing"

	"github.com/courier-proxy/courier/config"
)

// TestCourierConfig checks that the configurations the harness writes are
// valid: one cluster with replicas, four shards with sharded tables, and
// four shards with a global index and an admin address.
func TestCourierConfig(t *testing.T) {
	shards := []backendSet{{primary: "127.0.0.1:2"}, {primary: "127.0.0.1:3"}, {primary: "127.0.0.1:4"}, {primary: "127.0.0.1:5"}}
	tests := map[string]struct {
		yaml  string
		check func(*config.Config) bool
	}{
		"replicas": {courierConfig("127.0.0.1:1", "", "u", "p",
			[]backendSet{{primary: "127.0.0.1:2", replicas: []string{"127.0.0.1:3", "127.0.0.1:4"}}}, ""),
			func(c *config.Config) bool { return len(c.Clusters[0].Replicas) == 2 }},
		"sharded": {courierConfig("127.0.0.1:1", "", "u", "p", shards, shardingYAML(4, []string{"sbtest1", "sbtest2"}, "id", "")),
			func(c *config.Config) bool {
				return len(c.Sharding.Tables) == 2 && len(c.Sharding.Tables[0].Indexes) == 0
			}},
		"sharded with replicas": {courierConfig("127.0.0.1:1", "", "u", "p", []backendSet{
			{primary: "127.0.0.1:2", replicas: []string{"127.0.0.1:3"}}, {primary: "127.0.0.1:4", replicas: []string{"127.0.0.1:5"}},
			{primary: "127.0.0.1:6", replicas: []string{"127.0.0.1:7"}}, {primary: "127.0.0.1:8", replicas: []string{"127.0.0.1:9"}},
		}, shardingYAML(4, []string{"sbtest1"}, "id", "")),
			func(c *config.Config) bool {
				return len(c.Clusters) == 4 && len(c.Clusters[3].Replicas) == 1 && c.Clusters[3].Replicas[0].Address == "127.0.0.1:9" &&
					c.Consistency == "causal" && c.Clusters[0].Replication.Reads == "replicas"
			}},
		"indexed": {courierConfig("127.0.0.1:1", "127.0.0.1:9", "u", "p", shards, shardingYAML(4, []string{"orders"}, "order_id", "user_id")),
			func(c *config.Config) bool {
				ix := c.Sharding.Tables[0].Indexes
				return c.Admin == "127.0.0.1:9" && len(ix) == 1 && ix[0].Column == "user_id" &&
					ix[0].Table == indexTable("user_id") && ix[0].Sharded
			}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := config.Parse([]byte(tc.yaml))
			if err != nil {
				t.Fatalf("%v\n%s", err, tc.yaml)
			}
			if c.DefaultCluster != "s0" || c.Users[0].Name != sbUser {
				t.Errorf("default cluster %q, user %q", c.DefaultCluster, c.Users[0].Name)
			}
			if !tc.check(c) {
				t.Errorf("configuration not as written:\n%s\n%+v", tc.yaml, c)
			}
		})
	}
	if y := shardingYAML(4, []string{"sbtest1"}, "id", ""); !strings.Contains(y, `{range: "-40", cluster: s0}`) ||
		!strings.Contains(y, `{range: "c0-", cluster: s3}`) {
		t.Errorf("four even ranges expected:\n%s", y)
	}
}
