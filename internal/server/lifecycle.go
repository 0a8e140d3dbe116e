package server

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fleetkey/fleetkey/internal/api"
	"github.com/fleetkey/fleetkey/internal/lifecycle"
	"github.com/fleetkey/fleetkey/x402/facilitator"
)

// newLifecycle builds the key lifecycle the API serves, on the daemon's store, vault, registry,
// audit log and RPC connection, with the configured relayer and gas-sponsor accounts (either may
// be absent: the routes that need it answer 503). close wipes the account keys. An RPC endpoint
// that does not answer leaves the lifecycle off (nil), with a warning.
func newLifecycle(ctx context.Context, cfg Config, s *Server) (api.LifecycleService, func(), error) {
	client := ethclient.NewClient(s.rpc)
	id, err := client.ChainID(ctx)
	if err != nil {
		// The lifecycle is optional and the chain may come up later than the daemon: its
		// routes answer 503 until a restart finds the chain.
		s.log.Warn("key lifecycle disabled: the chain id could not be read", "rpc", redactURL(cfg.RPCURL), "err", err)
		return nil, nil, nil
	}
	mc := lifecycle.Config{Store: s.store, Keys: s.vault, Registry: s.reg, Audit: s.audit, Backend: client,
		ChainID: id.Uint64(), LogsFromBlock: cfg.Lifecycle.LogsFromBlock, Now: s.now}
	var keys []*facilitator.RelayerKey
	closeKeys := func() {
		for _, k := range keys {
			k.Close()
		}
	}
	if f := cfg.Lifecycle.RelayerKeyFile; f != "" {
		k, err := facilitator.ReadRelayerKeyFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("lifecycle.relayer_key_file: %w", err)
		}
		keys = append(keys, k)
		mc.Relayer = k.NewSender(client, mc.ChainID)
	}
	if f := cfg.Lifecycle.GasSponsorKeyFile; f != "" {
		k, err := facilitator.ReadRelayerKeyFile(f)
		if err != nil {
			closeKeys()
			return nil, nil, fmt.Errorf("lifecycle.gas_sponsor_key_file: %w", err)
		}
		keys = append(keys, k)
		mc.GasSponsor = k.NewSender(client, mc.ChainID)
	}
	m, err := lifecycle.New(mc)
	if err != nil {
		closeKeys()
		return nil, nil, err
	}
	return m, closeKeys, nil
}
