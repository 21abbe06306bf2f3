//go:build !race

package proxy_test

// raceDetector reports a test binary built with -race.
const raceDetector = false
