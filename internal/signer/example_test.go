package signer_test

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fleetkey/fleetkey/internal/signer"
)

// The whole first half of a payment: the agent's 402, the operator's
// registry, a policy check, the authorization; then a signature over the
// digest (made here with a throw-away key, by custody in fleetkey) becomes
// the header the agent retries with.
func Example() {
	reg, err := signer.NewRegistry([]signer.Asset{{
		Network: "eip155:8453", Address: common.HexToAddress("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"),
		Symbol: "USDC", Decimals: 6, EIP712Name: "USD Coin", EIP712Version: "2",
	}})
	if err != nil {
		panic(err)
	}
	header := base64.StdEncoding.EncodeToString([]byte(`{"x402Version":2,"resource":{"url":"https://api.example/data"},` +
		`"accepts":[{"scheme":"exact","network":"eip155:8453","amount":"2500","asset":"0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",` +
		`"payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":300,"extra":{"name":"USD Coin","version":"2"}}]}`))
	d, err := signer.ParseDemand(2, []byte(header))
	if err != nil {
		panic(err)
	}
	c, err := signer.Choose(d, reg, signer.ChooseOptions{Accept: func(c signer.Candidate) error {
		if c.AmountMicro > 10_000 { // a policy's per-payment maximum of $0.01
			return fmt.Errorf("amount %d above the limit", c.AmountMicro)
		}
		return nil
	}})
	if err != nil {
		panic(err)
	}
	key, _ := crypto.GenerateKey()
	in, err := signer.BuildAuthorization(c, crypto.PubkeyToAddress(key.PublicKey), time.Now(), 60*time.Second)
	if err != nil {
		panic(err)
	}
	sig, _ := crypto.Sign(in.Digest[:], key)
	var rsv [65]byte
	copy(rsv[:], sig)
	rsv[64] += 27
	name, _, err := in.Payload(rsv)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Index, c.AmountMicro, in.ValidBefore.Sub(time.Now()).Round(time.Minute), name)
	// Output: 0 2500 1m0s PAYMENT-SIGNATURE
}
