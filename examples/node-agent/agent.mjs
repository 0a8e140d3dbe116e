// An example agent in Node.js (20 or later) that pays for x402 resources without any x402 code,
// any key or any npm package: it sends plain fetch requests through the fleetkey sidecar in its
// gateway form (http://SIDECAR/<absolute URL>). The sidecar holds the agent's fleetkey token and
// pays 402 answers through the fleetkey API; the answer carries the receipt in the
// X-Fleetkey-Payment header, and a payment fleetkey refuses comes back as a 403 JSON error with
// the reason.
//
//   fleetkey sidecar --api http://127.0.0.1:8402 --token-file ./fleetkey-dev/agents/scout.token &
//   node examples/node-agent/agent.mjs http://127.0.0.1:8404/weather
//
// FLEETKEY_SIDECAR sets the sidecar's URL (default http://127.0.0.1:8403).

const sidecar = (process.env.FLEETKEY_SIDECAR || "http://127.0.0.1:8403").replace(/\/+$/, "");
const url = process.argv[2];
if (!url) {
  console.error("usage: node agent.mjs URL");
  process.exit(2);
}

const res = await fetch(`${sidecar}/${url}`, { signal: AbortSignal.timeout(180_000) });
const body = await res.text();
console.log(`status: ${res.status}`);
console.log(`body: ${body}`);
const receipt = res.headers.get("x-fleetkey-payment");
console.log(`receipt: ${receipt ?? "none"}`);
const paymentError = res.headers.get("x-fleetkey-payment-error");
if (paymentError) {
  console.log(`payment error: ${paymentError}`);
}
if (!res.ok) {
  process.exit(1);
}
