// The reference x402 facilitator (@x402/core x402Facilitator + @x402/evm exact scheme) behind
// a thin express server, as x402.md §7.2 step 3 describes: POST /verify, POST /settle,
// GET /supported. It settles with FACILITATOR_KEY on the chain at RPC_URL.
//
// Environment: RPC_URL (loopback), CHAIN_ID, FACILITATOR_KEY (0x hex, a devnet test key),
// PORT (default 0). Output (stdout, one JSON object a line): {"ready":true,"url":...,
// "address":...} once listening, then {"event":"verify"|"settle"|"supported", "request":...,
// "response":..., "status":...} for every call, which is the wire trace the Go test checks.

import express from "express";
import { createPublicClient, createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { x402Facilitator } from "@x402/core/facilitator";
import { toFacilitatorEvmSigner } from "@x402/evm";
import { registerExactEvmScheme } from "@x402/evm/exact/facilitator";
import { devnetChain, emit, env, listen, loopbackURL, run } from "./lib.mjs";

run(async () => {
  const rpcUrl = loopbackURL("RPC_URL");
  const chainId = Number(env("CHAIN_ID"));
  const chain = devnetChain(chainId, rpcUrl);
  const account = privateKeyToAccount(env("FACILITATOR_KEY"));
  // The devnet mines on arrival: poll fast rather than viem's default 4s.
  const transport = http(rpcUrl);
  const pub = createPublicClient({ chain, transport, pollingInterval: 50 });
  const wallet = createWalletClient({ account, chain, transport, pollingInterval: 50 });

  const signer = toFacilitatorEvmSigner(
    {
      address: account.address,
      readContract: (a) => pub.readContract(a),
      verifyTypedData: (a) => pub.verifyTypedData(a),
      writeContract: (a) => wallet.writeContract(a),
      sendTransaction: (a) => wallet.sendTransaction(a),
      waitForTransactionReceipt: (a) => pub.waitForTransactionReceipt(a),
      getCode: (a) => pub.getCode(a),
    },
    { confirmationTimeoutMs: 30_000 },
  );
  const facilitator = new x402Facilitator();
  registerExactEvmScheme(facilitator, { signer, networks: [`eip155:${chainId}`] });

  const app = express();
  app.use(express.json({ limit: "1mb" }));

  const call = (event, fn) => async (req, res) => {
    const body = req.body ?? {};
    let status = 200;
    let response;
    if (!body.paymentPayload || !body.paymentRequirements) {
      status = 400;
      response = { error: "Missing paymentPayload or paymentRequirements" };
    } else {
      try {
        response = await fn(body.paymentPayload, body.paymentRequirements);
      } catch (err) {
        status = 500;
        response = { error: err instanceof Error ? err.message : String(err) };
      }
    }
    // QUIET=1 (benchmarks) leaves out the per-request trace that the interop tests read.
    if (!process.env.QUIET) emit({ event, status, request: body, response });
    res.status(status).json(response);
  };
  app.post("/verify", call("verify", (p, r) => facilitator.verify(p, r)));
  app.post("/settle", call("settle", (p, r) => facilitator.settle(p, r)));
  app.get("/supported", async (_req, res) => {
    const response = await facilitator.getSupported();
    emit({ event: "supported", status: 200, response });
    res.json(response);
  });

  listen(app, { address: account.address });
});
