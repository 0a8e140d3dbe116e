//go:build unix

package interop

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts the child in a process group of its own, so that killing the group
// also ends whatever the child started.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
