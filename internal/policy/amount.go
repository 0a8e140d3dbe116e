package policy

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// MicroPerUnit is the number of micro-units in one whole unit of an asset's
// reference currency: policy amounts are exact to 1e-6.
const MicroPerUnit = 1_000_000

// maxAmountDigits bounds the integer part of a decimal amount so that the micro-unit
// value and any sum of two of them stay far from int64 overflow.
const maxAmountDigits = 12

// ParseAmount converts a decimal amount in whole units ("0.25", "$0.25", "10") into
// micro-units. At most six decimal places are accepted; signs, exponents, thousands
// separators and surrounding spaces are refused so that an amount means exactly what
// it says.
func ParseAmount(s string) (int64, error) {
	v, err := parseAmount(s)
	if err != nil {
		return 0, fmt.Errorf("policy: %w", err)
	}
	return v, nil
}

func parseAmount(s string) (int64, error) {
	d := strings.TrimPrefix(s, "$")
	if d == "" {
		return 0, fmt.Errorf("%q is not a decimal amount", s)
	}
	if d[0] == '-' {
		return 0, fmt.Errorf("%q: amounts must not be negative", s)
	}
	intPart, frac, hasPoint := strings.Cut(d, ".")
	if intPart == "" || !allDigits(intPart) || (hasPoint && (frac == "" || !allDigits(frac))) {
		return 0, fmt.Errorf("%q is not a decimal amount", s)
	}
	if len(frac) > 6 {
		return 0, fmt.Errorf("%q has more than 6 decimal places", s)
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > maxAmountDigits {
		return 0, fmt.Errorf("%q is too large", s)
	}
	var whole int64
	if intPart != "" {
		// Cannot fail: at most 12 ASCII digits.
		whole, _ = strconv.ParseInt(intPart, 10, 64)
	}
	var micro int64
	if frac != "" {
		f, _ := strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
		micro = f
	}
	return whole*MicroPerUnit + micro, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatAmount renders micro-units as the shortest exact decimal in whole units:
// 250000 → "0.25", 10000000 → "10", 1 → "0.000001".
func FormatAmount(micro int64) string {
	neg := micro < 0
	u := uint64(micro)
	if neg {
		u = uint64(-(micro + 1)) + 1
	}
	whole, frac := u/MicroPerUnit, u%MicroPerUnit
	s := strconv.FormatUint(whole, 10)
	if frac != 0 {
		fs := fmt.Sprintf("%06d", frac)
		s += "." + strings.TrimRight(fs, "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// ErrAmount reports an atomic amount that cannot be converted to micro-units.
var ErrAmount = errors.New("policy: invalid atomic amount")

// AtomicToMicro converts an on-chain atomic amount (a base-10 integer string, as in the
// x402 requirement's "amount") of an asset with the given number of decimals into
// micro-units, rounding UP so that a payment can never slip under a limit by a
// fraction of a micro-unit. The decimals must come from the trusted asset registry,
// never from the paid server.
func AtomicToMicro(atomic string, decimals int) (int64, error) {
	if decimals < 0 || decimals > 77 {
		return 0, fmt.Errorf("%w: decimals %d out of range", ErrAmount, decimals)
	}
	if atomic == "" || len(atomic) > 78 || !allDigits(atomic) {
		return 0, fmt.Errorf("%w: %q is not a non-negative integer", ErrAmount, atomic)
	}
	v, ok := new(big.Int).SetString(atomic, 10)
	if !ok {
		return 0, fmt.Errorf("%w: %q is not a non-negative integer", ErrAmount, atomic)
	}
	if decimals >= 6 {
		div := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals-6)), nil)
		q, r := new(big.Int).QuoRem(v, div, new(big.Int))
		if r.Sign() != 0 {
			q.Add(q, big.NewInt(1))
		}
		v = q
	} else {
		v.Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(6-decimals)), nil))
	}
	if !v.IsInt64() || v.Int64() > math.MaxInt64/4 {
		return 0, fmt.Errorf("%w: %q is too large", ErrAmount, atomic)
	}
	return v.Int64(), nil
}
