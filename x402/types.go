package x402

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Protocol versions carried in the x402Version field.
const (
	V1 = 1
	V2 = 2
)

// SchemeExact is the name of the "exact" payment scheme.
const SchemeExact = "exact"

// PaymentRequirementsV2 is one entry of a v2 "accepts" list.
//
// A value decoded from JSON remembers the bytes it came from and, as long as
// its fields are unchanged, marshals back to exactly those bytes (compacted).
// This is what lets a client echo the requirement it chose as "accepted":
// the reference server matches "accepted" with exact string equality, so
// nothing may be normalised on the way (address case, number spelling, extra
// keys it does not know). A requirement built from fields marshals normally.
type PaymentRequirementsV2 struct {
	Scheme            string          `json:"scheme"`
	Network           string          `json:"network"`
	Amount            string          `json:"amount"`
	Asset             string          `json:"asset"`
	PayTo             string          `json:"payTo"`
	MaxTimeoutSeconds int64           `json:"maxTimeoutSeconds"`
	Extra             json.RawMessage `json:"extra,omitempty"`

	raw json.RawMessage
}

type plainRequirementsV2 PaymentRequirementsV2

func (r *PaymentRequirementsV2) sameFields(o *PaymentRequirementsV2) bool {
	return r.Scheme == o.Scheme && r.Network == o.Network && r.Amount == o.Amount &&
		r.Asset == o.Asset && r.PayTo == o.PayTo && r.MaxTimeoutSeconds == o.MaxTimeoutSeconds &&
		bytes.Equal(r.Extra, o.Extra)
}

// UnmarshalJSON decodes the requirement and keeps its bytes for echoing.
func (r *PaymentRequirementsV2) UnmarshalJSON(b []byte) error {
	var p plainRequirementsV2
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*r = PaymentRequirementsV2(p)
	r.raw = compactCopy(b)
	return nil
}

// MarshalJSON returns the bytes the requirement was decoded from when its
// fields are unchanged, and the fields otherwise.
func (r PaymentRequirementsV2) MarshalJSON() ([]byte, error) {
	if r.raw != nil {
		var orig plainRequirementsV2
		if json.Unmarshal(r.raw, &orig) == nil {
			o := PaymentRequirementsV2(orig)
			if r.sameFields(&o) {
				return bytes.Clone(r.raw), nil
			}
		}
	}
	p := plainRequirementsV2(r)
	p.raw = nil
	return json.Marshal(p)
}

// Raw returns the JSON the requirement was decoded from, or nil if it was
// built from fields.
func (r *PaymentRequirementsV2) Raw() json.RawMessage { return bytes.Clone(r.raw) }

// ExtraString returns the string value of key in extra (for the exact scheme on
// EVM: "name" and "version", the token's EIP-712 domain).
func (r *PaymentRequirementsV2) ExtraString(key string) (string, bool) {
	return extraString(r.Extra, key)
}

// ResourceInfo describes the paid resource in v2 (top-level "resource").
// Like PaymentRequirementsV2 it keeps the bytes it was decoded from, because a
// v2 client copies it verbatim into its payment payload; unknown fields such as
// serviceName, tags and iconUrl survive the copy.
type ResourceInfo struct {
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
	MimeType    string `json:"mimeType,omitempty"`

	raw json.RawMessage
}

type plainResourceInfo ResourceInfo

// UnmarshalJSON decodes the resource and keeps its bytes for echoing.
func (ri *ResourceInfo) UnmarshalJSON(b []byte) error {
	var p plainResourceInfo
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*ri = ResourceInfo(p)
	ri.raw = compactCopy(b)
	return nil
}

// MarshalJSON returns the bytes the resource was decoded from when its fields
// are unchanged, and the fields otherwise.
func (ri ResourceInfo) MarshalJSON() ([]byte, error) {
	if ri.raw != nil {
		var orig plainResourceInfo
		if json.Unmarshal(ri.raw, &orig) == nil &&
			orig.URL == ri.URL && orig.Description == ri.Description && orig.MimeType == ri.MimeType {
			return bytes.Clone(ri.raw), nil
		}
	}
	p := plainResourceInfo(ri)
	p.raw = nil
	return json.Marshal(p)
}

// PaymentRequiredV2 is the v2 402 answer, carried base64-encoded in the
// PAYMENT-REQUIRED response header.
type PaymentRequiredV2 struct {
	X402Version int                     `json:"x402Version"`
	Error       string                  `json:"error,omitempty"`
	Resource    ResourceInfo            `json:"resource"`
	Accepts     []PaymentRequirementsV2 `json:"accepts"`
	// Extensions is kept as received: a client echoes it in its payload.
	Extensions json.RawMessage `json:"extensions,omitempty"`
}

// Validate checks what every consumer of a v2 402 relies on.
func (p *PaymentRequiredV2) Validate() error {
	if p.X402Version != V2 {
		return fmt.Errorf("x402: payment required: x402Version %d, want 2", p.X402Version)
	}
	if len(p.Accepts) == 0 {
		return errors.New("x402: payment required: empty accepts")
	}
	return nil
}

// PaymentRequirementsV1 is one entry of a v1 "accepts" list.
type PaymentRequirementsV1 struct {
	Scheme            string `json:"scheme"`
	Network           string `json:"network"`
	MaxAmountRequired string `json:"maxAmountRequired"`
	Resource          string `json:"resource"`
	// Description and MimeType are always emitted: the v1 reference schema
	// requires them as strings, empty or not.
	Description       string          `json:"description"`
	MimeType          string          `json:"mimeType"`
	OutputSchema      json.RawMessage `json:"outputSchema,omitempty"`
	PayTo             string          `json:"payTo"`
	MaxTimeoutSeconds int64           `json:"maxTimeoutSeconds"`
	Asset             string          `json:"asset"`
	Extra             json.RawMessage `json:"extra,omitempty"`
}

// ExtraString returns the string value of key in extra.
func (r *PaymentRequirementsV1) ExtraString(key string) (string, bool) {
	return extraString(r.Extra, key)
}

// PaymentRequiredV1 is the v1 402 answer, sent as the JSON response body.
type PaymentRequiredV1 struct {
	X402Version int                     `json:"x402Version"`
	Error       string                  `json:"error,omitempty"`
	Accepts     []PaymentRequirementsV1 `json:"accepts"`
	// Payer is set by x402-express when verification failed.
	Payer string `json:"payer,omitempty"`
}

// Validate checks what every consumer of a v1 402 relies on.
func (p *PaymentRequiredV1) Validate() error {
	if p.X402Version != V1 {
		return fmt.Errorf("x402: payment required: x402Version %d, want 1", p.X402Version)
	}
	if len(p.Accepts) == 0 {
		return errors.New("x402: payment required: empty accepts")
	}
	return nil
}

// PaymentPayloadV2 is what a v2 client sends, base64-encoded, in the
// PAYMENT-SIGNATURE request header.
type PaymentPayloadV2 struct {
	X402Version int           `json:"x402Version"`
	Resource    *ResourceInfo `json:"resource,omitempty"`
	// Accepted is the chosen entry of the 402's accepts, echoed verbatim.
	Accepted PaymentRequirementsV2 `json:"accepted"`
	// Payload is scheme specific; for exact on EVM it is an ExactEVMPayload.
	Payload    json.RawMessage `json:"payload"`
	Extensions json.RawMessage `json:"extensions,omitempty"`
}

// PaymentPayloadV1 is what a v1 client sends, base64-encoded, in the X-PAYMENT
// request header.
type PaymentPayloadV1 struct {
	X402Version int             `json:"x402Version"`
	Scheme      string          `json:"scheme"`
	Network     string          `json:"network"`
	Payload     json.RawMessage `json:"payload"`
}

// ExactEVMPayload is the payload of the exact scheme on EVM with an EIP-3009
// authorization: a TransferWithAuthorization message and its signature.
type ExactEVMPayload struct {
	// Signature is 0x-prefixed hex: 65 bytes r||s||v for an EOA, longer for
	// EIP-1271 / ERC-6492 smart wallets.
	Signature     string        `json:"signature"`
	Authorization Authorization `json:"authorization"`
}

// Authorization is the EIP-3009 TransferWithAuthorization message as it
// travels on the wire: addresses as hex, integers as decimal strings, nonce as
// 0x-prefixed 32-byte hex.
type Authorization struct {
	From        string `json:"from"`
	To          string `json:"to"`
	Value       string `json:"value"`
	ValidAfter  string `json:"validAfter"`
	ValidBefore string `json:"validBefore"`
	Nonce       string `json:"nonce"`
}

// DecodeExactEVMPayload decodes the scheme payload of an exact-EVM payment.
func DecodeExactEVMPayload(payload json.RawMessage) (*ExactEVMPayload, error) {
	var p ExactEVMPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("x402: exact evm payload: %w", err)
	}
	return &p, nil
}

// VerifyRequest is the body of a facilitator's POST /verify (and, as
// SettleRequest, of POST /settle). Payload and requirements stay raw JSON so a
// facilitator sees exactly what the client signed and the server advertised;
// the typed views are the methods below. The reference facilitator dispatches
// on paymentPayload.x402Version, not on the top-level field.
type VerifyRequest struct {
	X402Version         int             `json:"x402Version"`
	PaymentPayload      json.RawMessage `json:"paymentPayload"`
	PaymentRequirements json.RawMessage `json:"paymentRequirements"`
}

// SettleRequest is the body of a facilitator's POST /settle.
type SettleRequest = VerifyRequest

// NewVerifyRequest builds the request for a payload (as received from the
// client, any version) and the server's matching requirement.
func NewVerifyRequest(payload json.RawMessage, requirements any) (*VerifyRequest, error) {
	var head struct {
		X402Version int `json:"x402Version"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return nil, fmt.Errorf("x402: payment payload: %w", err)
	}
	reqs, err := json.Marshal(requirements)
	if err != nil {
		return nil, fmt.Errorf("x402: payment requirements: %w", err)
	}
	return &VerifyRequest{X402Version: head.X402Version, PaymentPayload: bytes.Clone(payload), PaymentRequirements: reqs}, nil
}

// PayloadVersion returns paymentPayload.x402Version.
func (r *VerifyRequest) PayloadVersion() (int, error) {
	var head struct {
		X402Version *int `json:"x402Version"`
	}
	if err := json.Unmarshal(r.PaymentPayload, &head); err != nil {
		return 0, fmt.Errorf("x402: payment payload: %w", err)
	}
	if head.X402Version == nil {
		return 0, errors.New("x402: payment payload: missing x402Version")
	}
	return *head.X402Version, nil
}

// PayloadV2 decodes paymentPayload as a v2 payload.
func (r *VerifyRequest) PayloadV2() (*PaymentPayloadV2, error) {
	var p PaymentPayloadV2
	if err := json.Unmarshal(r.PaymentPayload, &p); err != nil {
		return nil, fmt.Errorf("x402: payment payload: %w", err)
	}
	return &p, nil
}

// PayloadV1 decodes paymentPayload as a v1 payload.
func (r *VerifyRequest) PayloadV1() (*PaymentPayloadV1, error) {
	var p PaymentPayloadV1
	if err := json.Unmarshal(r.PaymentPayload, &p); err != nil {
		return nil, fmt.Errorf("x402: payment payload: %w", err)
	}
	return &p, nil
}

// RequirementsV2 decodes paymentRequirements as a v2 requirement.
func (r *VerifyRequest) RequirementsV2() (*PaymentRequirementsV2, error) {
	var p PaymentRequirementsV2
	if err := json.Unmarshal(r.PaymentRequirements, &p); err != nil {
		return nil, fmt.Errorf("x402: payment requirements: %w", err)
	}
	return &p, nil
}

// RequirementsV1 decodes paymentRequirements as a v1 requirement.
func (r *VerifyRequest) RequirementsV1() (*PaymentRequirementsV1, error) {
	var p PaymentRequirementsV1
	if err := json.Unmarshal(r.PaymentRequirements, &p); err != nil {
		return nil, fmt.Errorf("x402: payment requirements: %w", err)
	}
	return &p, nil
}

// VerifyResponse is a facilitator's answer to /verify. A payment problem is an
// answer (IsValid false with a reason code), not an error.
type VerifyResponse struct {
	IsValid        bool            `json:"isValid"`
	InvalidReason  string          `json:"invalidReason,omitempty"`
	InvalidMessage string          `json:"invalidMessage,omitempty"`
	Payer          string          `json:"payer,omitempty"`
	Extensions     json.RawMessage `json:"extensions,omitempty"`
	Extra          json.RawMessage `json:"extra,omitempty"`
}

// SettleResponse is a facilitator's answer to /settle; it also travels to the
// client, base64-encoded, in PAYMENT-RESPONSE (v2) or X-PAYMENT-RESPONSE (v1).
type SettleResponse struct {
	Success      bool   `json:"success"`
	ErrorReason  string `json:"errorReason,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	Payer        string `json:"payer,omitempty"`
	// Transaction is the settlement transaction hash, "" on failure; always
	// emitted because the reference client requires the field.
	Transaction string `json:"transaction"`
	// Network is in the format of the request's version (CAIP-2 for v2, a
	// name for v1).
	Network    string          `json:"network"`
	Amount     string          `json:"amount,omitempty"`
	Extensions json.RawMessage `json:"extensions,omitempty"`
	Extra      json.RawMessage `json:"extra,omitempty"`
}

// SupportedKind is one (version, scheme, network) a facilitator handles.
type SupportedKind struct {
	X402Version int             `json:"x402Version"`
	Scheme      string          `json:"scheme"`
	Network     string          `json:"network"`
	Extra       json.RawMessage `json:"extra,omitempty"`
}

// SupportedResponse is a facilitator's answer to GET /supported.
type SupportedResponse struct {
	Kinds      []SupportedKind     `json:"kinds"`
	Extensions []string            `json:"extensions"`
	Signers    map[string][]string `json:"signers"`
}

// MarshalJSON emits empty lists and maps rather than null, as the reference
// does.
func (s SupportedResponse) MarshalJSON() ([]byte, error) {
	type plain SupportedResponse
	p := plain(s)
	if p.Kinds == nil {
		p.Kinds = []SupportedKind{}
	}
	if p.Extensions == nil {
		p.Extensions = []string{}
	}
	if p.Signers == nil {
		p.Signers = map[string][]string{}
	}
	return json.Marshal(p)
}

// Supports reports whether the facilitator advertises the kind.
func (s *SupportedResponse) Supports(version int, scheme, network string) bool {
	for _, k := range s.Kinds {
		if k.X402Version == version && k.Scheme == scheme && k.Network == network {
			return true
		}
	}
	return false
}

func extraString(extra json.RawMessage, key string) (string, bool) {
	if len(extra) == 0 {
		return "", false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(extra, &m) != nil {
		return "", false
	}
	v, ok := m[key]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

func compactCopy(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return bytes.Clone(bytes.TrimSpace(b))
	}
	return buf.Bytes()
}
