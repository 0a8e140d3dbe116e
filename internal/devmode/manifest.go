package devmode

import (
	"encoding/json"
	"fmt"
	"os"
)

// Manifest is DATA_DIR/dev.json: where everything of a running environment is, for scripts and
// tests. Its keys are a documented interface (docs/dev.md): keys are added, never renamed.
// It holds file paths of tokens, never a token.
type Manifest struct {
	APIURL         string `json:"api_url"`
	RPCURL         string `json:"rpc_url"`
	ChainID        uint64 `json:"chain_id"`
	Network        string `json:"network"`
	FacilitatorURL string `json:"facilitator_url"`
	DemoAPIURL     string `json:"demo_api_url"`
	// DashboardURL is empty (and omitted) until fleetkey has a dashboard.
	DashboardURL string        `json:"dashboard_url,omitempty"`
	Token        ManifestToken `json:"token"`
	// Treasury is the fleet's treasury: the dev account that owns TestUSD and mints it to the
	// agents on every start.
	Treasury string `json:"treasury"`
	// Merchant receives the demo API's honest payments.
	Merchant       string `json:"merchant"`
	AdminTokenFile string `json:"admin_token_file"`
	// Approver is the operator name the demo approval rule lists; ApproverTokenFile is its
	// operator token (role approver).
	Approver          string `json:"approver"`
	ApproverTokenFile string `json:"approver_token_file"`
	// PassphraseFile unseals the development root seed.
	PassphraseFile string `json:"passphrase_file"`
	DataDir        string `json:"data_dir"`
	// LogFile receives the daemon's JSON log.
	LogFile       string             `json:"log_file"`
	Fleet         ManifestFleet      `json:"fleet"`
	Agents        []ManifestAgent    `json:"agents"`
	DemoEndpoints []ManifestEndpoint `json:"demo_endpoints"`
	// Sidecar and MCP are example command lines for the first agent.
	Sidecar string `json:"sidecar"`
	MCP     string `json:"mcp"`
	// Traffic reports whether simulated agents are running.
	Traffic bool `json:"traffic"`
	// PID is the process serving the environment.
	PID int `json:"pid"`
}

// ManifestToken is the devnet's TestUSD.
type ManifestToken struct {
	Address string `json:"address"`
	// Name and Version are its EIP-712 domain.
	Name     string `json:"name"`
	Version  string `json:"version"`
	Decimals uint8  `json:"decimals"`
	Symbol   string `json:"symbol"`
}

// ManifestFleet is the demo fleet.
type ManifestFleet struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ManifestAgent is one demo agent.
type ManifestAgent struct {
	Name    string `json:"name"`
	ID      string `json:"id"`
	Group   string `json:"group"`
	Address string `json:"address"`
	// TokenFile holds the agent's token (0600).
	TokenFile string `json:"token_file"`
}

// ManifestEndpoint is one paid endpoint of the demo API.
type ManifestEndpoint struct {
	Path string `json:"path"`
	// Price is the advertised price in whole tokens.
	Price string `json:"price"`
	// Kind is normal, overcharge, foreign_payto, wrong_domain or repeat_402.
	Kind string `json:"kind"`
	// URL is the endpoint's full URL.
	URL string `json:"url"`
}

// ReadManifest reads a dev.json.
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("devmode: manifest %s: %w", path, err)
	}
	return &m, nil
}

// Agent returns the manifest's agent of that name.
func (m *Manifest) Agent(name string) (ManifestAgent, bool) {
	for _, a := range m.Agents {
		if a.Name == name {
			return a, true
		}
	}
	return ManifestAgent{}, false
}
