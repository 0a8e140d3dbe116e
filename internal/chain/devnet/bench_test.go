package devnet

import (
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fleetkey/fleetkey/internal/chain"
)

// BenchmarkTransferWithAuthorization measures settled EIP-3009 transfers per second through the
// HTTP JSON-RPC endpoint: a facilitator account submits a pre-signed authorization and waits for
// its receipt. "sequential" is one settlement at a time (latency bound; the timestamp lead cap is
// lifted so that every transaction gets its own block at once); "parallel-N" runs N concurrent
// settlements, with the default lead cap (about one block a second once the lead is used up)
// and with the cap lifted.
func BenchmarkTransferWithAuthorization(b *testing.B) {
	cases := []struct {
		name    string
		workers int
		lead    time.Duration
	}{
		{"sequential", 1, time.Hour},
		{"parallel-32", 32, 0},
		{"parallel-32-lead-1h", 32, time.Hour},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			d := startDevnet(b, Config{Accounts: 3, MaxTimestampLead: bc.lead})
			client, err := ethclient.Dial(d.RPCURL())
			if err != nil {
				b.Fatal(err)
			}
			defer client.Close()
			payerKey, payer := accountKey(b, d, 1)
			facKey, fac := accountKey(b, d, 2)
			sender := chain.NewSender(client, fac, transactor(b, d, facKey).Signer, new(big.Int).SetUint64(d.ChainID()))
			payee := common.HexToAddress("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")
			token := d.Token().Address

			calls := make([][]byte, b.N)
			for i := range calls {
				a := newAuth(b, payer, payee, 1)
				calls[i] = authCall(b, sigTransferVRS, sigTransferBytes, true, a, sign65(b, payerKey, authDigest(b, d, "TransferWithAuthorization", a)))
			}
			ctx := testContext(b)
			work := make(chan []byte)
			errs := make(chan error, bc.workers)
			var wg sync.WaitGroup
			b.ResetTimer()
			for range bc.workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for data := range work {
						tx, err := sender.Send(ctx, chain.Tx{To: &token, Data: data, Gas: 150_000})
						if err == nil {
							_, err = chain.WaitSuccess(ctx, client, tx.Hash())
						}
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
		feed:
			for _, c := range calls {
				select {
				case work <- c:
				case err := <-errs:
					b.Error(err)
					break feed
				}
			}
			close(work)
			wg.Wait()
			b.StopTimer()
			select {
			case err := <-errs:
				b.Fatal(err)
			default:
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
		})
	}
}
