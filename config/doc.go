// Package config turns Courier's YAML file into a typed, validated,
// immutable snapshot: a *Config.
//
// # Where it sits
//
// cmd/courier calls Load once at startup and hands the *Config (or the parts
// each package needs) down to the proxy, the router and the pools. Nothing
// else reads the file, the environment or flags for settings, and this is
// the only package that imports viper: Parse uses its own viper.New(), never
// viper's globals, so two snapshots can be parsed side by side (in tests, or
// while reloading) without touching each other.
//
// # Pipeline
//
// Parse runs four steps and reports every problem it finds at once, joined
// with errors.Join, one per line, each starting with the key path
// ("clusters[1].primary.address: ..."); Load adds the file name in front:
//
//  1. YAML is read into a fresh viper instance.
//  2. Keys that match no field are reported with their full path and a
//     "did you mean" hint, so a typo never silently falls back to a default.
//  3. Values are decoded into the structs (mapstructure tags name the keys).
//     Durations must carry a unit ("10s"); limits.max_packet_size also
//     accepts "64MiB". A value of the wrong type stops here, since
//     validating half-decoded values would only add noise.
//  4. Defaults fill every key the file does not mention, then Validate runs.
//     Presence, not zero, decides: "slow_query: 0", "weight: 0" and
//     "admin: off" keep their meaning.
//
// Validate does no I/O: TLS files and backend reachability are checked by
// the proxy when it starts.
//
// # Concurrency and reload
//
// A *Config is read-only once returned and may be shared by any number of
// goroutines. Reload does not mutate it: the proxy parses a new snapshot and
// swaps it in through an atomic.Pointer[Config]; connections and queries that
// started on the old snapshot finish on it, and the old one is collected once
// nothing refers to it. Pointers returned by Config.Cluster and Config.User
// point into their snapshot and share its lifetime and immutability.
package config
