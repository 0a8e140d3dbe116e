//go:build !(linux || darwin)

package devmode

import "os"

// TerminalWidth is 0 (unknown) where the window size is not read.
func TerminalWidth(*os.File) int { return 0 }
