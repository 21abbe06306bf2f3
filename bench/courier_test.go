package main

import (
	"strings"
	"testing"

	"github.com/courier-proxy/courier/config"
)

// TestCourierConfig checks that the configurations the harness writes are
// valid: one cluster with replicas, and four shards with sharded tables.
func TestCourierConfig(t *testing.T) {
	tests := map[string]string{
		"replicas": courierConfig("127.0.0.1:1", "u", "p",
			[]backendSet{{primary: "127.0.0.1:2", replicas: []string{"127.0.0.1:3", "127.0.0.1:4"}}}, ""),
		"sharded": courierConfig("127.0.0.1:1", "u", "p",
			[]backendSet{{primary: "127.0.0.1:2"}, {primary: "127.0.0.1:3"}, {primary: "127.0.0.1:4"}, {primary: "127.0.0.1:5"}},
			shardingYAML(4, []string{"sbtest1", "sbtest2"}, "id")),
	}
	for name, yaml := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := config.Parse([]byte(yaml))
			if err != nil {
				t.Fatalf("%v\n%s", err, yaml)
			}
			if c.DefaultCluster != "s0" || c.Users[0].Name != sbUser {
				t.Errorf("default cluster %q, user %q", c.DefaultCluster, c.Users[0].Name)
			}
		})
	}
	if y := shardingYAML(4, []string{"sbtest1"}, "id"); !strings.Contains(y, `{range: "-40", cluster: s0}`) ||
		!strings.Contains(y, `{range: "c0-", cluster: s3}`) {
		t.Errorf("four even ranges expected:\n%s", y)
	}
}
