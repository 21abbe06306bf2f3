package parser

import (
	"slices"
	"testing"
)

func TestFirstWords(t *testing.T) {
	tests := []struct {
		sql  string
		want []string
	}{
		{"GRANT ALL ON *.* TO x", []string{"grant", "all", "on"}},
		{"/* c */ -- x\n  create user u", []string{"create", "user", "u"}},
		{"/*!99999 SELECT */ GRANT ALL", []string{"grant", "all"}},
		{"/*!50000 GRANT */ ALL", []string{"grant", "all"}},
		{"`grant` x", nil},
	}
	for _, tt := range tests {
		got, ok := FirstWords([]byte(tt.sql), 3, 0)
		if !ok || !slices.Equal(got, tt.want) {
			t.Errorf("FirstWords(%q) = %v %v, want %v", tt.sql, got, ok, tt.want)
		}
	}
}
