package signer

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The signer's first half must stay pure: it may not link key material,
// storage or the daemon, directly or through anything it imports.
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
	if len(deps) < 10 {
		t.Fatalf("go list returned %d packages: %q", len(deps), out)
	}
	banned := []string{
		"github.com/fleetkey/fleetkey/internal/custody",
		"github.com/fleetkey/fleetkey/internal/keys",
		"github.com/fleetkey/fleetkey/internal/store",
		"github.com/fleetkey/fleetkey/internal/ledger",
		"github.com/fleetkey/fleetkey/internal/audit",
		"github.com/fleetkey/fleetkey/internal/api",
		"github.com/fleetkey/fleetkey/internal/chain",
	}
	for _, d := range deps {
		for _, b := range banned {
			if d == b || strings.HasPrefix(d, b+"/") {
				t.Errorf("signer depends on %s", d)
			}
		}
	}
}
