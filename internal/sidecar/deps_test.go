package sidecar_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The sidecar and the MCP server run beside agents with an agent's credential: they must not
// link key material, storage, the signing service or chain access, directly or through
// anything they import (their tests and sidecartest may; they are not in the list).
func TestImportBan(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	for _, pkg := range []string{".", "../mcpserver"} {
		out, err := exec.Command(goBin, "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, "github.com/fleetkey/fleetkey/x402") {
			t.Fatalf("go list -deps %s lists no x402: %q", pkg, out)
		}
		if bad := bannedDeps(deps); len(bad) > 0 {
			t.Errorf("%s depends on %v", pkg, bad)
		}
	}
	if bad := bannedDeps([]string{"github.com/fleetkey/fleetkey/internal/keys/hd", "github.com/fleetkey/fleetkey/internal/storefront"}); len(bad) != 1 {
		t.Errorf("the ban does not say what it should: %v", bad)
	}
}

var banned = []string{
	"github.com/fleetkey/fleetkey/internal/custody",
	"github.com/fleetkey/fleetkey/internal/keys",
	"github.com/fleetkey/fleetkey/internal/store",
	"github.com/fleetkey/fleetkey/internal/payments",
	"github.com/fleetkey/fleetkey/internal/signer",
	"github.com/fleetkey/fleetkey/internal/api",
	"github.com/fleetkey/fleetkey/internal/audit",
	"github.com/fleetkey/fleetkey/internal/chain",
	"github.com/fleetkey/fleetkey/internal/credential",
}

func bannedDeps(deps []string) []string {
	var bad []string
	for _, d := range deps {
		for _, b := range banned {
			if d == b || strings.HasPrefix(d, b+"/") {
				bad = append(bad, d)
			}
		}
	}
	return bad
}
