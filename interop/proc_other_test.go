//go:build !unix

package interop

import "os/exec"

// ownProcessGroup: without process groups, exec.CommandContext kills the child itself.
func ownProcessGroup(*exec.Cmd) {}
