package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
)

// runtimeOf names the agent runtime a payment request comes from, for the anomaly
// detector's second_runtime signal (anomaly.WithRuntime): the client's address
// without its port and its User-Agent, hashed. Behind a proxy that hides its
// clients every request names the proxy, and the signal sees one runtime.
func runtimeOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	sum := sha256.Sum256([]byte(host + "\x00" + r.UserAgent()))
	return hex.EncodeToString(sum[:12])
}
