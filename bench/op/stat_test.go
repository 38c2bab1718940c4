package main

import (
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name, stat string
		want       time.Duration
		ok         bool
	}{
		{"plain", "1234 (edgeauth) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 37 0 0 20 0 8 0 100 0 0", 2870 * time.Millisecond, true},
		{"name with blanks and parens", "99 (a ) b) R 1 2 3 4 5 6 7 8 9 10 3 4 0 0", 70 * time.Millisecond, true},
		{"truncated", "99 (x) R 1 2 3", 0, false},
		{"no name", "99 x R 1 2 3 4 5 6 7 8 9 10 3 4", 0, false},
		{"not a number", "99 (x) R 1 2 3 4 5 6 7 8 9 10 x 4 0", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat([]byte(tc.stat))
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("parseStat = %v, %v; want %v, ok %v", got, err, tc.want, tc.ok)
			}
		})
	}
}
