// Package deploy holds what operators run beside Courier: a Grafana
// dashboard (courier-dashboard.json) and Prometheus alert rules
// (courier-alerts.yml) over every metric family Courier exports, and a
// compose file (compose/) for two MariaDB shards with replicas and
// Courier. It is a folder of its own because those files are read by
// Grafana, Prometheus and Docker, not by Courier; its tests run a real
// Prometheus (Debian's prometheus package) scraping Courier during a
// sharded load and evaluate every expression of both files, and check
// the compose file against the configuration it mounts.
package deploy
