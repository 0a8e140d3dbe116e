//go:build !unix

package interop

import "os/exec"

// ownProcessGroup: without process groups, exec.CommandContext kills the child itself.
func ownProcessGroup(*exec.Cmd) {}

// lockFile: no cross-process lock; concurrent installs are the caller's problem there.
func lockFile(string) (func(), error) { return func() {}, nil }
