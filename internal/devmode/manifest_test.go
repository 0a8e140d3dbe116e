package devmode

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fleetkey/fleetkey/internal/demo"
)

// TestManifestKeys checks the keys of dev.json at every level against issue #5's documented
// interface (docs/dev.md): scripts read them by name, so a renamed JSON tag must fail here.
func TestManifestKeys(t *testing.T) {
	m := Manifest{
		APIURL: "http://127.0.0.1:8402", RPCURL: "http://127.0.0.1:8545", ChainID: ChainID, Network: "eip155:84532",
		FacilitatorURL: "http://127.0.0.1:8405", DemoAPIURL: "http://127.0.0.1:8404",
		Token:    ManifestToken{Address: "0x1", Name: "TestUSD", Version: "2", Decimals: 6, Symbol: "TUSD"},
		Treasury: "0x2", Merchant: "0x3", AdminTokenFile: "/d/admin.token",
		Approver: "alice", ApproverTokenFile: "/d/approver.token", PassphraseFile: "/d/dev.passphrase",
		DataDir: "/d", LogFile: "/d/fleetkey.log", Fleet: ManifestFleet{ID: "flt_1", Name: "demo"},
		Agents:        []ManifestAgent{{Name: "scout", ID: "agt_1", Group: "research", Address: "0x4", TokenFile: "/d/agents/scout.token"}},
		DemoEndpoints: []ManifestEndpoint{{Path: "/weather", Price: "0.001", Kind: "normal", URL: "http://127.0.0.1:8404/weather"}},
		Sidecar:       "fleetkey sidecar …", MCP: "fleetkey mcp …", Traffic: true, PID: 1,
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Top           map[string]json.RawMessage
		Token         map[string]json.RawMessage   `json:"token"`
		Agents        []map[string]json.RawMessage `json:"agents"`
		DemoEndpoints []map[string]json.RawMessage `json:"demo_endpoints"`
	}
	if err := json.Unmarshal(raw, &doc.Top); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	has := func(what string, obj map[string]json.RawMessage, keys ...string) {
		t.Helper()
		for _, k := range keys {
			if _, ok := obj[k]; !ok {
				t.Errorf("%s lacks %q: %s", what, k, raw)
			}
		}
	}
	// The keys, then the ones docs/dev.md adds.
	has("dev.json", doc.Top, "api_url", "rpc_url", "chain_id", "network", "facilitator_url", "demo_api_url", "token",
		"treasury", "admin_token_file", "agents", "demo_endpoints")
	has("dev.json", doc.Top, "merchant", "approver", "approver_token_file", "passphrase_file", "data_dir", "log_file",
		"fleet", "sidecar", "mcp", "traffic", "pid")
	has("token", doc.Token, "address", "name", "version", "decimals", "symbol")
	has("agents[0]", doc.Agents[0], "name", "id", "group", "address", "token_file")
	has("demo_endpoints[0]", doc.DemoEndpoints[0], "path", "price", "kind", "url")
	if _, ok := doc.Top["dashboard_url"]; ok {
		t.Error("dashboard_url present without a dashboard")
	}
	m.DashboardURL = "http://127.0.0.1:8406"
	if raw, _ := json.Marshal(m); !json.Valid(raw) || !slices.Contains(topKeys(t, raw), "dashboard_url") {
		t.Errorf("dashboard_url missing once set: %s", raw)
	}

	// The kinds are the five names.
	var kinds []string
	for _, k := range demo.Kinds() {
		kinds = append(kinds, string(k))
	}
	if want := []string{"normal", "overcharge", "foreign_payto", "wrong_domain", "repeat_402"}; !slices.Equal(kinds, want) {
		t.Errorf("demo kinds %v, want %v", kinds, want)
	}

	// ReadManifest round-trips the file and refuses one that is not JSON.
	path := filepath.Join(t.TempDir(), ManifestFile)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := got.Agent("scout"); !ok || a != m.Agents[0] || got.Token != m.Token || got.ChainID != ChainID {
		t.Errorf("ReadManifest: %+v", got)
	}
	if _, ok := got.Agent("nobody"); ok {
		t.Error("Agent found an agent that is not there")
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadManifest(path); err == nil {
		t.Error("ReadManifest accepted a file that is not JSON")
	}
}

func topKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range obj {
		keys = append(keys, k)
	}
	return keys
}
