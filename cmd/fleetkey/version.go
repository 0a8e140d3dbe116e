package main

import (
	"fmt"
	"runtime/debug"
)

// Set at link time by the Makefile (-ldflags "-X main.version=... -X main.commit=...");
// build info fills them when the binary was built with VCS stamping.
var (
	version = ""
	commit  = ""
)

type buildInfo struct {
	Version   string
	Commit    string
	GoVersion string
	Modified  bool
}

func readBuildInfo() buildInfo {
	bi := buildInfo{Version: version, Commit: commit, GoVersion: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if ok {
		bi.GoVersion = info.GoVersion
		if bi.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			bi.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if bi.Commit == "" {
					bi.Commit = s.Value
				}
			case "vcs.modified":
				bi.Modified = s.Value == "true"
			}
		}
	}
	if bi.Version == "" {
		bi.Version = "devel"
	}
	if bi.Commit == "" {
		bi.Commit = "unknown"
	}
	return bi
}

func runVersion(env *cliEnv, args []string) error {
	fs := newFlagSet(env, "version", "", "Print the fleetkey version, the commit it was built from and the Go version.")
	if err := parseFlags(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	bi := readBuildInfo()
	dirty := ""
	if bi.Modified {
		dirty = " (modified)"
	}
	fmt.Fprintf(env.stdout, "fleetkey %s\ncommit %s%s\n%s\n", bi.Version, bi.Commit, dirty, bi.GoVersion)
	return nil
}
