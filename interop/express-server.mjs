// Flow 2 server: a resource server built with the reference @x402/express 2.27 middleware
// (x402ResourceServer + @x402/evm exact server scheme) that verifies and settles through the
// facilitator at FACILITATOR_URL. GET /weather costs AMOUNT of TOKEN, paid to PAY_TO.
//
// Environment: FACILITATOR_URL (loopback; never the reference's public default), NETWORK
// (CAIP-2), TOKEN, TOKEN_NAME, TOKEN_VERSION (the token's EIP-712 domain), PAY_TO, AMOUNT
// (atomic units), MAX_TIMEOUT (seconds, default 120), PORT (default 0).
// Output: {"ready":true,"url":...} once the facilitator's /supported has been fetched and the
// route accepted, then {"event":"request",...} per request with the decoded PAYMENT-REQUIRED /
// PAYMENT-RESPONSE headers of the answer.

import express from "express";
import { paymentMiddlewareFromHTTPServer, x402HTTPResourceServer, x402ResourceServer } from "@x402/express";
import { HTTPFacilitatorClient } from "@x402/core/server";
import { ExactEvmScheme } from "@x402/evm/exact/server";
import { decodeHeader, emit, env, listen, loopbackURL, run } from "./lib.mjs";

run(async () => {
  const network = env("NETWORK");
  const facilitator = new HTTPFacilitatorClient({ url: loopbackURL("FACILITATOR_URL") });
  const resourceServer = new x402ResourceServer(facilitator).register(network, new ExactEvmScheme());
  const routes = {
    "GET /weather": {
      accepts: [
        {
          scheme: "exact",
          network,
          payTo: env("PAY_TO"),
          price: {
            amount: env("AMOUNT"),
            asset: env("TOKEN"),
            extra: { name: env("TOKEN_NAME"), version: env("TOKEN_VERSION") },
          },
          maxTimeoutSeconds: Number(env("MAX_TIMEOUT", "120")),
        },
      ],
      description: "Weather data",
      mimeType: "application/json",
    },
  };
  const httpServer = new x402HTTPResourceServer(resourceServer, routes);
  // Fail before announcing readiness if the facilitator is unreachable or does not support
  // the route (the middleware would otherwise only find out on the first request).
  await httpServer.initialize();

  const app = express();
  app.use((req, res, next) => {
    res.on("finish", () => {
      emit({
        event: "request",
        method: req.method,
        path: req.path,
        paid: Boolean(req.get("payment-signature")),
        status: res.statusCode,
        paymentRequired: decodeHeader(res.get("payment-required")),
        paymentResponse: decodeHeader(res.get("payment-response")),
      });
    });
    next();
  });
  app.use(paymentMiddlewareFromHTTPServer(httpServer));
  app.get("/weather", (_req, res) => {
    res.json({ report: "sunny", temperature: 21 });
  });
  listen(app);
});
