package hd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"
)

// ErrInvalidAddress reports a string that is not a 0x-prefixed 20-byte hex address, or a
// mixed-case address whose EIP-55 checksum is wrong.
var ErrInvalidAddress = errors.New("hd: invalid address")

// ChecksumAddress validates an Ethereum address and returns it in EIP-55 mixed case. All-lower
// and all-upper hex carry no checksum and are accepted; a mixed-case address must already match
// its EIP-55 checksum, because a wrong mix of cases is the sign of a mistyped address.
func ChecksumAddress(addr string) (string, error) {
	if len(addr) != 42 || (addr[:2] != "0x" && addr[:2] != "0X") {
		return "", ErrInvalidAddress
	}
	digits := addr[2:]
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", ErrInvalidAddress
		}
	}
	sum := common.HexToAddress(digits).Hex()
	if digits != strings.ToLower(digits) && digits != strings.ToUpper(digits) && digits != sum[2:] {
		return "", fmt.Errorf("%w: EIP-55 checksum mismatch", ErrInvalidAddress)
	}
	return sum, nil
}
