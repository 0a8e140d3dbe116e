package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/fleetkey/fleetkey/internal/payments/paymentstest"
	"github.com/fleetkey/fleetkey/x402"
)

// TestClientE2E runs the client commands against a real "fleetkey serve" (testdata/e2e/*.txt).
// The scripts live apart from testdata/*.txt because they need the commands below, which
// read values out of the daemon's answers into the environment.
func TestClientE2E(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/e2e",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfile": cmdWaitFile,
			"apienv":   cmdAPIEnv,
			"jsonvar":  cmdJSONVar,
			"filevar":  cmdFileVar,
			"sqlexec":  cmdSQLExec,
			"paidapi":  cmdPaidAPI,
			"httpget":  cmdHTTPGet,
		},
	})
}

// cmdAPIEnv sets FLEETKEY_API to http:// and the HOST:PORT in ADDRFILE: apienv ADDRFILE.
func cmdAPIEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: apienv ADDRFILE")
	}
	ts.Setenv("FLEETKEY_API", "http://"+strings.TrimSpace(ts.ReadFile(args[0])))
}

// cmdFileVar sets VAR to the trimmed content of FILE: filevar VAR FILE.
func cmdFileVar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: filevar VAR FILE")
	}
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile(args[1])))
}

// cmdJSONVar sets VAR to the value at PATH (dot-separated keys and list indexes) of the JSON
// in FILE ("stdout" is the last command's): jsonvar VAR FILE PATH.
func cmdJSONVar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: jsonvar VAR FILE PATH")
	}
	var v any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[1])), &v))
	for _, k := range strings.Split(args[2], ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				ts.Fatalf("%s: no index %s", args[2], k)
			}
			v = x[i]
		default:
			ts.Fatalf("%s: no key %s", args[2], k)
		}
	}
	switch x := v.(type) {
	case string:
		ts.Setenv(args[0], x)
	case nil:
		ts.Fatalf("%s: not found", args[2])
	default:
		ts.Setenv(args[0], fmt.Sprint(x))
	}
}

// cmdSQLExec runs one statement on a SQLite file, as an attacker with write access to the
// data directory would: sqlexec DBFILE QUERY.
func cmdSQLExec(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sqlexec DBFILE QUERY")
	}
	db, err := sql.Open("sqlite", "file:"+ts.MkAbs(args[0])+"?_pragma=busy_timeout(5000)")
	ts.Check(err)
	defer db.Close()
	res, err := db.Exec(args[1])
	ts.Check(err)
	if n, _ := res.RowsAffected(); n == 0 {
		ts.Fatalf("sqlexec: no row changed")
	}
}

// cmdPaidAPI starts a resource server for the rest of the script that charges, in x402 v2
// for paymentstest.Asset (Base Sepolia USDC), the atomic amount named by the path's last
// segment ("/report/10000"), and serves "paid content" once a payment header arrives. It
// sets VAR to its URL: paidapi VAR.
func cmdPaidAPI(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: paidapi VAR")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(x402.HeaderPaymentSignature) != "" {
			io.WriteString(w, "paid content\n")
			return
		}
		amount := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		h, err := x402.EncodeHeader(x402.PaymentRequiredV2{X402Version: 2, Error: "Payment required",
			Resource: x402.ResourceInfo{URL: "http://" + r.Host + r.URL.Path}, Accepts: []x402.PaymentRequirementsV2{paymentstest.Requirement(amount)}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set(x402.HeaderPaymentRequired, h)
		w.WriteHeader(http.StatusPaymentRequired)
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL)
}
