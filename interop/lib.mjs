// Shared helpers of the interop scripts: configuration from the environment (with loopback
// checks, so that no script can reach a public facilitator or chain), the devnet chain
// description for viem, header decoding and the one-JSON-line output protocol that
// interop_test.go reads (a "ready" line, then event and result lines).

import { defineChain } from "viem";

/** env returns the environment variable name, or def; with no def it is required. */
export function env(name, def) {
  const v = process.env[name];
  if (v !== undefined && v !== "") return v;
  if (def !== undefined) return def;
  throw new Error(`missing environment variable ${name}`);
}

const loopbackHosts = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/** loopbackURL parses an http URL and refuses anything but a loopback host. */
export function loopbackURL(name) {
  const raw = env(name);
  const u = new URL(raw);
  if (u.protocol !== "http:" || !loopbackHosts.has(u.hostname)) {
    throw new Error(`${name}=${raw} is not an http URL on a loopback address`);
  }
  return raw.replace(/\/+$/, "");
}

/** devnetChain describes fleetkey's devnet to viem. */
export function devnetChain(chainId, rpcUrl) {
  return defineChain({
    id: chainId,
    name: `fleetkey devnet ${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

/** emit writes one JSON line on stdout (bigints as decimal strings). */
export function emit(obj) {
  process.stdout.write(
    JSON.stringify(obj, (_, v) => (typeof v === "bigint" ? v.toString() : v)) + "\n",
  );
}

/** decodeHeader decodes a base64-JSON protocol header, or returns null when absent. */
export function decodeHeader(value) {
  if (value === null || value === undefined || value === "") return null;
  return JSON.parse(Buffer.from(value, "base64").toString("utf8"));
}

/** listen starts app on 127.0.0.1 (PORT, default 0 = any free port) and emits the ready line. */
export function listen(app, extra = {}) {
  const port = Number(env("PORT", "0"));
  const server = app.listen(port, "127.0.0.1", (err) => {
    if (err) fail(err);
    const addr = server.address();
    emit({ ready: true, url: `http://127.0.0.1:${addr.port}`, ...extra });
  });
  server.on("error", fail);
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
  return server;
}

/** fail reports an error as a JSON line and exits non-zero. */
export function fail(err) {
  emit({ ok: false, error: String(err?.stack ?? err) });
  process.exit(1);
}

/** run runs an async main and exits non-zero on failure. */
export function run(main) {
  main().catch(fail);
}
