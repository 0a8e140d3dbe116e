package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"fleetkey": func() {
			env := &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
			os.Exit(run(env, os.Args[1:]))
		},
	})
}

// TestScripts runs the CLI behaviour scripts in testdata/*.txt (txtar format).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfile": cmdWaitFile,
			"rpccall":  cmdRPCCall,
			"httpget":  cmdHTTPGet,
		},
	})
}

// cmdWaitFile waits until a file exists and is not empty: waitfile FILE [TIMEOUT].
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waitfile FILE [TIMEOUT]")
	}
	timeout := time.Minute
	if len(args) == 2 {
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		timeout = d
	}
	path := ts.MkAbs(args[0])
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if st, err := os.Stat(path); err == nil && st.Size() > 0 {
			return
		}
	}
	ts.Fatalf("%s did not appear within %s", args[0], timeout)
}

// cmdRPCCall reads rpc_url from a JSON manifest, makes a JSON-RPC call with no parameters and
// writes the "result" field to stdout: rpccall MANIFEST METHOD.
func cmdRPCCall(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: rpccall MANIFEST METHOD")
	}
	var m struct {
		RPCURL string `json:"rpc_url"`
	}
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &m))
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": args[1], "params": []any{}})
	resp, err := http.Post(m.RPCURL, "application/json", bytes.NewReader(body))
	if err != nil {
		if neg {
			return
		}
		ts.Fatalf("rpc: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Result json.RawMessage `json:"result"`
	}
	ts.Check(json.Unmarshal(raw, &out))
	if neg {
		ts.Fatalf("rpc call succeeded: %s", out.Result)
	}
	ts.Stdout().Write([]byte(strings.Trim(string(out.Result), `"`) + "\n"))
}
