package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdHTTPGet reads HOST:PORT from a file (as serve --addr-file writes it), GETs a path there and
// writes the body to stdout: httpget [-status CODE] ADDRFILE PATH. The status must be CODE
// (default 200); with !, the request itself must fail (nothing listening).
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	want := http.StatusOK
	if len(args) >= 2 && args[0] == "-status" {
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		want, args = n, args[2:]
	}
	if len(args) != 2 {
		ts.Fatalf("usage: httpget [-status CODE] ADDRFILE PATH")
	}
	addr := strings.TrimSpace(ts.ReadFile(args[0]))
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Get("http://" + addr + args[1])
	if neg {
		if err == nil {
			res.Body.Close()
			ts.Fatalf("GET %s answered %s", args[1], res.Status)
		}
		return
	}
	ts.Check(err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%s", body)
	if res.StatusCode != want {
		ts.Fatalf("GET %s: status %d, want %d: %s", args[1], res.StatusCode, want, body)
	}
}
