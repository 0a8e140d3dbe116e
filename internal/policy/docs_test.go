package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDocsExamples keeps docs/policy.md honest: its example policy is the one in
// testdata, its CEL and rotation examples parse, and its cases example passes.
func TestDocsExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) != 4 {
		t.Fatalf("found %d yaml blocks, want 4", len(blocks))
	}
	example, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if blocks[0][1] != string(example) {
		t.Error("the example in docs/policy.md differs from testdata/example.yaml")
	}
	p := mustParse(t, blocks[0][1])
	mustParse(t, "version: 1\nname: p\n"+blocks[1][1])
	if r, ok := mustParse(t, "version: 1\nname: p\n"+blocks[2][1]).Rotation(); !ok || r.MaxKeyAge != 30*24*time.Hour || r.MaxSignatures != 10000 || r.Outstanding != OutstandingExpire {
		t.Errorf("docs rotation example: %+v", r)
	}
	results, err := CheckCases(p, []byte(blocks[3][1]))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if !r.Pass {
			t.Errorf("docs case %q: %s", r.Name, r.Failure)
		}
	}
	for _, r := range Reasons() {
		if !strings.Contains(string(doc), "| `"+string(r)+"` |") {
			t.Errorf("reason %s is not in the docs table", r)
		}
	}
}

// TestTestdataChecksums checks the sha256 sums listed in testdata/README.md.
func TestTestdataChecksums(t *testing.T) {
	readme, err := os.ReadFile("testdata/README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| ([^ |]+) \\|.*\\| `([0-9a-f]{64})` \\|$").FindAllStringSubmatch(string(readme), -1)
	if len(rows) != 2 {
		t.Fatalf("found %d checksum rows, want 2", len(rows))
	}
	for _, row := range rows {
		b, err := os.ReadFile("testdata/" + row[1])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != row[2] {
			t.Errorf("%s: sha256 %s, README says %s", row[1], got, row[2])
		}
	}
}
