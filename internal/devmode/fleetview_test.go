package devmode

import (
	"math/big"
	"strings"
	"testing"
)

func TestFleetLines(t *testing.T) {
	for _, c := range []struct {
		name string
		s    fleetStats
		want []string
	}{
		{"empty", fleetStats{}, []string{
			"fleet     0 signed, 0 · 0 settled · 0 awaiting approval · 0 failed",
			"          0 denied",
		}},
		{"busy", fleetStats{
			Signed: 64, Amount: map[string]*big.Int{"TUSD": big.NewInt(1_011_000), "USDC": big.NewInt(5)},
			Denied: map[string]int{"rate_limited": 24, "domain_mismatch": 3, "amount_above_per_payment_limit": 3,
				"pay_to_not_allowed": 2, "agent_inactive": 1},
			Failed: 1, Pending: 2, Settled: 60,
		}, []string{
			"fleet     64 signed, 1.011 TUSD + 0.000005 USDC · 60 settled · 2 awaiting approval · 1 failed",
			"          33 denied: rate_limited 24, amount_above_per_payment_limit 3, domain_mismatch 3, pay_to_not_allowed 2, +1 more",
		}},
	} {
		got := fleetLines(c.s)
		if len(got) != FleetLines || strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n%s\nwant:\n%s", c.name, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
}
