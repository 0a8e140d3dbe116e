// Flow 4 client: the legacy reference x402-fetch 1.2.0 client (x402 v1) pays for URL once.
// x402 v1 only knows named networks, so the devnet runs with chain id 84532 and the client
// believes it is on base-sepolia.
//
// Environment: URL (loopback), RPC_URL (loopback, the devnet; the wallet client's transport),
// PRIVATE_KEY (0x hex, a devnet test key), MAX_VALUE (atomic units; x402-fetch's own cap,
// default 0.1 USDC = 100000), EXPECT_STATUS (default 200).
// Output: one JSON line {ok, status, body, paymentResponse, xPayment, requests};
// paymentResponse is X-PAYMENT-RESPONSE decoded by x402-fetch's decoder, xPayment the X-PAYMENT
// header sent, verbatim.

import { createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { baseSepolia } from "viem/chains";
import { decodeXPaymentResponse, wrapFetchWithPayment } from "x402-fetch";
import { emit, env, loopbackURL, run } from "./lib.mjs";

run(async () => {
  const url = loopbackURL("URL");
  const rpcUrl = loopbackURL("RPC_URL");
  const account = privateKeyToAccount(env("PRIVATE_KEY"));
  const wallet = createWalletClient({ account, chain: baseSepolia, transport: http(rpcUrl) });

  const requests = [];
  const recordingFetch = async (input, init) => {
    const req = new Request(input, init);
    requests.push({ method: req.method, url: req.url, headers: Object.fromEntries(req.headers) });
    return fetch(req);
  };
  const pay = wrapFetchWithPayment(recordingFetch, wallet, BigInt(env("MAX_VALUE", "100000")));
  const res = await pay(url);
  const body = await res.text();
  const header = res.headers.get("x-payment-response");
  const expect = Number(env("EXPECT_STATUS", "200"));
  const result = {
    ok: res.status === expect,
    status: res.status,
    body,
    paymentResponse: header ? decodeXPaymentResponse(header) : null,
    xPayment: requests.at(-1)?.headers["x-payment"] ?? null,
    requests,
  };
  emit(result);
  if (!result.ok) process.exit(1);
});
