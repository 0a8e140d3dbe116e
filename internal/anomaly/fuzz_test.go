package anomaly

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// FuzzVerifyWebhook: whatever a sender puts in the headers and body, the
// receiver's check never panics and accepts only a delivery signed with the
// secret for that timestamp and body.
func FuzzVerifyWebhook(f *testing.F) {
	body := []byte(`{"event":"anomaly.alert"}`)
	f.Add("1700000000", SignWebhook(testSecret, 1700000000, body), body)
	f.Add("-1", "sha256=", []byte{})
	f.Add("1700000000 ", "sha256=00", []byte("x"))
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, ts, sig string, b []byte) {
		h := http.Header{}
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		if err := VerifyWebhook(testSecret, h, b, now, time.Hour); err != nil {
			return
		}
		n, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
		if err != nil || h.Get(HeaderSignature) != SignWebhook(testSecret, n, b) {
			t.Fatalf("accepted timestamp %q signature %q", ts, sig)
		}
	})
}
