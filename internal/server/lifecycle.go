package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fleetkey/fleetkey/internal/api"
	"github.com/fleetkey/fleetkey/internal/audit"
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
	s.rotator = m
	return m, closeKeys, nil
}

// rotationLoop applies the rotation rule of the agents' policies: every
// lifecycle.rotation_check_interval it rotates the agents whose key is due (rotateDue).
func (s *Server) rotationLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.Lifecycle.RotationCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.rotateDue(ctx)
		}
	}
}

// rotateDue rotates, one at a time, every agent whose key the rotation rule of its effective
// policy says is due, as the system actor (the rotation job and its audit records carry the
// reason). A failure is logged and left for the next round, which resumes an unfinished
// rotation job rather than starting another. It returns how many rotations finished.
func (s *Server) rotateDue(ctx context.Context) int {
	due, err := s.rotator.DueByPolicy(ctx, "")
	if err != nil && ctx.Err() == nil {
		// DueByPolicy still returns the agents it could decide about.
		s.log.Error("scheduled rotation: policies", "error", err)
	}
	done := 0
	for _, d := range due {
		if ctx.Err() != nil {
			return done
		}
		rep, err := s.rotator.Rotate(ctx, lifecycle.RotateRequest{AgentID: d.AgentID, Actor: audit.System,
			Outstanding: d.Outstanding, Reason: "scheduled: " + d.Reason, OnlyKeyID: d.KeyID})
		if errors.Is(err, lifecycle.ErrAlreadyRotated) {
			// Another replica (or an operator) rotated it since DueByPolicy read it.
			s.log.Debug("scheduled rotation: already rotated", "agent_id", d.AgentID, "key_id", d.KeyID)
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				attrs := []any{"agent_id", d.AgentID, "key_id", d.KeyID, "reason", d.Reason, "error", err}
				if rep != nil {
					attrs = append(attrs, "job_id", rep.JobID)
				}
				s.log.Error("scheduled rotation failed; retried next round", attrs...)
			}
			continue
		}
		done++
		s.log.Info("scheduled rotation", "agent_id", d.AgentID, "old_key_id", d.KeyID, "reason", d.Reason,
			"job_id", rep.JobID, "resumed", rep.Resumed)
	}
	return done
}
