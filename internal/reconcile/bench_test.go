package reconcile_test

import (
	"testing"
)

// BenchmarkOnce measures a pass over 500 signed, unsettled authorizations on the devnet:
// one paged store read, two Multicall3 eth_calls, the expiry and approval transactions
// (which find nothing) and no event search.
func BenchmarkOnce(b *testing.B) {
	e := newEnv(b)
	for range 500 {
		e.pay("1000")
	}
	if rep := e.once(); rep.Checked != 500 || rep.Changed() {
		b.Fatalf("report %+v", rep)
	}
	for b.Loop() {
		if _, err := e.rec.Once(e.ctx); err != nil {
			b.Fatal(err)
		}
	}
}
