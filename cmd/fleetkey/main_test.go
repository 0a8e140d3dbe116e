package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"fleetkey": func() {
			env := &cliEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
			os.Exit(run(env, os.Args[1:]))
		},
	})
}

// TestScripts runs the CLI behaviour scripts in testdata/*.txt (txtar format).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata"})
}
