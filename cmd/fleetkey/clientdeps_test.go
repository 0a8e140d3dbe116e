package main

import (
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// clientFiles are the client commands: they talk to the daemon only through the public sdk
// (and may use x402, and internal/audit to verify what they download). audit_offline.go is
// deliberately not in the list: "audit verify --data-dir" reads a database without a daemon
// and so imports the SQLite store.
var clientFiles = []string{
	"client.go", "agent.go", "fleet.go", "credentials.go", "approvals.go", "pay.go", "audit.go",
	"policy.go", "policyapply.go", "sidecar.go", "mcp.go",
}

var clientBanned = []string{
	"github.com/fleetkey/fleetkey/internal/custody",
	"github.com/fleetkey/fleetkey/internal/keys",
	"github.com/fleetkey/fleetkey/internal/store",
	"github.com/fleetkey/fleetkey/internal/payments",
	"github.com/fleetkey/fleetkey/internal/signer",
	"github.com/fleetkey/fleetkey/internal/api",
	"github.com/fleetkey/fleetkey/internal/server",
}

func bannedImport(path string) bool {
	for _, b := range clientBanned {
		if path == b || strings.HasPrefix(path, b+"/") {
			return true
		}
	}
	return false
}

func TestClientCommandsImportBan(t *testing.T) {
	for _, name := range clientFiles {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sawSDK := false
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if bannedImport(p) {
				t.Errorf("%s imports %s", name, p)
			}
			sawSDK = sawSDK || p == "github.com/fleetkey/fleetkey/sdk"
		}
		if !sawSDK && name != "policy.go" {
			t.Errorf("%s does not import the sdk: is it still a client command file?", name)
		}
	}
	if !bannedImport("github.com/fleetkey/fleetkey/internal/store/sqlite") || bannedImport("github.com/fleetkey/fleetkey/internal/audit") {
		t.Error("the ban list does not say what it should")
	}
}
