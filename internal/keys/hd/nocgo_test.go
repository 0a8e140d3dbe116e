package hd

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestRefusesToBuildWithoutCgo checks that nocgo.go stops a CGO_ENABLED=0 build with its
// descriptive identifier, so the variable-time secp256k1 fallback can never be shipped.
func TestRefusesToBuildWithoutCgo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package with the go command; not run with -short")
	}
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		t.Skipf("go command not available at %s: %v", goCmd, err)
	}
	cmd := exec.Command(goCmd, "build", "-o", os.DevNull, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("package built with CGO_ENABLED=0")
	}
	if !strings.Contains(string(out), "hdRequiresCgoForConstantTimeSecp256k1BuildWithCGO_ENABLED1") {
		t.Fatalf("build failed for another reason:\n%s", out)
	}
}
