// Package datadir names the files fleetkey keeps in its data directory, so that
// `fleetkey init`, `fleetkey serve` and the other commands agree on them.
package datadir

import "path/filepath"

// File names inside a data directory.
const (
	// DB is the SQLite database.
	DB = "fleetkey.db"
	// AdminToken holds the first admin operator token, written once by
	// `fleetkey init` with mode 0600; the database keeps only its hash.
	AdminToken = "admin.token"
)

// Path returns the path of file name inside the data directory dir.
func Path(dir, name string) string { return filepath.Join(dir, name) }
