package bindings

import (
	"encoding/hex"
	"testing"
)

// TestOverloadSelectors pins the abigen name → Solidity overload mapping documented in doc.go,
// so that a regeneration that reorders overloads fails here instead of silently calling the
// other overload.
func TestOverloadSelectors(t *testing.T) {
	parsed, err := TestUSDMetaData.GetAbi()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		goName, sig, selector string
	}{
		{"transferWithAuthorization", "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)", "cf092995"},
		{"transferWithAuthorization0", "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)", "e3ee160e"},
		{"receiveWithAuthorization", "receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)", "88b7ab63"},
		{"receiveWithAuthorization0", "receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)", "ef55bec6"},
		{"cancelAuthorization", "cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)", "5a049a70"},
		{"cancelAuthorization0", "cancelAuthorization(address,bytes32,bytes)", "b7b72899"},
		{"permit", "permit(address,address,uint256,uint256,bytes)", "9fd5a6cf"},
		{"permit0", "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)", "d505accf"},
		{"authorizationState", "authorizationState(address,bytes32)", "e94a0102"},
	}
	for _, tt := range tests {
		t.Run(tt.goName, func(t *testing.T) {
			m, ok := parsed.Methods[tt.goName]
			if !ok {
				t.Fatalf("no method %q in the ABI", tt.goName)
			}
			if m.Sig != tt.sig {
				t.Errorf("%s is %s, want %s", tt.goName, m.Sig, tt.sig)
			}
			if got := hex.EncodeToString(m.ID); got != tt.selector {
				t.Errorf("%s selector %s, want %s", tt.goName, got, tt.selector)
			}
			bySig, err := MethodBySignature(parsed, tt.sig)
			if err != nil {
				t.Fatal(err)
			}
			if bySig.Name != tt.goName {
				t.Errorf("MethodBySignature(%s) = %s, want %s", tt.sig, bySig.Name, tt.goName)
			}
		})
	}
	if _, err := MethodBySignature(parsed, "transferWithAuthorization(bytes)"); err == nil {
		t.Error("MethodBySignature accepted an unknown signature")
	}
}

func TestMulticallSelectors(t *testing.T) {
	parsed, err := MulticallMetaData.GetAbi()
	if err != nil {
		t.Fatal(err)
	}
	// Multicall3's selectors, which clients hard-code.
	want := map[string]string{
		"aggregate((address,bytes)[])":         "252dba42",
		"tryAggregate(bool,(address,bytes)[])": "bce38bd7",
		"aggregate3((address,bool,bytes)[])":   "82ad56cb",
		"getBlockNumber()":                     "42cbb15c",
		"getCurrentBlockTimestamp()":           "0f28c97d",
		"getChainId()":                         "3408e470",
		"getEthBalance(address)":               "4d2301cc",
	}
	for sig, sel := range want {
		m, err := MethodBySignature(parsed, sig)
		if err != nil {
			t.Errorf("%s: %v", sig, err)
			continue
		}
		if got := hex.EncodeToString(m.ID); got != sel {
			t.Errorf("%s selector %s, want %s", sig, got, sel)
		}
	}
}
