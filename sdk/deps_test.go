package sdk

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The SDK runs inside agents: it must not link key material, storage or the signing service,
// directly or through anything it imports (tests may; they are not in the list).
func TestImportBan(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !containsPkg(deps, "github.com/fleetkey/fleetkey/x402") {
		t.Fatalf("go list returned %d packages, without x402: %q", len(deps), out)
	}
	if bad := bannedDeps(deps); len(bad) > 0 {
		t.Errorf("sdk depends on %v", bad)
	}
	// The check must notice a banned package when one is there.
	if bad := bannedDeps(append(deps, "github.com/fleetkey/fleetkey/internal/keys/hd")); len(bad) != 1 {
		t.Errorf("the ban does not catch internal/keys/hd: %v", bad)
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

func containsPkg(deps []string, p string) bool {
	for _, d := range deps {
		if d == p {
			return true
		}
	}
	return false
}
