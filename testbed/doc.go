// Package testbed starts what integration tests need: free loopback ports,
// a local MariaDB topology (localcluster) in the test's temporary
// directory, and an in-process Courier configured for it. It exists so
// that every package's integration tests start real servers the same way
// and stop them when the test ends.
//
// Tests that use it are skipped under -short and when mariadbd is not
// installed (set COURIER_REQUIRE_MARIADB=1 to make that a failure, as CI
// does).
package testbed
