package lifecycle

import (
	"fmt"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fleetkey/fleetkey/internal/chain"
	"github.com/fleetkey/fleetkey/internal/store"
)

// BenchmarkRevoke measures a full revocation on the devnet (every step: credentials,
// key, one outstanding authorization cancelled on chain, one allowance reset with
// sponsored gas, tokens and native coin swept) of 1 and of 100 agents at once
// (RevokeAll, 16 at a time). Run with -benchtime 1x: each iteration prepares new
// agents with the timer stopped.
func BenchmarkRevoke(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("agents=%d", n), func(b *testing.B) {
			e := newEnv(b)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				ids := e.prepareVictims(fmt.Sprintf("b%d-%d", n, i), n)
				b.StartTimer()
				outs := e.m.RevokeAll(e.ctx, ids, operator, 16)
				b.StopTimer()
				for _, o := range outs {
					if o.Error != "" || o.Report.Status != store.JobDone {
						b.Fatalf("%s: %s", o.AgentID, o.Error)
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*n), "s/agent")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/batch")
		})
	}
}

// prepareVictims provisions n agents, each funded with TestUSD, with an allowance
// granted by permit and one signed, unsettled payment. Chain setup is sent in bulk
// and waited for once.
func (e *env) prepareVictims(prefix string, n int) []string {
	e.t.Helper()
	var names []string
	for i := 0; i < n; i++ {
		names = append(names, fmt.Sprintf("%s-%d", prefix, i))
	}
	ps := e.provision(names...)
	funder := devSender(e.t, e.d, 1)
	var last common.Hash
	for _, p := range ps {
		data, err := e.m.token.Pack("transfer", common.HexToAddress(p.Key.Address), big.NewInt(100_000))
		if err != nil {
			e.t.Fatal(err)
		}
		to := e.asset.Address
		tx, err := funder.Send(e.ctx, chain.Tx{To: &to, Data: data, Gas: 80_000})
		if err != nil {
			e.t.Fatal(err)
		}
		last = tx.Hash()
	}
	if _, err := chain.WaitSuccess(e.ctx, e.d.Client(), last); err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for i, p := range ps {
		e.permitFrom(p.Key, spender, 1)
		e.pay(p.Agent.ID, fmt.Sprintf("v%d", i), merchant, "100")
		ids = append(ids, p.Agent.ID)
	}
	return ids
}
