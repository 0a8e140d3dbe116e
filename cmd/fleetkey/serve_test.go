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
// writes the body to stdout: httpget [-status CODE] [-token FILE] ADDRFILE PATH. The status must
// be CODE (default 200); -token sends the file's content as a bearer token. With !, the request
// itself must fail (nothing listening).
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	want := http.StatusOK
	token := ""
	for len(args) >= 2 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-status":
			n, err := strconv.Atoi(args[1])
			ts.Check(err)
			want = n
		case "-token":
			token = strings.TrimSpace(ts.ReadFile(args[1]))
		default:
			ts.Fatalf("httpget: unknown option %s", args[0])
		}
		args = args[2:]
	}
	if len(args) != 2 {
		ts.Fatalf("usage: httpget [-status CODE] [-token FILE] ADDRFILE PATH")
	}
	addr := strings.TrimSpace(ts.ReadFile(args[0]))
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+args[1], nil)
	ts.Check(err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
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
