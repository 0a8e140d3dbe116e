package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"0", 0, ""},
		{"0.25", 250_000, ""},
		{"$0.25", 250_000, ""},
		{"10", 10_000_000, ""},
		{"10.", 0, "not a decimal amount"},
		{".5", 0, "not a decimal amount"},
		{"0.000001", 1, ""},
		{"0.123456", 123_456, ""},
		{"0.1234567", 0, "more than 6 decimal places"},
		{"007.50", 7_500_000, ""},
		{"999999999999.999999", 999_999_999_999_999_999, ""},
		{"1000000000000", 0, "too large"},
		{"-1", 0, "must not be negative"},
		{"$-1", 0, "must not be negative"},
		{"+1", 0, "not a decimal amount"},
		{"1e3", 0, "not a decimal amount"},
		{"1,000", 0, "not a decimal amount"},
		{" 1", 0, "not a decimal amount"},
		{"abc", 0, "not a decimal amount"},
		{"", 0, "not a decimal amount"},
		{"$", 0, "not a decimal amount"},
		{"$$1", 0, "not a decimal amount"},
		{"0x10", 0, "not a decimal amount"},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseAmount(%q) = %d, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatAmount(t *testing.T) {
	for micro, want := range map[int64]string{
		0: "0", 1: "0.000001", 250_000: "0.25", 10_000_000: "10", 10_500_001: "10.500001", -250_000: "-0.25",
	} {
		if got := FormatAmount(micro); got != want {
			t.Errorf("FormatAmount(%d) = %q, want %q", micro, got, want)
		}
		if micro >= 0 {
			back, err := ParseAmount(want)
			if err != nil || back != micro {
				t.Errorf("ParseAmount(FormatAmount(%d)) = %d, %v", micro, back, err)
			}
		}
	}
}

func TestAtomicToMicro(t *testing.T) {
	tests := []struct {
		atomic   string
		decimals int
		want     int64
		bad      bool
	}{
		{"250000", 6, 250_000, false},              // USDC: atomic = micro
		{"1", 6, 1, false},                         //
		{"250000000000000000", 18, 250_000, false}, // 18-decimal token
		{"250000000000000001", 18, 250_001, false}, // a dust wei rounds UP
		{"1", 18, 1, false},                        // any non-zero amount is at least 1 micro
		{"0", 18, 0, false},                        //
		{"25", 2, 250_000, false},                  // 2-decimal token
		{"1", 0, 1_000_000, false},                 //
		{"-1", 6, 0, true},                         //
		{"1.5", 6, 0, true},                        //
		{"", 6, 0, true},                           //
		{"0x10", 6, 0, true},                       //
		{"99999999999999999999999999", 6, 0, true}, // overflows
		{"1", -1, 0, true},                         //
		{strings.Repeat("9", 79), 77, 0, true},     // longer than a uint256
		{"115792089237316195423570985008687907853269984665640564039457584007913129639935", 77, 1_157_921, false}, // 2^256-1 at 77 decimals, rounded up
	}
	for _, tt := range tests {
		got, err := AtomicToMicro(tt.atomic, tt.decimals)
		if tt.bad {
			if err == nil || !errors.Is(err, ErrAmount) {
				t.Errorf("AtomicToMicro(%q, %d) = %d, %v; want ErrAmount", tt.atomic, tt.decimals, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("AtomicToMicro(%q, %d) = %d, %v; want %d", tt.atomic, tt.decimals, got, err, tt.want)
		}
	}
}
