//go:build !unix

package devmode

import "os"

// lockDir is a no-op where flock(2) does not exist: do not start two `fleetkey dev` on one data
// directory there.
func lockDir(string) (*os.File, error) { return nil, nil }
