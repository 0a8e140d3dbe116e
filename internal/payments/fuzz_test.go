package payments

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

// FuzzPay feeds arbitrary agent input (demand, resource URL, idempotency key,
// preferred index) to Pay. Whatever comes in: the answer is a signed header that
// recovers to the agent's key, or a denial, a bad request or a state/idempotency
// error; exactly one audit record is appended; and no reservation is left without
// its signature.
func FuzzPay(f *testing.F) {
	e := newEnv(f)
	ag := e.provision("", "a")[0]
	e.putPolicy(store.LevelAgent, ag.Agent.ID, `version: 1
name: fuzz
limits:
  per_payment: "1"
`)
	good := demandV2(f, requirement("10000"))
	f.Add(2, good, resourceURL, "k1", -1)
	f.Add(2, good, resourceURL, "k1", 0)
	f.Add(2, good, "https://other.example/x", "k1", 0)
	f.Add(2, demandV2(f, requirement("10000"), requirement("5")), resourceURL, "k2", 1)
	f.Add(2, []byte(base64.StdEncoding.EncodeToString([]byte(`{"x402Version":2,"accepts":[]}`))), resourceURL, "k3", -1)
	f.Add(1, []byte(`{"x402Version":1,"accepts":[{"scheme":"exact","network":"base-sepolia","maxAmountRequired":"1","resource":"https://api.example.com/","payTo":"`+payee+`","maxTimeoutSeconds":60,"asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","extra":{"name":"USDC","version":"2"}}]}`), resourceURL, "k4", -1)
	f.Add(2, []byte("%%%"), "ftp://x", "", 3)
	want := common.HexToAddress(ag.Key.Address)
	domain := exact.Domain{Name: sepoliaUSDC.EIP712Name, Version: sepoliaUSDC.EIP712Version, ChainID: 84532, VerifyingContract: sepoliaUSDC.Address}
	f.Fuzz(func(t *testing.T, version int, raw []byte, url, key string, preferred int) {
		e := *e
		e.T = t
		r := PayRequest{Version: version, Raw: raw, ResourceURL: url, IdempotencyKey: key}
		if preferred >= 0 {
			r.Preferred = &preferred
		}
		before := e.auditCount()
		res, err := e.svc.Pay(e.ctx, ag.Agent.ID, r)
		if n := e.auditCount(); n != before+1 {
			t.Fatalf("%d audit records for one request", n-before)
		}
		if err != nil {
			if res != nil {
				t.Fatalf("result and error: %+v, %v", res, err)
			}
			if !errors.Is(err, ErrBadRequest) && !errors.Is(err, ErrDenied) && !errors.Is(err, store.ErrIdempotencyMismatch) && !errors.Is(err, store.ErrState) {
				t.Fatalf("unexpected error class: %v", err)
			}
		} else {
			var auth x402.Authorization
			var sigText string
			switch res.Header {
			case x402.HeaderPaymentSignature:
				p, _, derr := x402.DecodePaymentPayloadV2(res.Value)
				if derr != nil {
					t.Fatal(derr)
				}
				ev, derr := x402.DecodeExactEVMPayload(p.Payload)
				if derr != nil {
					t.Fatal(derr)
				}
				auth, sigText = ev.Authorization, ev.Signature
			case x402.HeaderXPayment:
				p, _, derr := x402.DecodePaymentPayloadV1(res.Value)
				if derr != nil {
					t.Fatal(derr)
				}
				ev, derr := x402.DecodeExactEVMPayload(p.Payload)
				if derr != nil {
					t.Fatal(derr)
				}
				auth, sigText = ev.Authorization, ev.Signature
			default:
				t.Fatalf("header %q", res.Header)
			}
			a, perr := exact.ParseAuthorization(auth)
			if perr != nil {
				t.Fatal(perr)
			}
			sig, perr := exact.DecodeSignature(sigText)
			if perr != nil {
				t.Fatal(perr)
			}
			if got, rerr := exact.RecoverSigner(exact.Hash(domain, a).Digest, sig); rerr != nil || got != want {
				t.Fatalf("signature recovers to %s (%v), want %s", got, rerr, want)
			}
			if !strings.EqualFold(a.To.Hex(), payee) {
				t.Fatalf("pays %s", a.To)
			}
		}
		for _, a := range e.authorizations(ag.Agent.ID) {
			if a.Status != store.AuthSigned || a.Response.Value == "" {
				t.Fatalf("authorization %s left in %s without a header", a.ID, a.Status)
			}
		}
	})
}
