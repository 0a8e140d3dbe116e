//go:build linux

package custody

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestProtectProcess(t *testing.T) {
	for range 2 { // idempotent
		if err := ProtectProcess(); err != nil {
			t.Fatal(err)
		}
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Cur != 0 || rl.Max != 0 {
		t.Fatalf("RLIMIT_CORE = %d/%d, want 0/0", rl.Cur, rl.Max)
	}
	d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d != 0 {
		t.Fatalf("dumpable = %d, want 0", d)
	}
}

// TestSecretMemoryFlags finds a secret's mapping in /proc/self/smaps and checks the kernel's
// flags: dd (MADV_DONTDUMP), wf (MADV_WIPEONFORK, kernel ≥ 4.14) and lo (locked) when mlock
// succeeded.
func TestSecretMemoryFlags(t *testing.T) {
	s, err := newSecret(64)
	if err != nil {
		t.Fatal(err)
	}
	defer s.wipe()
	addr := uint64(uintptr(unsafe.Pointer(&s.mem[0])))
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	found := false
	for sc.Scan() {
		line := sc.Text()
		// Adjacent mappings with equal flags merge, so look for the range containing addr.
		var lo, hi uint64
		if n, _ := fmt.Sscanf(line, "%x-%x ", &lo, &hi); n == 2 {
			found = lo <= addr && addr < hi
			continue
		}
		if found && strings.HasPrefix(line, "VmFlags:") {
			flags := strings.Fields(line)[1:]
			has := func(f string) bool {
				for _, x := range flags {
					if x == f {
						return true
					}
				}
				return false
			}
			if !has("dd") {
				t.Errorf("mapping not excluded from core dumps: %s", line)
			}
			if s.locked != has("lo") {
				t.Errorf("locked = %t but VmFlags %s", s.locked, line)
			}
			t.Logf("memory locked: %t; %s", s.locked, line)
			return
		}
	}
	t.Fatal("secret mapping not found in /proc/self/smaps")
}
