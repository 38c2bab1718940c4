// requireAuth: an express middleware that lets a request through only with a valid edgeauth
// API access token (RFC 9068) in "Authorization: Bearer <token>", checked with jose against
// edgeauth's JWKS.
//
//   const { requireAuth } = require("./auth");
//   app.get("/api/me", requireAuth({ issuer: "https://auth.example.com" }), (req, res) => {
//     res.json({ sub: req.auth.sub }); // req.auth is the verified payload
//   });
"use strict";

const { createRemoteJWKSet, jwtVerify, errors } = require("jose");

// edgeauth signs with ES256 unless told EdDSA or RS256: pin the list, never take the header's word.
const ALGORITHMS = ["ES256", "EdDSA", "RS256"];

// requireAuth returns the middleware for tokens of issuer (edgeauth's EDGEAUTH_TOKEN_ISSUER,
// else its PUBLIC_URL) for audience (its EDGEAUTH_TOKEN_AUDIENCE, else the issuer).
// jose fetches the JWKS at the first request, caches it, and fetches again on an unknown kid
// at most every 30 seconds (cooldownDuration), each fetch bounded by timeoutDuration.
function requireAuth({ issuer, audience, jwksUrl } = {}) {
  if (!issuer) throw new Error("requireAuth: issuer is required");
  const jwks = createRemoteJWKSet(new URL(jwksUrl ?? `${issuer.replace(/\/$/, "")}/.well-known/jwks.json`), {
    timeoutDuration: 5000,
    cooldownDuration: 30000,
    cacheMaxAge: 60 * 60 * 1000, // an hour: a key edgeauth withdrew stops verifying
  });
  const options = {
    issuer,
    audience: audience || issuer,
    typ: "at+jwt", // RFC 9068 §4: refuses ID tokens and other JWTs signed by the same keys
    algorithms: ALGORITHMS,
    requiredClaims: ["sub", "iat", "exp", "jti"],
    clockTolerance: 30,
  };

  return async function requireAuthMiddleware(req, res, next) {
    const match = /^Bearer +(\S+) *$/i.exec(req.get("authorization") || "");
    if (!match) {
      // No error code when the request had no credentials (RFC 6750 §3.1).
      res.set("WWW-Authenticate", 'Bearer realm="api"');
      return problem(res, 401, "invalid_token", "send the API access token as Authorization: Bearer <token>");
    }
    try {
      const { payload } = await jwtVerify(match[1], jwks, options);
      if (payload.cnf !== undefined) {
        // A DPoP-bound token is worthless without its proof (RFC 9449 §7.1).
        throw new errors.JWTClaimValidationFailed("DPoP-bound token sent as Bearer", payload, "cnf", "check_failed");
      }
      req.auth = payload;
    } catch (err) {
      if (
        err instanceof errors.JWKSTimeout ||
        err instanceof errors.JWKSInvalid ||
        err?.code === "ERR_JOSE_GENERIC" || // jose's "Expected 200 OK from the JSON Web Key Set"
        !(err instanceof errors.JOSEError) // fetch failed: connection refused, DNS, …
      ) {
        // The keys could not be fetched: not the token's fault, and no reason to log in again.
        console.warn(`requireAuth: the JWKS: ${err?.message}`);
        return problem(res, 503, "keys_unavailable", "the keys of the token issuer could not be fetched; try again shortly");
      }
      if (err instanceof errors.JWTExpired) {
        res.set("WWW-Authenticate", 'Bearer realm="api", error="invalid_token", error_description="the access token expired"');
        return problem(res, 401, "expired_token", "the access token has expired: refresh it");
      }
      res.set("WWW-Authenticate", 'Bearer realm="api", error="invalid_token"');
      return problem(res, 401, "invalid_token", "the access token is not valid here");
    }
    next();
  };
}

// problem answers an RFC 9457 problem with edgeauth's code member.
function problem(res, status, code, detail) {
  res.status(status).set("Cache-Control", "no-store").type("application/problem+json");
  res.send(JSON.stringify({ status, code, title: status === 401 ? "Unauthorized" : "Service Unavailable", detail }));
}

module.exports = { requireAuth };
