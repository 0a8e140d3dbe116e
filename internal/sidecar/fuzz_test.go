package sidecar

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/fleetkey/fleetkey/x402"
)

// FuzzTarget: whatever request line and Host a client sends, target never panics, and what it
// accepts is an absolute http(s) URL with a host.
func FuzzTarget(f *testing.F) {
	for _, s := range []string{
		"/https://api.example.com/x?q=1", "/http://127.0.0.1:8080/", "/https%3A%2F%2Fh%2Fp", "http://h/p",
		"/", "*", "/ftp://h/x", "/https:///x", "/HTTPS://H/P", "/http://[::1]:80/", "/http://%zz", "/https:%2F%2Fh",
	} {
		f.Add(s, "127.0.0.1:8403")
		f.Add(s, "evil.example")
	}
	h := &Handler{}
	f.Fuzz(func(t *testing.T, requestURI, host string) {
		u, err := url.ParseRequestURI(requestURI)
		if err != nil {
			return // net/http answers 400 before any handler runs
		}
		r := &http.Request{Method: http.MethodGet, RequestURI: requestURI, URL: u, Host: host, Header: http.Header{}}
		got, status, msg := h.target(r)
		if got == nil {
			if status < 400 || msg == "" {
				t.Fatalf("refusal without status or message: %d %q", status, msg)
			}
			return
		}
		if got.Scheme != "http" && got.Scheme != "https" || got.Host == "" {
			t.Fatalf("accepted %q from %q", got, requestURI)
		}
		if !u.IsAbs() && !loopbackHost(host) {
			t.Fatalf("gateway request with Host %q accepted", host)
		}
	})
}

// FuzzReceipt: a payer's header value of any shape never panics the receipt, and the header
// value built from it is one safe header line.
func FuzzReceipt(f *testing.F) {
	f.Add(x402.HeaderPaymentSignature, "eyJ4NDAyVmVyc2lvbiI6Mn0=", "0xabc")
	f.Add(x402.HeaderXPayment, "eyJ4NDAyVmVyc2lvbiI6MX0=", "")
	f.Fuzz(func(t *testing.T, header, value, tx string) {
		res := &x402.Result{Payment: &x402.Payment{Header: header, Value: value}, Settlement: &x402.SettleResponse{Transaction: tx}}
		rc, err := ReceiptFromResult(res)
		if err != nil {
			return
		}
		v := rc.HeaderValue()
		if strings.ContainsAny(v, "\r\n\x00") || strings.Count(v, ";") < 4 {
			t.Fatalf("header value %q", v)
		}
	})
}
