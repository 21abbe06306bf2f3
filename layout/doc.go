// Package layout builds the router's Schema from a validated
// configuration: the clusters (the default one first), the shards' key
// ranges and clusters, and each table's layout with its global indexes.
//
// It is the one place where configuration meets the planner, so that the
// router stays a pure function of statements and a schema snapshot and
// never imports config; the proxy and the command-line tools call it when
// they start.
package layout
