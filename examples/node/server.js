// An edgeauth backend: a user webhook receiver (express + the standardwebhooks package) and
// an API whose routes require edgeauth's API access token (auth.js: jose).
//
// edgeauth POSTs a signed event at every login (Standard Webhooks format); this server checks
// the signature and the timestamp window, finds or creates the user, and answers
// 200 {"user_id": ..., "claims": {...}} to let the person in or 403 {"message": ...} to refuse.
// The user_id becomes the API token's sub: GET /api/me, with the token, returns that user.
//
// Environment:
//   PORT                      port to listen on (default 8081; 0 picks a free one)
//   EDGEAUTH_USERHOOK_SECRET  whsec_... secret(s), space-separated while rotating
//   EDGEAUTH_TOKEN_ISSUER     the API tokens' issuer: edgeauth's own setting, else its PUBLIC_URL
//                             (default http://localhost:8080, which `edgeauth dev` uses)
//   EDGEAUTH_TOKEN_AUDIENCE   the API tokens' audience (default: the issuer, as in edgeauth)
//   USERS_FILE                optional JSON file that keeps the users (an array), else memory only
//   DENY_DOMAINS              comma-separated email domains to refuse, e.g. "example.org,spam.test"
//   EVENTS_LOG                optional file; each verified event is appended as one JSON line
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const express = require("express");
const { Webhook } = require("standardwebhooks");
const { requireAuth } = require("./auth");

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

// openUserStore stands in for your user table: in memory, and in a JSON file (an array of
// users) when file is set, so that it survives a restart and a test can read it. Users are
// keyed by provider + subject: the subject is stable per provider, an email address is not
// (it can change, or be reused).
function openUserStore(file) {
  let rows = [];
  if (file && fs.existsSync(file)) {
    rows = JSON.parse(fs.readFileSync(file, "utf8"));
    if (!Array.isArray(rows)) throw new Error(`${file} does not hold a JSON array`);
  }
  const key = (provider, subject) => JSON.stringify([provider, subject]);
  const byKey = new Map(rows.map((u) => [key(u.provider, u.subject), u]));
  const byId = new Map(rows.map((u) => [u.id, u]));
  function save() {
    if (!file) return;
    // Through a rename, so that a reader never sees half a file.
    const tmp = path.join(path.dirname(file), `.users-${process.pid}.json`);
    fs.writeFileSync(tmp, JSON.stringify(rows, null, 2) + "\n");
    fs.renameSync(tmp, file);
  }
  return {
    findOrCreate(provider, subject, email) {
      const found = byKey.get(key(provider, subject));
      if (found) return found;
      const user = { id: `user-${rows.length + 1}`, provider, subject, email, created_at: new Date().toISOString() };
      rows.push(user);
      try {
        save();
      } catch (err) {
        rows.pop();
        throw err;
      }
      byKey.set(key(provider, subject), user);
      byId.set(user.id, user);
      return user;
    },
    byId: (id) => byId.get(id),
  };
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

  let users;
  try {
    users = openUserStore(process.env.USERS_FILE || "");
  } catch (err) {
    console.error(`USERS_FILE: ${err.message}`);
    process.exit(2);
  }
  const issuer = process.env.EDGEAUTH_TOKEN_ISSUER || "http://localhost:8080";
  const audience = process.env.EDGEAUTH_TOKEN_AUDIENCE || issuer;

  const app = express();
  app.get("/healthz", (req, res) => res.json({ status: "ok" }));

  // The token's sub is the user_id this receiver gave edgeauth: look the user up by it.
  app.get("/api/me", requireAuth({ issuer, audience }), (req, res) => {
    const { sub, email } = req.auth;
    res.json({ sub, email: email ?? "", user: users.byId(sub) ?? null });
  });

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
    let user;
    try {
      user = users.findOrCreate(String(data.provider || ""), String(data.subject || ""), email);
    } catch (err) {
      // A 5xx makes edgeauth retry with the same webhook-id.
      console.error(`${event.type} ${req.get("webhook-id")} -> 500: ${err.message}`);
      return res.status(500).json({ error: "cannot store the user" });
    }
    console.log(`${event.type} ${req.get("webhook-id")} -> 200 ${user.id}`);
    res.json({ user_id: user.id, claims: { role: "member" } });
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
