package sdk_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/fleetkey/fleetkey/sdk"
)

// FuzzErrorAnswer: whatever a server answers with an error status, the client returns an
// *APIError with that status, never panics, and a message that is printable, one line and
// bounded.
func FuzzErrorAnswer(f *testing.F) {
	f.Add(403, []byte(`{"error":{"code":"payment_denied","message":"m","reason":"r","rule":"x"}}`))
	f.Add(502, []byte("<html>\x00\n\tbad gateway</html>"))
	f.Add(500, []byte(`{"error":null}`))
	f.Add(404, []byte(`{"error":{"code":5}}`))
	f.Add(400, []byte{0xff, 0xfe, '\n'})
	f.Add(400, []byte(`{"error":{"code":"bad_request","message":"line 4:\n  \u001b[31mred\u0007"}}`))
	var (
		status int
		body   []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		w.Write(body)
	}))
	defer srv.Close()
	c, err := sdk.NewClient(srv.URL, "fko_test")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, st int, b []byte) {
		if st < 400 || st > 599 {
			return
		}
		status, body = st, b
		_, err := c.Fleets(context.Background())
		var ae *sdk.APIError
		if !errors.As(err, &ae) || ae.Status != st {
			t.Fatalf("status %d: %v", st, err)
		}
		if ae.Code == "" {
			if utf8.RuneCountInString(ae.Message) > 201 {
				t.Errorf("message of %d runes", utf8.RuneCountInString(ae.Message))
			}
			for _, r := range ae.Message {
				if !unicode.IsPrint(r) {
					t.Errorf("unprintable %q in %q", r, ae.Message)
				}
			}
		}
		for _, r := range ae.Error() {
			if r != '\n' && r != '\t' && unicode.IsControl(r) {
				t.Errorf("control character %q in %q", r, ae.Error())
			}
		}
	})
}
