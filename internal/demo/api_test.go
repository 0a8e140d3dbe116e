package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/chain/devnet"
	"github.com/fleetkey/fleetkey/x402"
	"github.com/fleetkey/fleetkey/x402/exact"
)

func offlineConfig(chainID uint64) Config {
	return Config{
		ChainID: chainID,
		Token: devnet.TokenInfo{Address: common.HexToAddress("0xe78A0F7E598Cc8b0Bb87894B0F60dD2a88d6a8Ab"),
			Name: "TestUSD", Version: "2", Symbol: "TUSD", Decimals: 6},
		Merchant: common.HexToAddress("0x1111111111111111111111111111111111111111"),
		// Never contacted by these tests.
		FacilitatorURL: "http://127.0.0.1:1",
	}
}

func fetchCatalog(t *testing.T, h http.Handler) Catalog {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/catalog", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /catalog: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	var c Catalog
	if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCatalogListsEveryKind: GET /catalog lists every endpoint the API serves,
// with every kind present, prices matching atomic amounts, and the v1
// endpoint only on a chain with a v1 name.
func TestCatalogListsEveryKind(t *testing.T) {
	for _, tc := range []struct {
		chainID uint64
		v1      bool
	}{{84532, true}, {1337, false}} {
		api, err := NewPaidAPI(offlineConfig(tc.chainID))
		if err != nil {
			t.Fatal(err)
		}
		c := fetchCatalog(t, api)
		if c.Network != x402.EVMNetwork(tc.chainID) || c.Asset != "0xe78A0F7E598Cc8b0Bb87894B0F60dD2a88d6a8Ab" || c.Symbol != "TUSD" {
			t.Errorf("chain %d: catalog header %+v", tc.chainID, c)
		}
		if !slices.EqualFunc(c.Endpoints, api.Endpoints(), func(a, b Endpoint) bool { a.Weight, b.Weight = 0, 0; return a == b }) {
			t.Errorf("chain %d: catalog %+v differs from Endpoints %+v", tc.chainID, c.Endpoints, api.Endpoints())
		}
		kinds := map[Kind]int{}
		hasV1 := false
		for _, e := range c.Endpoints {
			kinds[e.Kind]++
			hasV1 = hasV1 || e.Version == x402.V1
			want, err := atomicAmount(e.Price, 6)
			if err != nil || want.String() != e.Amount {
				t.Errorf("%s: price %s but amount %s", e.Path, e.Price, e.Amount)
			}
			if e.Method != http.MethodGet || !strings.HasPrefix(e.Path, "/") || e.Description == "" {
				t.Errorf("endpoint %+v", e)
			}
		}
		for _, k := range Kinds() {
			if kinds[k] == 0 {
				t.Errorf("chain %d: no %s endpoint in the catalog", tc.chainID, k)
			}
		}
		if hasV1 != tc.v1 {
			t.Errorf("chain %d: v1 endpoint listed = %v, want %v", tc.chainID, hasV1, tc.v1)
		}
		// Without Config.Foreign, the foreign payee is ForeignPayee.
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/hostile/foreign-payto", nil))
		pr, err := x402.DecodePaymentRequired(rec.Header().Get(x402.HeaderPaymentRequired))
		if err != nil || pr.Accepts[0].PayTo != ForeignPayee.Hex() {
			t.Errorf("chain %d: foreign_payto demand %+v, %v", tc.chainID, pr, err)
		}
		rec = httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/quotes", nil))
		if want := map[bool]int{true: http.StatusPaymentRequired, false: http.StatusNotFound}[tc.v1]; rec.Code != want {
			t.Errorf("chain %d: GET /quotes: %d, want %d", tc.chainID, rec.Code, want)
		}
	}
}

// TestConfigValidate: every bad field is reported, all at once.
func TestConfigValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		mod  func(*Config)
		want []string
	}{
		"chain":       {func(c *Config) { c.ChainID = 0 }, []string{"chain id is 0"}},
		"token":       {func(c *Config) { c.Token.Address = common.Address{} }, []string{"token address is zero"}},
		"domain":      {func(c *Config) { c.Token.Version = "" }, []string{"EIP-712 name or version"}},
		"decimals":    {func(c *Config) { c.Token.Decimals = 37 }, []string{"decimals 37"}},
		"merchant":    {func(c *Config) { c.Merchant = common.Address{} }, []string{"merchant address is zero"}},
		"foreign":     {func(c *Config) { c.Foreign = c.Merchant }, []string{"foreign payee is the merchant"}},
		"default fgn": {func(c *Config) { c.Merchant = ForeignPayee }, []string{"foreign payee is the merchant"}},
		"no fac":      {func(c *Config) { c.FacilitatorURL = "" }, []string{"no facilitator"}},
		"two facs":    {func(c *Config) { c.Facilitator = testFac }, []string{"both Facilitator and FacilitatorURL"}},
		"bad url":     {func(c *Config) { c.FacilitatorURL = "ftp://x" }, []string{"not an http(s) url"}},
		"several": {func(c *Config) { c.ChainID, c.Merchant = 0, common.Address{} },
			[]string{"chain id is 0", "merchant address is zero"}},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := offlineConfig(84532)
			tc.mod(&cfg)
			_, err := NewPaidAPI(cfg)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	cfg := offlineConfig(84532)
	if err := cfg.Validate(); err != nil {
		t.Errorf("good config: %v", err)
	}
}

// TestHonestEndpointsPayAndSettle: every normal endpoint, v2 and v1, is paid
// by a local-key payer, settled on the devnet through the facilitator, and
// the tokens move from the payer to the merchant.
func TestHonestEndpointsPayAndSettle(t *testing.T) {
	api := newTestAPI(t)
	payer := exact.NewLocalKeyPayer(devKey(t, 1))
	t.Cleanup(payer.Destroy)
	client := x402.NewClient(payer)
	n := 0
	for _, e := range api.Endpoints() {
		if e.Kind != KindNormal {
			continue
		}
		n++
		t.Run(e.Path, func(t *testing.T) {
			merchantBefore, payerBefore := balance(t, api.merchant), balance(t, payer.Address())
			resp := get(t, client, api.url+e.Path)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !json.Valid(body) {
				t.Fatalf("status %d, body %s", resp.StatusCode, body)
			}
			res := x402.ResultFromResponse(resp)
			if res == nil || res.Payment == nil || res.Err != nil || res.Request.Version != e.Version {
				t.Fatalf("result %+v", res)
			}
			s := res.Settlement
			if s == nil || !s.Success || s.Transaction == "" || !strings.EqualFold(s.Payer, payer.Address().Hex()) {
				t.Fatalf("settlement %+v", s)
			}
			want, _ := new(big.Int).SetString(e.Amount, 10)
			if got := new(big.Int).Sub(balance(t, api.merchant), merchantBefore); got.Cmp(want) != 0 {
				t.Errorf("merchant received %s, want %s", got, want)
			}
			if got := new(big.Int).Sub(payerBefore, balance(t, payer.Address())); got.Cmp(want) != 0 {
				t.Errorf("payer paid %s, want %s", got, want)
			}
		})
	}
	if n < 3 {
		t.Errorf("only %d normal endpoints", n)
	}
}

// demand fetches an endpoint without paying and returns its 402's only
// requirement, in v2 field names.
func demand(t *testing.T, api *testAPI, path string) (*x402.PaymentRequiredV2, x402.PaymentRequirementsV2) {
	t.Helper()
	resp := get(t, http.DefaultClient, api.url+path)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("GET %s: status %d", path, resp.StatusCode)
	}
	pr, err := x402.DecodePaymentRequired(resp.Header.Get(x402.HeaderPaymentRequired))
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Accepts) != 1 {
		t.Fatalf("GET %s: %d requirements", path, len(pr.Accepts))
	}
	return pr, pr.Accepts[0]
}

// TestHostileDemands: each hostile 402 carries exactly its attack, and
// nothing else differs from an honest demand.
func TestHostileDemands(t *testing.T) {
	api := newTestAPI(t)
	tok := testNet.Token()
	_, honest := demand(t, api, api.endpoint(t, KindNormal).Path)
	if name, _ := honest.ExtraString("name"); name != tok.Name || honest.PayTo != api.merchant.Hex() || honest.Asset != tok.Address.Hex() {
		t.Fatalf("honest demand %+v", honest)
	}
	same := func(t *testing.T, r x402.PaymentRequirementsV2, amount, payTo, name string) {
		t.Helper()
		gotName, _ := r.ExtraString("name")
		gotVersion, _ := r.ExtraString("version")
		if r.Network != testNet.Network() || r.Asset != tok.Address.Hex() || r.Amount != amount || r.PayTo != payTo ||
			gotName != name || gotVersion != tok.Version {
			t.Errorf("requirement %+v (extra %s), want amount %s payTo %s name %s", r, r.Extra, amount, payTo, name)
		}
	}

	ep := api.endpoint(t, KindOvercharge)
	_, r := demand(t, api, ep.Path)
	advertised, _ := new(big.Int).SetString(ep.Amount, 10)
	same(t, r, new(big.Int).Mul(advertised, big.NewInt(OverchargeFactor)).String(), api.merchant.Hex(), tok.Name)

	_, r = demand(t, api, api.endpoint(t, KindForeignPayTo).Path)
	same(t, r, api.endpoint(t, KindForeignPayTo).Amount, api.foreign.Hex(), tok.Name)

	pr, r := demand(t, api, api.endpoint(t, KindWrongDomain).Path)
	same(t, r, api.endpoint(t, KindWrongDomain).Amount, api.merchant.Hex(), WrongDomainName)
	if pr.Resource.URL != api.url+api.endpoint(t, KindWrongDomain).Path {
		t.Errorf("resource %q", pr.Resource.URL)
	}

	pr, r = demand(t, api, api.endpoint(t, KindRepeat402).Path)
	same(t, r, api.endpoint(t, KindRepeat402).Amount, api.merchant.Hex(), tok.Name)
	if pr.Error != "Payment required" || pr.Resource.URL != api.url+api.endpoint(t, KindRepeat402).Path {
		t.Errorf("repeat_402 demand %+v", pr)
	}
}

// TestRepeat402DoesNotSettle: the repeat_402 endpoint answers 402 to a valid
// payment; the client does not pay again, and the authorization is never
// used on chain.
func TestRepeat402DoesNotSettle(t *testing.T) {
	api := newTestAPI(t)
	payer := exact.NewLocalKeyPayer(devKey(t, 2))
	t.Cleanup(payer.Destroy)
	var pays int
	client := x402.NewClient(countingPayer{payer, &pays})
	merchantBefore, payerBefore := balance(t, api.merchant), balance(t, payer.Address())

	resp := get(t, client, api.url+api.endpoint(t, KindRepeat402).Path)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("status %d", resp.StatusCode)
	}
	res := x402.ResultFromResponse(resp)
	if res == nil || res.Payment == nil || !errors.Is(res.Err, x402.ErrPaymentRejected) || res.Settlement != nil {
		t.Fatalf("result %+v", res)
	}
	if pays != 1 {
		t.Errorf("payer asked %d times", pays)
	}
	// The payment was valid: the facilitator would accept it now.
	payload, raw, err := x402.DecodePaymentPayloadV2(res.Payment.Value)
	if err != nil {
		t.Fatal(err)
	}
	vreq, err := x402.NewVerifyRequest(raw, payload.Accepted)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := testFac.Verify(testCtx(t), vreq); err != nil || !v.IsValid {
		t.Fatalf("the payment sent was not valid: %+v, %v", v, err)
	}
	inner, err := x402.DecodeExactEVMPayload(payload.Payload)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := exact.ParseAuthorization(inner.Authorization)
	if err != nil {
		t.Fatal(err)
	}
	if authorizationUsed(t, auth.From, auth.Nonce) {
		t.Error("the authorization was used on chain")
	}
	if balance(t, api.merchant).Cmp(merchantBefore) != 0 || balance(t, payer.Address()).Cmp(payerBefore) != 0 {
		t.Error("balances moved")
	}

	// A payment that is not valid (another payer's signature) gets the
	// facilitator's reason instead.
	forged := *inner
	forged.Authorization.From = randomAddress(t).Hex()
	payload.Payload, _ = json.Marshal(forged)
	hdr, err := x402.EncodeHeader(payload)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(testCtx(t), http.MethodGet, api.url+api.endpoint(t, KindRepeat402).Path, nil)
	req.Header.Set(x402.HeaderPaymentSignature, hdr)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	pr, err := x402.DecodePaymentRequired(resp2.Header.Get(x402.HeaderPaymentRequired))
	if resp2.StatusCode != http.StatusPaymentRequired || err != nil || pr.Error == "Payment required" || pr.Error == "" {
		t.Errorf("forged payment: status %d, demand %+v, %v", resp2.StatusCode, pr, err)
	}
}

type countingPayer struct {
	x402.Payer
	n *int
}

func (p countingPayer) Pay(ctx context.Context, req *x402.PaymentRequest) (*x402.Payment, error) {
	*p.n++
	return p.Payer.Pay(ctx, req)
}

func TestFormatAmount(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		dec  uint8
		want string
	}{{0, 6, "0"}, {1000, 6, "0.001"}, {250000, 6, "0.25"}, {12500000, 6, "12.5"}, {3000000, 6, "3"}, {7, 0, "7"}, {-1500, 3, "-1.5"}} {
		if got := FormatAmount(big.NewInt(tc.in), tc.dec); got != tc.want {
			t.Errorf("FormatAmount(%d, %d) = %q, want %q", tc.in, tc.dec, got, tc.want)
		}
	}
	if FormatAmount(nil, 6) != "0" {
		t.Error("nil")
	}
	for _, bad := range []string{"", ".5", "1.", "1.0000001", "1e3", "-1", "1.2.3", " 1"} {
		if v, err := atomicAmount(bad, 6); err == nil {
			t.Errorf("atomicAmount(%q) = %s", bad, v)
		}
	}
}

// TestDocsDescribeTheCatalog: docs/dev.md's table lists every endpoint with
// its version, advertised price and kind, and the foreign payee's address.
func TestDocsDescribeTheCatalog(t *testing.T) {
	doc, err := os.ReadFile("../../docs/dev.md")
	if err != nil {
		t.Fatal(err)
	}
	api, err := NewPaidAPI(offlineConfig(84532))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range api.Endpoints() {
		row := fmt.Sprintf("| `%s` | v%d | %s | `%s` |", e.Path, e.Version, e.Price, e.Kind)
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/dev.md lacks the row %q", row)
		}
	}
	if !strings.Contains(string(doc), ForeignPayee.Hex()) {
		t.Errorf("docs/dev.md does not name the foreign payee %s", ForeignPayee.Hex())
	}
}
