// An edgeauth user webhook receiver: express + the standardwebhooks package.
//
// edgeauth POSTs a signed event at every login (Standard Webhooks format); this server checks
// the signature and the timestamp window, finds or creates the user, and answers
// 200 {"user_id": ..., "claims": {...}} to let the person in or 403 {"message": ...} to refuse.
//
// Environment:
//   PORT                      port to listen on (default 8081; 0 picks a free one)
//   EDGEAUTH_USERHOOK_SECRET  whsec_... secret(s), space-separated while rotating
//   DENY_DOMAINS              comma-separated email domains to refuse, e.g. "example.org,spam.test"
//   EVENTS_LOG                optional file; each verified event is appended as one JSON line
"use strict";

const fs = require("node:fs");
const express = require("express");
const { Webhook } = require("standardwebhooks");

function loadSecrets(value) {
  const secrets = (value || "").split(/\s+/).filter(Boolean);
  if (secrets.length === 0) throw new Error("not set");
  // Errors name the position, never the secret.
  return secrets.map((secret, i) => {
    if (!secret.startsWith("whsec_")) throw new Error(`secret ${i + 1} does not start with whsec_`);
    // The library accepts "whsec_" alone (an empty HMAC key): check the Base64 part first.
    const b64 = secret.slice("whsec_".length);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      throw new Error(`secret ${i + 1} is not standard base64`);
    }
    return new Webhook(secret); // strips whsec_ and decodes the key
  });
}

// verify returns when one secret accepts the signature and the timestamp is within the
// library's ±5 minute window; it throws otherwise.
function verify(hooks, rawBody, headers) {
  let lastError;
  for (const hook of hooks) {
    try {
      hook.verify(rawBody, headers, { jsonParse: false });
      return;
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

function main() {
  let hooks;
  try {
    hooks = loadSecrets(process.env.EDGEAUTH_USERHOOK_SECRET);
  } catch (err) {
    console.error(`EDGEAUTH_USERHOOK_SECRET: ${err.message}`);
    process.exit(2);
  }
  const denyDomains = new Set(
    (process.env.DENY_DOMAINS || "").split(",").map((d) => d.trim().toLowerCase()).filter(Boolean),
  );
  const eventsLog = process.env.EVENTS_LOG || "";

  // Stands in for your user table. Key users by provider + subject: the subject is stable
  // per provider, an email address is not (it can change, or be reused).
  const users = new Map();

  const app = express();
  app.get("/healthz", (req, res) => res.json({ status: "ok" }));

  // The signature covers the raw bytes: take the body as a Buffer, never re-encoded JSON.
  app.post("/{*path}", express.raw({ type: () => true, limit: "1mb" }), (req, res) => {
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    try {
      verify(hooks, rawBody, req.headers);
    } catch (err) {
      console.warn(`rejected: ${err.message}`);
      return res.status(401).json({ error: "invalid signature" });
    }
    let event;
    try {
      event = JSON.parse(rawBody.toString("utf8"));
    } catch {
      return res.status(400).json({ error: "body is not JSON" });
    }
    if (event === null || typeof event !== "object" || Array.isArray(event)) {
      return res.status(400).json({ error: "body is not a JSON object" });
    }
    if (eventsLog) fs.appendFileSync(eventsLog, JSON.stringify(event) + "\n");

    const data = event.data || {};
    const email = typeof data.email === "string" ? data.email : "";
    const domain = email.slice(email.lastIndexOf("@") + 1).toLowerCase();
    if (email && denyDomains.has(domain)) {
      console.log(`${event.type} ${req.get("webhook-id")} -> 403`);
      return res.status(403).json({ message: `Sign-ups from ${domain} are not allowed.` });
    }

    // Look up or create the user. edgeauth retries with the same webhook-id when an answer
    // is lost, so this must be idempotent: a second call finds the same user.
    const key = JSON.stringify([data.provider || "", data.subject || ""]);
    let userId = users.get(key);
    if (userId === undefined) {
      userId = `user-${users.size + 1}`;
      users.set(key, userId);
    }
    console.log(`${event.type} ${req.get("webhook-id")} -> 200 ${userId}`);
    res.json({ user_id: userId, claims: { role: "member" } });
  });

  // Body too large or unreadable: answer JSON, not express's HTML page.
  app.use((err, req, res, _next) => {
    res.status(err.status || err.statusCode || 400).json({ error: "bad request" });
  });

  const server = app.listen(Number(process.env.PORT ?? 8081), () => {
    console.log(`listening on :${server.address().port}`);
  });
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}

main();
