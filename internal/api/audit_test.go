package api

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/audit"
	"github.com/fleetkey/fleetkey/internal/store"
	"github.com/fleetkey/fleetkey/internal/store/sqlite"
)

type keySigner struct{ k *ecdsa.PrivateKey }

func (s keySigner) SignDigest(d [32]byte) ([65]byte, error) {
	var out [65]byte
	sig, err := crypto.Sign(d[:], s.k)
	copy(out[:], sig)
	return out, err
}

func (s keySigner) Address() common.Address { return crypto.PubkeyToAddress(s.k.PublicKey) }

// TestAuditExportShape: the records and checkpoints the auditor routes send are, object for
// object, the JSON Lines audit.Export writes, so a client that pages through them holds an export
// that audit.VerifyExport accepts against the checkpoint key GET /v1/audit/key names. The chain is
// a separate SQLite store with checkpoints every 5 records and data holding characters a JSON
// encoder escapes.
func TestAuditExportShape(t *testing.T) {
	e := newOpEnv(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "chain.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer := keySigner{k}
	alog, err := audit.New(audit.Options{Signer: signer, CheckpointEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Tx(ctx, func(tx store.Tx) error {
		for i := range 23 {
			data := map[string]any{"i": i, "note": "<a & b>"}
			if _, err := alog.Append(ctx, tx, audit.Entry{Actor: audit.System, Action: "test.step", Subject: fmt.Sprint("s", i), Data: data}); err != nil {
				return err
			}
		}
		_, err := alog.Checkpoint(ctx, tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewHandler(Config{Payments: e.svc, Operators: e.svc, Audit: st, AuditKey: signer.Address(),
		Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	get := func(path string, v any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", e.auditor)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}

	var records []json.RawMessage
	for after := "0"; ; {
		var page struct{ Records []json.RawMessage }
		get("/v1/audit/records?limit=10&after="+after, &page)
		records = append(records, page.Records...)
		if len(page.Records) < 10 {
			break
		}
		var last struct{ Seq uint64 }
		json.Unmarshal(page.Records[len(page.Records)-1], &last)
		after = fmt.Sprint(last.Seq)
	}
	var cps struct{ Checkpoints []json.RawMessage }
	get("/v1/audit/checkpoints", &cps)
	var key auditKeyResponse
	get("/v1/audit/key", &key)

	// audit.Export's lines, by type.
	var export bytes.Buffer
	if err := audit.Export(ctx, st, &export); err != nil {
		t.Fatal(err)
	}
	var wantRecords, wantCheckpoints []any
	for _, line := range bytes.Split(bytes.TrimSpace(export.Bytes()), []byte("\n")) {
		var v map[string]any
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatal(err)
		}
		if v["type"] == "record" {
			wantRecords = append(wantRecords, v)
		} else {
			wantCheckpoints = append(wantCheckpoints, v)
		}
	}
	decodeAll := func(raws []json.RawMessage) []any {
		var out []any
		for _, r := range raws {
			var v map[string]any
			if err := json.Unmarshal(r, &v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		return out
	}
	if got := decodeAll(records); len(got) != 23 || !reflect.DeepEqual(got, wantRecords) {
		t.Errorf("records differ from audit.Export:\n%v\n%v", got, wantRecords)
	}
	if got := decodeAll(cps.Checkpoints); len(got) != 5 || !reflect.DeepEqual(got, wantCheckpoints) {
		t.Errorf("checkpoints differ from audit.Export:\n%v\n%v", got, wantCheckpoints)
	}

	// What a client writes from the answers verifies against the served key.
	var lines bytes.Buffer
	for _, r := range append(records, cps.Checkpoints...) {
		lines.Write(r)
		lines.WriteByte('\n')
	}
	rep, err := audit.VerifyExport(ctx, &lines, common.HexToAddress(key.Address))
	if err != nil || !rep.OK() || rep.Records != 23 || rep.Checkpoints != 5 {
		t.Errorf("verify: %+v %v", rep, err)
	}
}
