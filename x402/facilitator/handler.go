package facilitator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/fleetkey/fleetkey/x402"
)

// Handler returns the facilitator's HTTP API with the reference's conventions:
//
//	POST /verify     {x402Version, paymentPayload, paymentRequirements} → VerifyResponse
//	POST /settle     same body                                          → SettleResponse
//	GET  /supported                                                     → SupportedResponse
//
// Payment problems are 200 with isValid or success false. A body that is not JSON, or lacks
// paymentPayload or paymentRequirements, is 400 {"error"}; an unserved version, scheme or
// network is 500 {"error": "No facilitator registered for scheme: exact and network: …"}, as
// is a failure to reach the chain; a body above the size limit is 413; a wrong method 405;
// any other path 404.
func (f *Facilitator) Handler() http.Handler {
	return http.HandlerFunc(f.serveHTTP)
}

func (f *Facilitator) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/verify", "/settle":
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "method not allowed: use POST")
			return
		}
		req, status, msg := f.readRequest(w, r)
		if req == nil {
			writeError(w, status, msg)
			return
		}
		var out any
		var err error
		if r.URL.Path == "/verify" {
			out, err = f.Verify(r.Context(), req)
		} else {
			out, err = f.Settle(r.Context(), req)
		}
		if err != nil {
			writeFailure(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	case "/supported":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method not allowed: use GET")
			return
		}
		s, _ := f.Supported(r.Context())
		writeJSON(w, http.StatusOK, s)
	default:
		writeError(w, http.StatusNotFound, "not found")
	}
}

// readRequest reads and decodes a /verify or /settle body. On failure it returns nil with the
// status and message to send.
func (f *Facilitator) readRequest(w http.ResponseWriter, r *http.Request) (*x402.VerifyRequest, int, string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, f.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, "request body too large"
		}
		return nil, http.StatusBadRequest, "cannot read request body"
	}
	var env struct {
		X402Version         int             `json:"x402Version"`
		PaymentPayload      json.RawMessage `json:"paymentPayload"`
		PaymentRequirements json.RawMessage `json:"paymentRequirements"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, http.StatusBadRequest, "request body is not a JSON object"
	}
	if !isObject(env.PaymentPayload) || !isObject(env.PaymentRequirements) {
		return nil, http.StatusBadRequest, "Missing paymentPayload or paymentRequirements"
	}
	return &x402.VerifyRequest{X402Version: env.X402Version, PaymentPayload: env.PaymentPayload, PaymentRequirements: env.PaymentRequirements}, 0, ""
}

func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

func writeFailure(w http.ResponseWriter, err error) {
	var unsup *UnsupportedError
	switch {
	case errors.As(err, &unsup):
		writeError(w, http.StatusInternalServerError, unsup.Message())
	case errors.Is(err, ErrBadRequest):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"cannot encode answer"}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
