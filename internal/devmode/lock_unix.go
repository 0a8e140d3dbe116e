//go:build unix

package devmode

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive advisory lock on dir's marker file, so that two `fleetkey dev`
// processes never share a data directory (one database, one dev.json). The lock lasts until the
// returned file is closed or the process exits.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, MarkerFile), os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("devmode: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("devmode: another fleetkey dev is running on %s; stop it first, or choose another --data-dir", dir)
		}
		return nil, fmt.Errorf("devmode: lock %s: %w", dir, err)
	}
	return f, nil
}
