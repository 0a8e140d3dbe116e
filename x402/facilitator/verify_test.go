package facilitator

import (
	"testing"
)

func TestVerifyAndSettleGoodPayment(t *testing.T) {
	for _, v1 := range []bool{false, true} {
		name := "v2"
		if v1 {
			name = "v1"
		}
		t.Run(name, func(t *testing.T) {
			f := newFac(t, nil)
			fx := newFixture(t)
			want := "eip155:84532"
			if v1 {
				fx.v1()
				want = "base-sepolia"
			}
			req := fx.request(t)
			from, to := fx.from(), fx.to()
			fromBefore, toBefore := balance(t, from), balance(t, to)

			vr, err := f.Verify(testCtx(t), req)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !vr.IsValid || vr.Payer != fx.auth.From {
				t.Fatalf("Verify = %+v, want valid with payer %s", vr, fx.auth.From)
			}
			sr, err := f.Settle(testCtx(t), req)
			if err != nil {
				t.Fatalf("Settle: %v", err)
			}
			if !sr.Success || sr.Network != want || sr.Payer != fx.auth.From || len(sr.Transaction) != 66 {
				t.Fatalf("Settle = %+v", sr)
			}
			r := receipt(t, sr.Transaction)
			if r.Status != 1 || !f.hasTransfer(r, mustPayment(t, f, req)) {
				t.Fatalf("receipt %+v lacks the Transfer log", r)
			}
			if got := new(bigInt).Sub(fromBefore, balance(t, from)); got.Int64() != 10000 {
				t.Errorf("payer balance moved by %s, want 10000", got)
			}
			if got := new(bigInt).Sub(balance(t, to), toBefore); got.Int64() != 10000 {
				t.Errorf("payee balance moved by %s, want 10000", got)
			}
			if !nonceUsed(t, fx) {
				t.Error("authorizationState false after settlement")
			}
		})
	}
}

func mustPayment(t *testing.T, f *Facilitator, req *x402VerifyRequest) *payment {
	t.Helper()
	p, v, err := f.prepare(req)
	if err != nil || v != nil {
		t.Fatalf("prepare: %v %+v", err, v)
	}
	return p
}
