// Package devnet runs a development Ethereum chain inside the process: go-ethereum's execution
// client (node, eth and the simulated beacon that drives it through the Engine API, as
// ethclient/simulated and `geth --dev` do) with a chosen chain id, served as JSON-RPC over HTTP
// on loopback, so that any client (go-ethereum, viem, ethers, curl) can use it.
//
// On start it funds deterministic dev accounts (ganache's published test mnemonic, BIP-44 path
// m/44'/60'/0'/0/i), installs a Multicall3-compatible contract at the canonical Multicall3
// address through the genesis, deploys the TestUSD EIP-3009 token from account 0 as its first
// transaction (so the token address depends only on that account) and mints TestUSD to every
// dev account.
//
// Blocks are produced as soon as transactions arrive and, when idle, on a fixed interval so that
// block timestamps follow the clock. Post-merge rules require each block's timestamp to exceed its
// parent's by at least one second, so a burst of blocks runs ahead of the wall clock; the lead is
// capped (Config.MaxTimestampLead) and transactions that arrive while the chain is at the cap wait
// for the clock and are then mined together in one block.
//
// Dev account keys are public test keys. Never fund their addresses on a real chain.
package devnet
