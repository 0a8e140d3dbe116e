package devnet

import (
	"time"

	"github.com/ethereum/go-ethereum/core"
)

// run produces blocks until Close: at once when transactions arrive (within the timestamp lead
// cap) and, when idle, every BlockInterval while the head is older than the clock.
func (d *Devnet) run() {
	defer close(d.done)
	txs := make(chan core.NewTxsEvent, 64)
	sub := d.backend.TxPool().SubscribeTransactions(txs, true)
	defer sub.Unsubscribe()

	var tick <-chan time.Time
	if d.cfg.BlockInterval > 0 {
		t := time.NewTicker(d.cfg.BlockInterval)
		defer t.Stop()
		tick = t.C
	}
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()

	for {
		select {
		case <-d.quit:
			return
		case <-sub.Err():
			return
		case <-txs:
		case <-retry.C:
		case <-tick:
			// An idle block only when it does not push the chain ahead of the clock.
			if int64(d.backend.BlockChain().CurrentBlock().Time) < time.Now().Unix() {
				d.trySeal()
			}
		}
		if wait := d.minePending(); wait > 0 {
			retry.Reset(wait)
		}
	}
}

// minePending seals blocks while executable transactions wait in the pool. When the timestamp
// lead cap stops it, it returns how long to wait before trying again.
func (d *Devnet) minePending() time.Duration {
	for {
		if pending, _ := d.backend.TxPool().Stats(); pending == 0 {
			return 0
		}
		sealed, wait := d.trySeal()
		if !sealed {
			return wait
		}
		// A block that used no gas means the pending transactions cannot be included (for
		// example a tip below the miner's minimum); stop rather than spin on empty blocks.
		if d.backend.BlockChain().CurrentBlock().GasUsed == 0 {
			return 0
		}
	}
}

// trySeal seals one block with the pending transactions unless its timestamp would be more than
// MaxTimestampLead ahead of the clock; then it reports how long until it would not be.
func (d *Devnet) trySeal() (bool, time.Duration) {
	d.sealMu.Lock()
	defer d.sealMu.Unlock()
	now := time.Now()
	next := max(now.Unix(), int64(d.backend.BlockChain().CurrentBlock().Time)+1)
	lead := time.Unix(next, 0).Sub(now)
	if lead > d.cfg.MaxTimestampLead {
		return false, lead - d.cfg.MaxTimestampLead
	}
	d.beacon.Commit()
	// The pool resets asynchronously after a new head; wait for it so that the next Stats call
	// does not count transactions that were just included.
	_ = d.backend.TxPool().Sync()
	return true, 0
}
