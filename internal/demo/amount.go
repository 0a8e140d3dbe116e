package demo

import (
	"fmt"
	"math/big"
	"strings"
)

// atomicAmount converts a decimal amount in whole tokens ("0.001") to atomic units
// of a token with the given decimals. It accepts only plain decimals with at
// most that many fractional digits.
func atomicAmount(s string, decimals uint8) (*big.Int, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && frac == "") || len(frac) > int(decimals) || !digits(whole) || (frac != "" && !digits(frac)) || strings.Count(s, ".") > 1 {
		return nil, fmt.Errorf("%q is not a decimal amount with at most %d decimals", s, decimals)
	}
	v, ok := new(big.Int).SetString(whole+frac+strings.Repeat("0", int(decimals)-len(frac)), 10)
	if !ok {
		return nil, fmt.Errorf("%q is not a decimal amount", s)
	}
	return v, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// FormatAmount renders an atomic amount of a token with the given decimals in
// whole tokens, without trailing zeros ("0.001", "12.5", "3"). Nil is "0".
func FormatAmount(v *big.Int, decimals uint8) string {
	if v == nil {
		return "0"
	}
	neg := v.Sign() < 0
	s := new(big.Int).Abs(v).String()
	d := int(decimals)
	if len(s) <= d {
		s = strings.Repeat("0", d-len(s)+1) + s
	}
	whole, frac := s[:len(s)-d], strings.TrimRight(s[len(s)-d:], "0")
	out := whole
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}
