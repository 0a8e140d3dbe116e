package bindings

import (
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
)

// MethodBySignature returns the method of a parsed ABI whose canonical Solidity signature
// (for example "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)")
// is sig. Packing with the returned method's RawName is ambiguous for overloads, so pack with
// its Name (abigen's disambiguated key) or with method.ID plus method.Inputs.Pack.
func MethodBySignature(parsed *abi.ABI, sig string) (abi.Method, error) {
	sig = strings.ReplaceAll(sig, " ", "")
	for _, m := range parsed.Methods {
		if m.Sig == sig {
			return m, nil
		}
	}
	return abi.Method{}, fmt.Errorf("bindings: no method with signature %q", sig)
}
