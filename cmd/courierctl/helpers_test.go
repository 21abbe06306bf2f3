package main

import (
	"bytes"
	"strings"
	"testing"
)

// runCtl runs courierctl with args and returns what it printed (stdout,
// then stderr, then the error it returned) and its exit status.
func runCtl(args ...string) (string, int) {
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	code := 0
	if err := root.Execute(); err != nil {
		code = exitCode(err)
		out.WriteString("error: " + err.Error() + "\n")
	}
	return out.String() + errOut.String(), code
}

// expectOutput checks a run's exit status and that its output holds
// every string of want.
func expectOutput(t *testing.T, out string, code, wantCode int, want ...string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("exit %d, want %d; output:\n%s", code, wantCode, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}
