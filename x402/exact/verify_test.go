package exact

import (
	"context"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// fakeChain is a ContractCaller over fixed code and a fixed isValidSignature
// answer, standing in for a node in unit tests.
type fakeChain struct {
	code    map[common.Address][]byte
	answer  []byte
	callErr error
	codeErr error
	calls   int
	lastTo  common.Address
	lastIn  []byte
}

func (f *fakeChain) CodeAt(_ context.Context, a common.Address, _ *big.Int) ([]byte, error) {
	return f.code[a], f.codeErr
}

func (f *fakeChain) CallContract(_ context.Context, m ethereum.CallMsg, _ *big.Int) ([]byte, error) {
	f.calls++
	f.lastTo, f.lastIn = *m.To, m.Data
	return f.answer, f.callErr
}

type codedErr struct{}

func (codedErr) Error() string  { return "reverted: custom" }
func (codedErr) ErrorCode() int { return 3 }

func TestVerifySignatureECDSA(t *testing.T) {
	v := loadVector(t)
	key, _ := crypto.HexToECDSA(v.PrivateKey[2:])
	signer := crypto.PubkeyToAddress(key.PublicKey)
	digest := common.HexToHash(v.Digest)
	sig, _ := DecodeSignature(v.Signature)

	n := crypto.S256().Params().N
	highS := func() []byte {
		s := append([]byte(nil), sig...)
		hs := new(big.Int).Sub(n, new(big.Int).SetBytes(sig[32:64]))
		hs.FillBytes(s[32:64])
		s[64] ^= 1 // the flipped s recovers with the other parity
		return s
	}
	withV := func(v byte) []byte { s := append([]byte(nil), sig...); s[64] = v; return s }

	cases := []struct {
		name string
		sig  []byte
		ok   bool
	}{
		{"v 27/28", sig, true},
		{"v 0/1", withV(sig[64] - 27), true},
		{"v 29", withV(29), false},
		{"high s", highS(), false},
		{"64 bytes", sig[:64], false},
		{"66 bytes", append(append([]byte(nil), sig...), 0), false},
		{"zero r", append(make([]byte, 32), sig[32:]...), false},
		{"other digest", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := digest
			s := c.sig
			if s == nil {
				s, d = sig, common.Hash{1}
			}
			for _, chain := range []ContractCaller{nil, &fakeChain{}} {
				err := VerifySignature(context.Background(), chain, signer, d, s)
				if c.ok && err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if !c.ok && !errors.Is(err, ErrInvalidSignature) {
					t.Fatalf("err = %v, want ErrInvalidSignature", err)
				}
			}
		})
	}
	if err := VerifySignature(context.Background(), nil, common.Address{1}, digest, sig); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("wrong signer accepted: %v", err)
	}
	v2, r, s, err := SplitSignature(withV(0))
	if err != nil || v2 != 27 || r != [32]byte(sig[:32]) || s != [32]byte(sig[32:64]) {
		t.Fatalf("SplitSignature normalised v to %d, %v", v2, err)
	}
}

func TestVerifySignatureEIP1271(t *testing.T) {
	wallet := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	digest := common.Hash{7}
	magic := common.RightPadBytes([]byte{0x16, 0x26, 0xba, 0x7e}, 32)
	longSig := make([]byte, 100)
	cases := []struct {
		name    string
		answer  []byte
		callErr error
		wantInv bool
		wantErr bool
	}{
		{"magic", magic, nil, false, false},
		{"magic with trailing data", append(append([]byte(nil), magic...), 1), nil, false, false},
		{"wrong value", common.RightPadBytes([]byte{0xff, 0xff, 0xff, 0xff}, 32), nil, true, true},
		{"dirty low bits", append([]byte{0x16, 0x26, 0xba, 0x7e}, common.LeftPadBytes([]byte{1}, 28)...), nil, true, true},
		{"short answer", []byte{0x16, 0x26, 0xba, 0x7e}, nil, true, true},
		{"revert code 3", nil, codedErr{}, true, true},
		{"revert text", nil, errors.New("execution reverted"), true, true},
		{"rpc down", nil, errors.New("connection refused"), false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			chain := &fakeChain{code: map[common.Address][]byte{wallet: {0x60}}, answer: c.answer, callErr: c.callErr}
			err := VerifySignature(context.Background(), chain, wallet, digest, longSig)
			if (err != nil) != c.wantErr || errors.Is(err, ErrInvalidSignature) != c.wantInv {
				t.Fatalf("err = %v", err)
			}
			if chain.calls != 1 || chain.lastTo != wallet {
				t.Fatalf("isValidSignature not called on the wallet")
			}
			// selector ‖ digest ‖ offset 64 ‖ length 100 ‖ 100 bytes padded to 128.
			in := chain.lastIn
			if len(in) != 4+32*3+128 || [4]byte(in[:4]) != [4]byte{0x16, 0x26, 0xba, 0x7e} ||
				common.BytesToHash(in[4:36]) != digest || new(big.Int).SetBytes(in[36:68]).Int64() != 64 ||
				new(big.Int).SetBytes(in[68:100]).Int64() != 100 {
				t.Fatalf("bad calldata %x", in)
			}
		})
	}
	// An address with code gets no ECDSA fallback, even for a valid ECDSA signature.
	v := loadVector(t)
	sig, _ := DecodeSignature(v.Signature)
	signer := common.HexToAddress(v.Address)
	chain := &fakeChain{code: map[common.Address][]byte{signer: {0xef, 0x01, 0x00}}, answer: make([]byte, 32)}
	if err := VerifySignature(context.Background(), chain, signer, common.HexToHash(v.Digest), sig); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("ECDSA fallback for an address with code: %v", err)
	}
	if err := VerifySignature(context.Background(), &fakeChain{codeErr: errors.New("down")}, signer, digest, sig); err == nil || errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("code lookup failure reported as %v", err)
	}
}

func TestDecodeSignature(t *testing.T) {
	for _, s := range []string{"", "0x0", "12", "0xzz", "0x1"} {
		if _, err := DecodeSignature(s); err == nil {
			t.Errorf("DecodeSignature(%q) accepted", s)
		}
	}
	if b, err := DecodeSignature("0xAbCd"); err != nil || len(b) != 2 {
		t.Errorf("DecodeSignature(0xAbCd) = %x, %v", b, err)
	}
}
