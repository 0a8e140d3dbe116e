//go:build !linux

package custody

// On systems other than Linux secrets live on the Go heap: the garbage collector may copy them
// and they are neither locked nor excluded from core dumps. fleetkey's custody is supported on
// Linux; elsewhere it runs for development only, and Vault.MemoryLocked reports false.
func mapSecret(n int) (mem []byte, locked bool, err error) {
	return make([]byte, n), false, nil
}

func unmapSecret(mem []byte, _ bool) { clear(mem[:cap(mem)]) }

// ProtectProcess disables core dumps on Linux. On other systems it does nothing and returns nil:
// core dumps there must be disabled by the operator (for example ulimit -c 0).
func ProtectProcess() error { return nil }
