package devnet

import (
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/chain/bindings"
)

const (
	sigTransferVRS   = "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"
	sigTransferBytes = "transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"
	sigReceiveVRS    = "receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"
	sigReceiveBytes  = "receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"
	sigCancelVRS     = "cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)"
	sigCancelBytes   = "cancelAuthorization(address,bytes32,bytes)"
	sigPermitVRS     = "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"

	reasonUsed        = "FiatTokenV2: authorization is used or canceled"
	reasonInvalidSig  = "FiatTokenV2: invalid signature"
	reasonExpired     = "FiatTokenV2: authorization is expired"
	reasonNotYetValid = "FiatTokenV2: authorization is not yet valid"
)

// pack encodes a call to the TestUSD overload with the given Solidity signature.
func pack(t testing.TB, sig string, args ...any) []byte {
	t.Helper()
	m, err := bindings.MethodBySignature(tokenABI(t), sig)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := m.Inputs.Pack(args...)
	if err != nil {
		t.Fatalf("pack %s: %v", sig, err)
	}
	return append(append([]byte(nil), m.ID...), enc...)
}

// authCall encodes transfer/receiveWithAuthorization for a; vrs selects the (v,r,s) overload.
func authCall(t testing.TB, sigVRS, sigBytes string, vrs bool, a auth, sig []byte) []byte {
	t.Helper()
	if vrs {
		v, r, s := splitSig(sig)
		return pack(t, sigVRS, a.From, a.To, a.Value, a.ValidAfter, a.ValidBefore, a.Nonce, v, r, s)
	}
	return pack(t, sigBytes, a.From, a.To, a.Value, a.ValidAfter, a.ValidBefore, a.Nonce, sig)
}

// facilitator returns a Sender for dev account i, which submits other accounts' authorizations.
func facilitator(t testing.TB, d *Devnet, i int) *chain.Sender {
	t.Helper()
	key, addr := accountKey(t, d, i)
	return chain.NewSender(d.Client(), addr, transactor(t, d, key).Signer, new(big.Int).SetUint64(d.ChainID()))
}

func submit(t testing.TB, d *Devnet, s *chain.Sender, data []byte) *types.Receipt {
	t.Helper()
	to := d.Token().Address
	tx, err := s.Send(testContext(t), chain.Tx{To: &to, Data: data})
	return mined(t, d, tx, err)
}

func balance(t testing.TB, d *Devnet, who common.Address) *big.Int {
	t.Helper()
	b, err := token(t, d).BalanceOf(&bind.CallOpts{}, who)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newAuth(t testing.TB, from, to common.Address, value int64) auth {
	return auth{
		From: from, To: to, Value: big.NewInt(value),
		ValidAfter:  big.NewInt(0),
		ValidBefore: big.NewInt(time.Now().Add(time.Hour).Unix()),
		Nonce:       randomNonce(t),
	}
}

func TestTransferWithAuthorization(t *testing.T) {
	d := startDevnet(t, Config{Accounts: 4})
	payerKey, payer := accountKey(t, d, 1)
	fac := facilitator(t, d, 2)
	tk := token(t, d)

	for _, vrs := range []bool{true, false} {
		name := map[bool]string{true: "vrs", false: "bytes"}[vrs]
		t.Run(name, func(t *testing.T) {
			payee := common.BytesToAddress(crypto.Keccak256([]byte("payee " + name))[:20])
			a := newAuth(t, payer, payee, 10_000)
			a.ValidAfter = big.NewInt(time.Now().Add(-10 * time.Minute).Unix()) // as x402 v1 clients sign
			sig := sign65(t, payerKey, authDigest(t, d, "TransferWithAuthorization", a))
			before := balance(t, d, payer)

			r := submit(t, d, fac, authCall(t, sigTransferVRS, sigTransferBytes, vrs, a, sig))

			if got := balance(t, d, payee); got.Cmp(a.Value) != 0 {
				t.Errorf("payee balance %s, want %s", got, a.Value)
			}
			if got := new(big.Int).Sub(before, balance(t, d, payer)); got.Cmp(a.Value) != 0 {
				t.Errorf("payer paid %s, want %s", got, a.Value)
			}
			var sawTransfer, sawUsed bool
			for _, l := range r.Logs {
				if ev, err := tk.ParseTransfer(*l); err == nil {
					sawTransfer = ev.From == payer && ev.To == payee && ev.Value.Cmp(a.Value) == 0
				}
				if ev, err := tk.ParseAuthorizationUsed(*l); err == nil {
					sawUsed = ev.Authorizer == payer && ev.Nonce == a.Nonce
				}
			}
			if !sawTransfer || !sawUsed {
				t.Errorf("logs: Transfer %v, AuthorizationUsed %v", sawTransfer, sawUsed)
			}
			used, err := tk.AuthorizationState(&bind.CallOpts{}, payer, a.Nonce)
			if err != nil || !used {
				t.Errorf("authorizationState = %v, %v", used, err)
			}
			// Replay: the same call now reverts with USDC's reason, both overloads.
			for _, overload := range []bool{true, false} {
				mustContain(t, revertReason(t, d, fac.From(), authCall(t, sigTransferVRS, sigTransferBytes, overload, a, sig)), reasonUsed)
			}
		})
	}

	// eth_getLogs over HTTP finds the AuthorizationUsed events.
	var logs []struct {
		Address common.Address `json:"address"`
		Topics  []common.Hash  `json:"topics"`
	}
	usedTopic := tokenABI(t).Events["AuthorizationUsed"].ID
	rpcOK(t, d.RPCURL(), &logs, "eth_getLogs", map[string]any{
		"fromBlock": "0x0", "toBlock": "latest", "address": d.Token().Address, "topics": []any{usedTopic},
	})
	if len(logs) != 2 {
		t.Errorf("eth_getLogs found %d AuthorizationUsed events, want 2", len(logs))
	}
	for _, l := range logs {
		if l.Address != d.Token().Address || len(l.Topics) != 3 || common.BytesToAddress(l.Topics[1][:]) != payer {
			t.Errorf("log %+v", l)
		}
	}
}

// TestAuthorizationRejected covers the checks a facilitator relies on for precise reasons.
func TestAuthorizationRejected(t *testing.T) {
	d := startDevnet(t, Config{Accounts: 3, ChainID: 84532})
	payerKey, payer := accountKey(t, d, 1)
	otherKey, _ := accountKey(t, d, 2)
	fac := d.Accounts()[2].Address
	payee := common.HexToAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")
	head, err := d.Client().HeaderByNumber(testContext(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	secp256k1N, _ := new(big.Int).SetString("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", 16)

	tests := []struct {
		name   string
		mutate func(a *auth) // applied before signing
		resign func(a auth, sig []byte) (auth, []byte)
		want   string
	}{
		{"expired", func(a *auth) { a.ValidBefore = new(big.Int).SetUint64(head.Time) }, nil, reasonExpired},
		{"not yet valid", func(a *auth) { a.ValidAfter = big.NewInt(time.Now().Add(time.Hour).Unix()) }, nil, reasonNotYetValid},
		{"value changed after signing", nil, func(a auth, sig []byte) (auth, []byte) {
			a.Value = big.NewInt(20_000)
			return a, sig
		}, reasonInvalidSig},
		{"validBefore changed after signing", nil, func(a auth, sig []byte) (auth, []byte) {
			a.ValidBefore = new(big.Int).Add(a.ValidBefore, big.NewInt(1))
			return a, sig
		}, reasonInvalidSig},
		{"signed by someone else", nil, func(a auth, _ []byte) (auth, []byte) {
			return a, sign65(t, otherKey, authDigest(t, d, "TransferWithAuthorization", a))
		}, reasonInvalidSig},
		{"high s (malleated twin)", nil, func(a auth, sig []byte) (auth, []byte) {
			s := new(big.Int).Sub(secp256k1N, new(big.Int).SetBytes(sig[32:64]))
			out := append([]byte(nil), sig...)
			s.FillBytes(out[32:64])
			out[64] ^= 1 // 27 <-> 28: the twin recovers the same key
			return a, out
		}, reasonInvalidSig},
		{"v as recovery id 0/1", nil, func(a auth, sig []byte) (auth, []byte) {
			out := append([]byte(nil), sig...)
			out[64] -= 27
			return a, out
		}, reasonInvalidSig},
		{"signed for another receive type", nil, func(a auth, _ []byte) (auth, []byte) {
			return a, sign65(t, payerKey, authDigest(t, d, "ReceiveWithAuthorization", a))
		}, reasonInvalidSig},
		{"insufficient balance", func(a *auth) { a.Value = new(big.Int).Add(DefaultTokenMint, big.NewInt(1)) }, nil,
			"ERC20: transfer amount exceeds balance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuth(t, payer, payee, 10_000)
			if tt.mutate != nil {
				tt.mutate(&a)
			}
			sig := sign65(t, payerKey, authDigest(t, d, "TransferWithAuthorization", a))
			if tt.resign != nil {
				a, sig = tt.resign(a, sig)
			}
			for _, vrs := range []bool{true, false} {
				mustContain(t, revertReason(t, d, fac, authCall(t, sigTransferVRS, sigTransferBytes, vrs, a, sig)), tt.want)
			}
		})
	}
	t.Run("short bytes signature", func(t *testing.T) {
		a := newAuth(t, payer, payee, 1)
		sig := sign65(t, payerKey, authDigest(t, d, "TransferWithAuthorization", a))
		mustContain(t, revertReason(t, d, fac, pack(t, sigTransferBytes, a.From, a.To, a.Value, a.ValidAfter, a.ValidBefore, a.Nonce, sig[:64])), reasonInvalidSig)
	})
}

func TestReceiveWithAuthorization(t *testing.T) {
	d := startDevnet(t, Config{Accounts: 4})
	payerKey, payer := accountKey(t, d, 1)
	payeeSender := facilitator(t, d, 2)
	payee := payeeSender.From()
	for _, vrs := range []bool{true, false} {
		a := newAuth(t, payer, payee, 5_000)
		sig := sign65(t, payerKey, authDigest(t, d, "ReceiveWithAuthorization", a))
		data := authCall(t, sigReceiveVRS, sigReceiveBytes, vrs, a, sig)
		// Anyone but the payee is refused, so a watcher cannot front-run the payee's call.
		mustContain(t, revertReason(t, d, d.Accounts()[3].Address, data), "FiatTokenV2: caller must be the payee")
		// A TransferWithAuthorization signature does not work for receive.
		wrong := sign65(t, payerKey, authDigest(t, d, "TransferWithAuthorization", a))
		mustContain(t, revertReason(t, d, payee, authCall(t, sigReceiveVRS, sigReceiveBytes, vrs, a, wrong)), reasonInvalidSig)

		before := balance(t, d, payee)
		submit(t, d, payeeSender, data)
		if got := new(big.Int).Sub(balance(t, d, payee), before); got.Cmp(a.Value) != 0 {
			t.Errorf("vrs=%v: payee received %s, want %s", vrs, got, a.Value)
		}
		mustContain(t, revertReason(t, d, payee, data), reasonUsed)
	}
}

func TestCancelAuthorization(t *testing.T) {
	d := startDevnet(t, Config{Accounts: 3})
	payerKey, payer := accountKey(t, d, 1)
	fac := facilitator(t, d, 2)
	tk := token(t, d)
	cancelFields := []apitypes.Type{{Name: "authorizer", Type: "address"}, {Name: "nonce", Type: "bytes32"}}

	for _, vrs := range []bool{true, false} {
		a := newAuth(t, payer, fac.From(), 1_000)
		transferSig := sign65(t, payerKey, authDigest(t, d, "TransferWithAuthorization", a))
		cancelSig := sign65(t, payerKey, typedDigest(t, d, "CancelAuthorization", cancelFields, apitypes.TypedDataMessage{
			"authorizer": payer.Hex(), "nonce": common.Hash(a.Nonce).Hex(),
		}))
		var data []byte
		if vrs {
			v, r, s := splitSig(cancelSig)
			data = pack(t, sigCancelVRS, payer, a.Nonce, v, r, s)
		} else {
			data = pack(t, sigCancelBytes, payer, a.Nonce, cancelSig)
		}
		// A cancellation signed by someone else is refused.
		otherKey, _ := accountKey(t, d, 2)
		forged := sign65(t, otherKey, typedDigest(t, d, "CancelAuthorization", cancelFields, apitypes.TypedDataMessage{
			"authorizer": payer.Hex(), "nonce": common.Hash(a.Nonce).Hex(),
		}))
		mustContain(t, revertReason(t, d, fac.From(), pack(t, sigCancelBytes, payer, a.Nonce, forged)), reasonInvalidSig)

		r := submit(t, d, fac, data)
		var canceled bool
		for _, l := range r.Logs {
			if ev, err := tk.ParseAuthorizationCanceled(*l); err == nil {
				canceled = ev.Authorizer == payer && ev.Nonce == a.Nonce
			}
		}
		if !canceled {
			t.Errorf("vrs=%v: no AuthorizationCanceled event", vrs)
		}
		if used, _ := tk.AuthorizationState(&bind.CallOpts{}, payer, a.Nonce); !used {
			t.Errorf("vrs=%v: authorizationState false after cancel", vrs)
		}
		mustContain(t, revertReason(t, d, fac.From(), authCall(t, sigTransferVRS, sigTransferBytes, true, a, transferSig)), reasonUsed)
		mustContain(t, revertReason(t, d, fac.From(), data), reasonUsed)
	}
}

// TestEIP1271Wallet pays from a TestWallet contract: the token asks the wallet, not ecrecover.
func TestEIP1271Wallet(t *testing.T) {
	d := startDevnet(t, Config{Accounts: 5})
	ownerKey, owner := accountKey(t, d, 3)
	otherKey, _ := accountKey(t, d, 4)
	fac := facilitator(t, d, 2)
	ctx := testContext(t)

	walletAddr, tx, wallet, err := bindings.DeployTestWallet(transactor(t, d, ownerKey), d.Client(), owner)
	mined(t, d, tx, err)
	// Fund the wallet from the token owner.
	key0, _ := accountKey(t, d, 0)
	tx, err = token(t, d).Mint(transactor(t, d, key0), walletAddr, big.NewInt(1_000_000))
	mined(t, d, tx, err)

	payee := d.Accounts()[1].Address
	a := newAuth(t, walletAddr, payee, 250_000)
	digest := authDigest(t, d, "TransferWithAuthorization", a)
	sig := sign65(t, ownerKey, digest)

	// The wallet itself answers EIP-1271 for its owner's signature only.
	var d32 [32]byte
	copy(d32[:], digest)
	if magic, err := wallet.IsValidSignature(&bind.CallOpts{Context: ctx}, d32, sig); err != nil || magic != [4]byte{0x16, 0x26, 0xba, 0x7e} {
		t.Fatalf("isValidSignature(owner) = %x, %v", magic, err)
	}
	if magic, _ := wallet.IsValidSignature(&bind.CallOpts{Context: ctx}, d32, sign65(t, otherKey, digest)); magic == [4]byte{0x16, 0x26, 0xba, 0x7e} {
		t.Fatal("isValidSignature accepted a stranger's signature")
	}

	// Wrong signer through the token: refused with USDC's reason on both overloads.
	bad := sign65(t, otherKey, digest)
	for _, vrs := range []bool{true, false} {
		mustContain(t, revertReason(t, d, fac.From(), authCall(t, sigTransferVRS, sigTransferBytes, vrs, a, bad)), reasonInvalidSig)
	}
	// A longer, wallet-specific signature reaches the wallet through the bytes overload; the
	// TestWallet only accepts 65 bytes, so this is refused by the wallet, not by the token.
	mustContain(t, revertReason(t, d, fac.From(), authCall(t, sigTransferVRS, sigTransferBytes, false, a, append(sig, 0))), reasonInvalidSig)

	before := balance(t, d, payee)
	submit(t, d, fac, authCall(t, sigTransferVRS, sigTransferBytes, false, a, sig))
	if got := new(big.Int).Sub(balance(t, d, payee), before); got.Cmp(a.Value) != 0 {
		t.Errorf("payee received %s, want %s", got, a.Value)
	}
	if got := balance(t, d, walletAddr); got.Cmp(big.NewInt(750_000)) != 0 {
		t.Errorf("wallet balance %s, want 750000", got)
	}
	mustContain(t, revertReason(t, d, fac.From(), authCall(t, sigTransferVRS, sigTransferBytes, false, a, sig)), reasonUsed)

	// The (v,r,s) overload is code-routed too, as in USDC v2.2.
	a2 := newAuth(t, walletAddr, payee, 1)
	submit(t, d, fac, authCall(t, sigTransferVRS, sigTransferBytes, true, a2, sign65(t, ownerKey, authDigest(t, d, "TransferWithAuthorization", a2))))

	// The owner can move the wallet's tokens with execute; nobody else can.
	data, _ := tokenABI(t).Pack("transfer", owner, big.NewInt(1))
	if _, err := wallet.Execute(transactor(t, d, otherKey), d.Token().Address, big.NewInt(0), data); err == nil {
		t.Error("stranger executed through the wallet")
	}
	tx, err = wallet.Execute(transactor(t, d, ownerKey), d.Token().Address, big.NewInt(0), data)
	mined(t, d, tx, err)
}

func TestPermit(t *testing.T) {
	d := startDevnet(t, Config{Accounts: 3})
	ownerKey, owner := accountKey(t, d, 1)
	spenderKey, spender := accountKey(t, d, 2)
	tk := token(t, d)
	permitFields := []apitypes.Type{
		{Name: "owner", Type: "address"}, {Name: "spender", Type: "address"}, {Name: "value", Type: "uint256"},
		{Name: "nonce", Type: "uint256"}, {Name: "deadline", Type: "uint256"},
	}
	permitSig := func(value, nonce, deadline *big.Int) []byte {
		return sign65(t, ownerKey, typedDigest(t, d, "Permit", permitFields, apitypes.TypedDataMessage{
			"owner": owner.Hex(), "spender": spender.Hex(), "value": value.String(),
			"nonce": nonce.String(), "deadline": deadline.String(),
		}))
	}
	value := big.NewInt(123_456)
	deadline := big.NewInt(time.Now().Add(time.Hour).Unix())
	sig := permitSig(value, big.NewInt(0), deadline)
	v, r, s := splitSig(sig)
	data := pack(t, sigPermitVRS, owner, spender, value, deadline, v, r, s)

	expired := big.NewInt(1)
	ev, er, es := splitSig(permitSig(value, big.NewInt(0), expired))
	mustContain(t, revertReason(t, d, spender, pack(t, sigPermitVRS, owner, spender, value, expired, ev, er, es)), "FiatTokenV2: permit is expired")

	submit(t, d, facilitator(t, d, 2), data)
	if got, _ := tk.Allowance(&bind.CallOpts{}, owner, spender); got.Cmp(value) != 0 {
		t.Errorf("allowance %s, want %s", got, value)
	}
	if n, _ := tk.Nonces(&bind.CallOpts{}, owner); n.Uint64() != 1 {
		t.Errorf("permit nonce %d, want 1", n)
	}
	// The same permit again: the nonce moved on, so the signature no longer matches.
	mustContain(t, revertReason(t, d, spender, data), "EIP2612: invalid signature")

	tx, err := tk.TransferFrom(transactor(t, d, spenderKey), owner, spender, value)
	mined(t, d, tx, err)
	if got, _ := tk.Allowance(&bind.CallOpts{}, owner, spender); got.Sign() != 0 {
		t.Errorf("allowance after transferFrom %s", got)
	}
	// The bytes overload takes the next nonce.
	sig2 := permitSig(big.NewInt(7), big.NewInt(1), deadline)
	tx, err = tk.Permit(transactor(t, d, spenderKey), owner, spender, big.NewInt(7), deadline, sig2)
	mined(t, d, tx, err)
	if got, _ := tk.Allowance(&bind.CallOpts{}, owner, spender); got.Int64() != 7 {
		t.Errorf("allowance after bytes permit %s, want 7", got)
	}
}
