// Flow 1 client: the reference @x402/fetch 2.27 client pays for URL once.
//
// Environment: URL (loopback), PRIVATE_KEY (0x hex, a devnet test key), NETWORK (CAIP-2),
// TOKEN (asset address), MAX_AMOUNT (atomic units per payment, for spendControls.allowedAssets:
// the devnet token is not in the reference's DEFAULT_ASSETS, so without it the client refuses
// to pay), EXPECT_STATUS (default 200; another final status exits 1), EXPECT_ERROR (optional:
// the client must refuse to pay with an error containing this text).
// Output: one JSON line {ok, status, body, paymentResponse, paymentSignature, requests}.
// paymentResponse is PAYMENT-RESPONSE decoded by the reference decoder; paymentSignature is the
// PAYMENT-SIGNATURE header the client sent, verbatim, so the test can replay it.

import { privateKeyToAccount } from "viem/accounts";
import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from "@x402/fetch";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { emit, env, loopbackURL, run } from "./lib.mjs";

run(async () => {
  const url = loopbackURL("URL");
  const network = env("NETWORK");
  const account = privateKeyToAccount(env("PRIVATE_KEY"));
  const client = new x402Client().register(network, new ExactEvmScheme(account));
  client.setSpendControls({
    allowedAssets: [{ network, asset: env("TOKEN"), maxAmountPerPayment: env("MAX_AMOUNT") }],
  });

  // Record what goes on the wire.
  const requests = [];
  const recordingFetch = async (input, init) => {
    const req = new Request(input, init);
    requests.push({ method: req.method, url: req.url, headers: Object.fromEntries(req.headers) });
    return fetch(req);
  };
  const expectError = env("EXPECT_ERROR", "");
  let res;
  try {
    res = await wrapFetchWithPayment(recordingFetch, client)(url);
  } catch (err) {
    // With EXPECT_ERROR the client must refuse to pay, with a message containing it.
    const message = err instanceof Error ? err.message : String(err);
    if (!expectError || !message.includes(expectError)) throw err;
    emit({ ok: true, refused: true, error: message, requests });
    return;
  }
  if (expectError) throw new Error(`expected the client to refuse with "${expectError}", got HTTP ${res.status}`);
  const body = await res.text();
  const header = res.headers.get("payment-response");
  const result = {
    ok: true,
    status: res.status,
    body,
    paymentResponse: header ? decodePaymentResponseHeader(header) : null,
    cacheControl: res.headers.get("cache-control"),
    paymentSignature: requests.at(-1)?.headers["payment-signature"] ?? null,
    requests,
  };
  const expect = Number(env("EXPECT_STATUS", "200"));
  result.ok = res.status === expect;
  emit(result);
  if (!result.ok) process.exit(1);
});
