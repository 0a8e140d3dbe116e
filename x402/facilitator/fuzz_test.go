package facilitator

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// FuzzHandler feeds arbitrary bodies to /verify and /settle of a facilitator on a scripted
// chain (no code anywhere, calls fail): never a panic, always one of the documented statuses,
// always a JSON answer of the right shape, never a transaction.
func FuzzHandler(f *testing.F) {
	key, err := crypto.HexToECDSA(testKeyHex)
	if err != nil {
		f.Fatal(err)
	}
	token := common.HexToAddress("0xe78A0F7E598Cc8b0Bb87894B0F60dD2a88d6a8Ab")
	good, err := json.Marshal(newFixtureWith(f, key, token, "TestUSD", "2").request(f))
	if err != nil {
		f.Fatal(err)
	}
	v1, _ := json.Marshal(newFixtureWith(f, key, token, "TestUSD", "2").v1().request(f))
	for _, seed := range [][]byte{
		good, v1, []byte(`{}`), []byte(`null`), []byte(`[]`), []byte(`{"paymentPayload":{"x402Version":2},"paymentRequirements":{}}`),
		[]byte(`{"paymentPayload":{"x402Version":1,"payload":{"authorization":{}}},"paymentRequirements":{"scheme":"exact","network":"base-sepolia"}}`),
		[]byte(`{"paymentPayload":{"x402Version":2,"accepted":{"scheme":"exact","network":"eip155:84532"},"payload":{"signature":"0x","authorization":{"from":"0x0000000000000000000000000000000000000001"}}},"paymentRequirements":{"scheme":"exact","network":"eip155:84532","extra":{"name":"a","version":"b"}}}`),
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	b := &fakeBackend{chainID: 84532}
	k, err := NewRelayerKey([]byte(testKeyHex))
	if err != nil {
		f.Fatal(err)
	}
	fac, err := New(context.Background(), Config{Relayer: k, Chains: []Chain{{ChainID: 84532, Backend: b}}})
	if err != nil {
		f.Fatal(err)
	}
	h := fac.Handler()
	f.Fuzz(func(t *testing.T, body []byte, settle bool) {
		path := "/verify"
		if settle {
			path = "/settle"
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
		var out map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("status %d, body %q is not a JSON object", rec.Code, rec.Body.Bytes())
		}
		switch rec.Code {
		case http.StatusOK:
			field := "isValid"
			if settle {
				field = "success"
			}
			if string(out[field]) != "false" {
				t.Fatalf("200 with %s = %s on a chain where nothing can be valid", field, out[field])
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusInternalServerError:
			if _, ok := out["error"]; !ok {
				t.Fatalf("status %d without error: %s", rec.Code, rec.Body.Bytes())
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
		if len(b.sent) != 0 {
			t.Fatal("a transaction was sent")
		}
	})
}
