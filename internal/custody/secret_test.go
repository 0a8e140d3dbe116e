package custody

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRedaction prints and logs every type that carries a secret, with every common verb and
// through slog's JSON handler, and looks for the secret (raw and hex).
func TestRedaction(t *testing.T) {
	_, res := initShares(t, 2, 3)
	share := res.Shares[0]
	secret := "tr0ub4dor&3 quite secret words"
	pass := mustPassphrase(t, secret)
	mn, _ := NewMnemonic([]byte(secret))
	sm, _ := NewShareMnemonic([]byte(secret))
	shareWords := share.Mnemonic.s.view()

	values := map[string]any{
		"Passphrase":    pass,
		"*Passphrase":   &pass,
		"Mnemonic":      mn,
		"ShareMnemonic": sm,
		"Share":         share,
		"Share value":   *share,
		"[]*Share":      res.Shares,
		"struct":        struct{ P Passphrase }{pass},
		"InitResult":    res,
		"secretBytes":   pass.s, // internal: fmt prints the pointer only
	}
	needles := []string{secret, hex.EncodeToString([]byte(secret)), strings.ToUpper(hex.EncodeToString([]byte(secret))), shareWords, strings.Fields(shareWords)[5] + " " + strings.Fields(shareWords)[6]}
	for name, v := range values {
		var out bytes.Buffer
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		fmt.Fprint(&out, v)
		fmt.Fprintln(&out, v)
		h := slog.NewJSONHandler(&out, nil)
		slog.New(h).Info("x", "v", v)
		slog.New(slog.NewTextHandler(&out, nil)).Info("x", "v", v)
		if b, err := json.Marshal(v); err == nil {
			out.Write(b)
		}
		for _, n := range needles {
			if strings.Contains(out.String(), n) {
				t.Errorf("%s: output contains a secret:\n%s", name, out.String())
			}
		}
		if name != "[]*Share" && name != "InitResult" && !strings.Contains(out.String(), redacted) {
			t.Errorf("%s: output does not say %s:\n%s", name, redacted, out.String())
		}
	}
}

func TestSecretEqualAndWipe(t *testing.T) {
	a, b, c := mustPassphrase(t, "one passphrase"), mustPassphrase(t, "one passphrase"), mustPassphrase(t, "one passphrasf")
	if !a.Equal(b) || a.Equal(c) || a.Equal(mustPassphrase(t, "one passphras")) {
		t.Fatal("Passphrase.Equal wrong")
	}
	a.Wipe()
	a.Wipe() // idempotent
	if !a.IsZero() || a.Equal(b) {
		t.Fatal("wiped passphrase still holds a value")
	}
	m1, _ := NewShareMnemonic([]byte("  Academic\tACID\n\nacrobat "))
	m2, _ := NewShareMnemonic([]byte("academic acid acrobat"))
	if !m1.Equal(m2) || m1.s.view() != "academic acid acrobat" {
		t.Fatalf("share mnemonic not normalized: %q", m1.s.view())
	}
	m1.Wipe()
	if !m1.IsZero() {
		t.Fatal("share mnemonic not wiped")
	}
	n1, _ := NewMnemonic([]byte("Legal Winner\n"))
	n2, _ := NewMnemonic([]byte("legal winner"))
	if !n1.Equal(n2) {
		t.Fatal("mnemonic not normalized")
	}
	src := []byte("wipe me please")
	p, _ := NewPassphrase(src)
	if !bytes.Equal(src, make([]byte, len(src))) {
		t.Fatal("NewPassphrase did not clear its input")
	}
	p.Wipe()
	for _, empty := range []string{"", " \n\t"} {
		if _, err := NewShareMnemonic([]byte(empty)); err == nil {
			t.Errorf("NewShareMnemonic(%q) accepted", empty)
		}
		if _, err := NewMnemonic([]byte(empty)); err == nil {
			t.Errorf("NewMnemonic(%q) accepted", empty)
		}
	}
	if _, err := NewPassphrase(nil); err == nil {
		t.Error("empty passphrase accepted")
	}
}

func TestReadPassphraseFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	tests := []struct {
		name, content string
		mode          os.FileMode
		want          string // "" means an error is expected
		wantErr       error
	}{
		{"plain", "hunter2 hunter2", 0o600, "hunter2 hunter2", nil},
		{"one newline stripped", "pass phrase\n", 0o600, "pass phrase", nil},
		{"crlf stripped", "pass phrase\r\n", 0o400, "pass phrase", nil},
		{"only one newline stripped", "pass phrase\n\n", 0o600, "pass phrase\n", nil},
		{"spaces kept", " pass phrase \n", 0o600, " pass phrase ", nil},
		{"empty", "", 0o600, "", nil},
		{"only newline", "\n", 0o600, "", nil},
		{"group readable", "pass phrase\n", 0o640, "", ErrInsecurePermissions},
		{"world readable", "pass phrase\n", 0o604, "", ErrInsecurePermissions},
		{"too large", strings.Repeat("x", maxPassphraseFile+1), 0o600, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ReadPassphraseFile(write(strings.ReplaceAll(tt.name, " ", "_"), tt.content, tt.mode))
			if tt.want == "" {
				if err == nil {
					t.Fatal("accepted")
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "pass phrase") {
					t.Fatal("error contains the passphrase")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(p.s.bytes()) != tt.want {
				t.Fatalf("got %q, want %q", p.s.bytes(), tt.want)
			}
		})
	}
	if _, err := ReadPassphraseFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestReadMnemonicAndShareFilePermissions(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m")
	os.WriteFile(p, []byte("legal winner thank year wave sausage worth useful legal winner thank yellow\n"), 0o644)
	if _, err := ReadMnemonicFile(p); !errors.Is(err, ErrInsecurePermissions) {
		t.Fatalf("mnemonic: %v", err)
	}
	if _, err := ReadShareFile(p); !errors.Is(err, ErrInsecurePermissions) {
		t.Fatalf("share: %v", err)
	}
	os.Chmod(p, 0o600)
	m, err := ReadMnemonicFile(p)
	if err != nil || m.s.view() != "legal winner thank year wave sausage worth useful legal winner thank yellow" {
		t.Fatalf("mnemonic: %v", err)
	}
}
