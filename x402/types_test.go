package x402

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// A v2 402 as the 2.27 reference emits it, with fields this package does not
// model (serviceName, tags, assetTransferMethod, an unknown key) and an asset
// in lower case, to show that echoing keeps every byte.
const paymentRequiredJSON = `{"x402Version":2,"error":"Payment required","resource":{"url":"http://127.0.0.1:4021/weather","description":"Weather <data> & more","mimeType":"application/json","serviceName":"wx","tags":["a","b"]},"accepts":[{"scheme":"exact","network":"eip155:1337","amount":"10000","asset":"0xe78a0f7e598cc8b0bb87894b0f60dd2a88d6a8ab","payTo":"0x22d491Bde2303f2f43325b2108D26f1eAbA1e32b","maxTimeoutSeconds":120,"extra":{"name":"TestUSD","version":"2","assetTransferMethod":"eip3009"},"future":{"x":[1,2.50,"3"]}},{"scheme":"exact","network":"eip155:84532","amount":"1","asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","payTo":"0x22d491Bde2303f2f43325b2108D26f1eAbA1e32b","maxTimeoutSeconds":300}],"extensions":{"bazaar":{"info":{"k":"v"},"schema":{}}}}`

func TestEchoIsVerbatim(t *testing.T) {
	var pr PaymentRequiredV2
	if err := json.Unmarshal([]byte(paymentRequiredJSON), &pr); err != nil {
		t.Fatal(err)
	}
	if err := pr.Validate(); err != nil {
		t.Fatal(err)
	}
	p := PaymentPayloadV2{X402Version: 2, Resource: &pr.Resource, Accepted: pr.Accepts[0],
		Payload: json.RawMessage(`{}`), Extensions: pr.Extensions}
	h, err := EncodeHeader(p)
	if err != nil {
		t.Fatal(err)
	}
	js, err := DecodeHeaderJSON(h)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Resource, Accepted, Extensions json.RawMessage
	}
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatal(err)
	}
	var src struct {
		Resource   json.RawMessage
		Accepts    []json.RawMessage
		Extensions json.RawMessage
	}
	json.Unmarshal([]byte(paymentRequiredJSON), &src)
	for name, pair := range map[string][2][]byte{
		"accepted":   {got.Accepted, src.Accepts[0]},
		"resource":   {got.Resource, src.Resource},
		"extensions": {got.Extensions, src.Extensions},
	} {
		if !bytes.Equal(pair[0], pair[1]) {
			t.Errorf("%s echoed as\n%s\nwant\n%s", name, pair[0], pair[1])
		}
	}
	if r := pr.Accepts[0].Raw(); !bytes.Equal(r, src.Accepts[0]) {
		t.Errorf("Raw() = %s", r)
	}
}

func TestModifiedRequirementMarshalsFields(t *testing.T) {
	var pr PaymentRequiredV2
	if err := json.Unmarshal([]byte(paymentRequiredJSON), &pr); err != nil {
		t.Fatal(err)
	}
	r := pr.Accepts[0]
	r.Amount = "1"
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("future")) || !bytes.Contains(b, []byte(`"amount":"1"`)) {
		t.Fatalf("modified requirement marshalled stale bytes: %s", b)
	}
	built := PaymentRequirementsV2{Scheme: "exact", Network: "eip155:1", Amount: "5", Asset: "0xA", PayTo: "0xB", MaxTimeoutSeconds: 300}
	b, _ = json.Marshal(built)
	want := `{"scheme":"exact","network":"eip155:1","amount":"5","asset":"0xA","payTo":"0xB","maxTimeoutSeconds":300}`
	if string(b) != want {
		t.Fatalf("built requirement = %s, want %s", b, want)
	}
}

func TestV1RequirementsAlwaysCarryDescription(t *testing.T) {
	b, _ := json.Marshal(PaymentRequirementsV1{Scheme: "exact", Network: "base-sepolia"})
	for _, k := range []string{`"description":""`, `"mimeType":""`, `"resource":""`, `"maxAmountRequired":""`} {
		if !bytes.Contains(b, []byte(k)) {
			t.Errorf("%s missing from %s", k, b)
		}
	}
}

func TestExtraString(t *testing.T) {
	r := PaymentRequirementsV2{Extra: json.RawMessage(`{"name":"USDC","version":2}`)}
	if v, ok := r.ExtraString("name"); !ok || v != "USDC" {
		t.Errorf("name = %q %v", v, ok)
	}
	if _, ok := r.ExtraString("version"); ok {
		t.Error("numeric version read as a string")
	}
	if _, ok := r.ExtraString("missing"); ok {
		t.Error("missing key found")
	}
}

func TestSupportedResponseJSON(t *testing.T) {
	b, _ := json.Marshal(SupportedResponse{})
	if string(b) != `{"kinds":[],"extensions":[],"signers":{}}` {
		t.Fatalf("empty supported = %s", b)
	}
	var s SupportedResponse
	json.Unmarshal([]byte(`{"kinds":[{"x402Version":2,"scheme":"exact","network":"eip155:1337"},{"x402Version":1,"scheme":"exact","network":"base-sepolia"}]}`), &s)
	if !s.Supports(2, "exact", "eip155:1337") || !s.Supports(1, "exact", "base-sepolia") || s.Supports(2, "exact", "base-sepolia") {
		t.Fatalf("Supports wrong for %+v", s)
	}
}

func TestVerifyRequest(t *testing.T) {
	payload := json.RawMessage(`{"x402Version":2,"accepted":{"scheme":"exact","network":"eip155:1","amount":"1","asset":"0xA","payTo":"0xB","maxTimeoutSeconds":1},"payload":{"signature":"0x","authorization":{"from":"0x1"}},"unknown":true}`)
	req := PaymentRequirementsV2{Scheme: "exact", Network: "eip155:1", Amount: "1", Asset: "0xA", PayTo: "0xB", MaxTimeoutSeconds: 1}
	vr, err := NewVerifyRequest(payload, req)
	if err != nil {
		t.Fatal(err)
	}
	if vr.X402Version != 2 || !bytes.Equal(vr.PaymentPayload, payload) {
		t.Fatalf("request = %+v", vr)
	}
	if v, err := vr.PayloadVersion(); err != nil || v != 2 {
		t.Fatalf("PayloadVersion = %d, %v", v, err)
	}
	p, err := vr.PayloadV2()
	if err != nil {
		t.Fatal(err)
	}
	ex, err := DecodeExactEVMPayload(p.Payload)
	if err != nil || ex.Authorization.From != "0x1" {
		t.Fatalf("exact payload = %+v, %v", ex, err)
	}
	r, err := vr.RequirementsV2()
	if err != nil || r.Amount != "1" {
		t.Fatalf("requirements = %+v, %v", r, err)
	}
	if _, err := NewVerifyRequest(json.RawMessage(`[`), req); err == nil {
		t.Fatal("malformed payload accepted")
	}
	noVersion := VerifyRequest{PaymentPayload: json.RawMessage(`{}`)}
	if _, err := noVersion.PayloadVersion(); err == nil {
		t.Fatal("payload without x402Version accepted")
	}
}

func TestHeaderCodec(t *testing.T) {
	obj := `{"success":true,"transaction":"0xab","network":"eip155:1337","payer":"0x1"}`
	std := base64.StdEncoding.EncodeToString([]byte(obj))
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"padded", std, true},
		{"unpadded (atob accepts it)", strings.TrimRight(std, "="), true},
		{"url-safe alphabet", strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString([]byte(`{"success":true,"x":"???>>>"}`))), false},
		{"whitespace", " " + std, false},
		{"newline inside", std[:4] + "\n" + std[4:], false},
		{"three pads", "eyJ9===", false},
		{"pad in the middle", "ey=J9", false},
		{"bad padded length", "eyJ9e=", false},
		{"length 1 mod 4", "eyJ9e", false},
		{"empty", "", false},
		{"not json", base64.StdEncoding.EncodeToString([]byte("hello")), false},
		{"json array", base64.StdEncoding.EncodeToString([]byte("[]")), false},
		{"no success field", base64.StdEncoding.EncodeToString([]byte(`{"transaction":""}`)), false},
		{"too large", strings.Repeat("A", MaxHeaderSize+4), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := DecodeSettleResponse(c.in)
			if c.ok {
				if err != nil {
					t.Fatal(err)
				}
				if !s.Success || s.Transaction != "0xab" || s.Network != "eip155:1337" || s.Payer != "0x1" {
					t.Fatalf("decoded %+v", s)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %q", c.in)
			}
			if !errors.Is(err, ErrMalformedHeader) {
				t.Fatalf("error %v does not wrap ErrMalformedHeader", err)
			}
		})
	}
	if _, err := DecodeHeaderJSON(strings.Repeat("A", MaxHeaderSize+4)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("size error unclear: %v", err)
	}
}

func TestEncodeHeaderKeepsHTML(t *testing.T) {
	h, err := EncodeHeader(map[string]string{"a": "<&>"})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := DecodeHeaderJSON(h)
	if string(js) != `{"a":"<&>"}` {
		t.Fatalf("encoded %s", js)
	}
	if strings.ContainsAny(h, "-_\n") {
		t.Fatalf("not standard base64: %q", h)
	}
}

func TestDecodePayloadVersions(t *testing.T) {
	v1, _ := EncodeHeader(PaymentPayloadV1{X402Version: 1, Scheme: "exact", Network: "base-sepolia", Payload: json.RawMessage(`{}`)})
	v2, _ := EncodeHeader(PaymentPayloadV2{X402Version: 2, Payload: json.RawMessage(`{}`)})
	if _, _, err := DecodePaymentPayloadV1(v1); err != nil {
		t.Error(err)
	}
	if _, _, err := DecodePaymentPayloadV2(v2); err != nil {
		t.Error(err)
	}
	if _, _, err := DecodePaymentPayloadV1(v2); err == nil {
		t.Error("v2 payload accepted as v1")
	}
	if _, _, err := DecodePaymentPayloadV2(v1); err == nil {
		t.Error("v1 payload accepted as v2")
	}
	pr, _ := EncodeHeader(PaymentRequiredV2{X402Version: 2})
	if _, err := DecodePaymentRequired(pr); err == nil {
		t.Error("payment required without accepts accepted")
	}
}
