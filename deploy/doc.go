// Package deploy holds what operators run beside Courier: a Grafana
// dashboard (courier-dashboard.json) and Prometheus alert rules
// (courier-alerts.yml) over every metric family Courier exports. It is a
// folder of its own because those files are read by Grafana and
// Prometheus, not by Courier; its test runs a real Prometheus (Debian's
// prometheus package) scraping Courier during a sharded load and
// evaluates every expression of both files.
package deploy
