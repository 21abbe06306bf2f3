package sqlerr

import (
	"errors"
	"fmt"
	"testing"
)

func TestStates(t *testing.T) {
	tests := []struct {
		num   uint16
		state string
	}{
		{ErrAccessDenied, "28000"},
		{ErrNotSupported, "42000"},
		{ErrQueryInterrupted, "70100"},
		{ErrTooManyConnections, "08004"},
		{ErrUnknown, "HY000"},
		{ErrHostIsBlocked, "HY000"},
		{ErrUserIsBlocked, "HY000"},
		{ErrNetReadInterrupted, "08S01"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.num), func(t *testing.T) {
			if got := New(tc.num, "x").State; got != tc.state {
				t.Fatalf("state of %d = %s, want %s", tc.num, got, tc.state)
			}
		})
	}
}

func TestFrom(t *testing.T) {
	coded := fmt.Errorf("context: %w", New(ErrNotSupported, "no"))
	e, ok := From(coded)
	if !ok || e.Num != ErrNotSupported {
		t.Fatalf("From(coded) = %v, %v", e, ok)
	}
	plain := errors.New("boom")
	e, ok = From(plain)
	if ok || e.Num != ErrUnknown || !errors.Is(e, plain) {
		t.Fatalf("From(plain) = %v, %v", e, ok)
	}
}
