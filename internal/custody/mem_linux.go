//go:build linux

package custody

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

var pageSize = os.Getpagesize()

// mapSecret returns n bytes of memory outside the Go heap: an anonymous private mapping that the
// garbage collector never copies, excluded from core dumps (MADV_DONTDUMP), zeroed in a forked
// child (MADV_WIPEONFORK) and locked against swapping where the process may lock memory. A
// failed mlock (EPERM without CAP_IPC_LOCK, ENOMEM past RLIMIT_MEMLOCK) is reported through
// locked=false, not an error: refusing to run would push operators to run as root instead.
func mapSecret(n int) (mem []byte, locked bool, err error) {
	size := (max(n, 1) + pageSize - 1) / pageSize * pageSize
	mem, err = unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, false, fmt.Errorf("custody: allocate secret memory: %w", err)
	}
	if err := unix.Madvise(mem, unix.MADV_DONTDUMP); err != nil {
		_ = unix.Munmap(mem)
		return nil, false, fmt.Errorf("custody: exclude secret memory from core dumps: %w", err)
	}
	// WIPEONFORK exists since Linux 4.14; older kernels return EINVAL and lose nothing else.
	_ = unix.Madvise(mem, unix.MADV_WIPEONFORK)
	switch err := unix.Mlock(mem); {
	case err == nil:
		locked = true
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.ENOMEM), errors.Is(err, unix.EAGAIN):
	default:
		_ = unix.Munmap(mem)
		return nil, false, fmt.Errorf("custody: lock secret memory: %w", err)
	}
	return mem[:n], locked, nil
}

// unmapSecret clears and releases memory from mapSecret. mem must be the slice mapSecret
// returned (its capacity is the whole mapping).
func unmapSecret(mem []byte, locked bool) {
	full := mem[:cap(mem)]
	clear(full)
	if locked {
		_ = unix.Munlock(full)
	}
	_ = unix.Munmap(full)
}

var protectOnce struct {
	sync.Mutex
	done bool
}

// ProtectProcess makes the process refuse core dumps: RLIMIT_CORE soft and hard limits 0 (so the
// limit cannot be raised again without privilege) and PR_SET_DUMPABLE 0, which also stops
// same-user processes from attaching with ptrace or reading /proc/PID/mem. [Unseal] calls it
// before any secret is decrypted; the daemon may call it earlier. It is idempotent and safe for
// concurrent use. There is no way back: a process that once held the seed stays non-dumpable.
func ProtectProcess() error {
	protectOnce.Lock()
	defer protectOnce.Unlock()
	if protectOnce.done {
		return nil
	}
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("custody: disable core dumps (RLIMIT_CORE): %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("custody: disable core dumps (PR_SET_DUMPABLE): %w", err)
	}
	protectOnce.done = true
	return nil
}
