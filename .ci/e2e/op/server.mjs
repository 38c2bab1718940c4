// Local OpenID Provider for edgeauth end-to-end tests, built on the
// `oidc-provider` package. See README.md in this directory.
//
// stdout carries exactly one line, `oidc-provider ready <issuer>`, once the
// server is listening. Everything else (oidc-provider notices and warnings,
// request errors) goes to stderr.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

// oidc-provider prints its NOTICE lines with console.info (stdout). Send all
// console output to stderr so stdout stays reserved for the ready line. This
// must happen before oidc-provider is loaded, hence the dynamic import below.
console.log = console.error;
console.info = console.error;
console.debug = console.error;

const { Provider } = await import('oidc-provider');

function fail(msg) {
  process.stderr.write(`op: ${msg}\n`);
  process.exit(2);
}

function list(value) {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function seconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) fail(`${name} must be a positive integer (seconds), got ${JSON.stringify(raw)}`);
  return n;
}

function flag(name) {
  return ['1', 'true', 'yes'].includes((process.env[name] ?? '').toLowerCase());
}

const env = {
  host: process.env.HOST || '127.0.0.1',
  port: process.env.PORT ?? '',
  issuer: process.env.ISSUER || '',
  clientId: process.env.CLIENT_ID || '',
  clientSecret: process.env.CLIENT_SECRET || '',
  client2Id: process.env.CLIENT2_ID || '',
  client2Secret: process.env.CLIENT2_SECRET || '',
  client2RedirectUris: list(process.env.CLIENT2_REDIRECT_URIS),
  redirectUris: list(process.env.REDIRECT_URIS),
  postLogoutRedirectUris: list(process.env.POST_LOGOUT_REDIRECT_URIS),
  accessTokenTTL: seconds('ACCESS_TOKEN_TTL', 300),
  conformIdTokenClaims: flag('CONFORM_ID_TOKEN_CLAIMS'),
  alwaysIssueRefreshToken: flag('ALWAYS_ISSUE_REFRESH_TOKEN'),
};

if (!/^\d+$/.test(env.port) || Number(env.port) > 65535) fail('PORT must be set to a TCP port number (0 = pick a free one)');
if (!env.clientId) fail('CLIENT_ID is required');
if (!env.clientSecret) fail('CLIENT_SECRET is required');
if (env.redirectUris.length === 0) fail('REDIRECT_URIS is required (comma-separated)');
if (env.client2Id && !env.client2Secret) fail('CLIENT2_SECRET is required with CLIENT2_ID');
if (!env.client2Id && (env.client2Secret || env.client2RedirectUris.length > 0)) fail('CLIENT2_SECRET and CLIENT2_REDIRECT_URIS need CLIENT2_ID');
if (env.client2Id && env.client2Id === env.clientId) fail('CLIENT2_ID must differ from CLIENT_ID');
if (env.client2RedirectUris.length === 0) env.client2RedirectUris = env.redirectUris;

// --- HTTP server first, so that PORT=0 works and the issuer can name the real port.

let handler = (req, res) => {
  res.statusCode = 503;
  res.end('starting\n');
};
const server = http.createServer((req, res) => handler(req, res));

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(env.port), env.host, () => {
    server.off('error', reject);
    resolve();
  });
});

const { port } = server.address();
const hostForUrl = env.host.includes(':') ? `[${env.host}]` : env.host;
const issuer = env.issuer || `http://${hostForUrl}:${port}`;

// --- Signing key: a fresh RSA key per run, used for RS256 ID tokens.

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = privateKey.export({ format: 'jwk' });
signingJwk.kid = crypto
  .createHash('sha256')
  .update(JSON.stringify({ e: signingJwk.e, kty: signingJwk.kty, n: signingJwk.n }))
  .digest('base64url');
signingJwk.use = 'sig';
signingJwk.alg = 'RS256';

// --- Accounts: any login name is an account.

function displayName(login) {
  const words = login.split(/[\s._-]+/).filter(Boolean);
  if (words.length === 0) return login;
  return words.map((w) => w[0].toUpperCase() + w.slice(1)).join(' ');
}

async function findAccount(ctx, sub) {
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        email: `${sub}@example.com`,
        email_verified: true,
        name: displayName(sub),
      };
    },
  };
}

// --- Minimal HTML for the pages oidc-provider lets us replace (no external resources).

function esc(value) {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function page(title, body) {
  return `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>${esc(title)}</title>
  <style>body{font-family:sans-serif;max-width:28em;margin:2em auto}button{display:block;width:100%;margin:.5em 0;padding:.5em}</style>
</head>
<body>
  <h1>${esc(title)}</h1>
${body}
</body>
</html>`;
}

async function logoutSource(ctx, form) {
  // `form` is oidc-provider's <form id="op.logoutForm" ...> carrying the xsrf field.
  ctx.type = 'html';
  ctx.body = page('Logout Request', `  <p>Do you want to sign-out from ${esc(ctx.host)}?</p>
  ${form}
  <button autofocus type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
  <button type="submit" form="op.logoutForm">No, stay signed in</button>`);
}

async function postLogoutSuccessSource(ctx) {
  const client = ctx.oidc.client?.clientId;
  ctx.type = 'html';
  ctx.body = page('Sign-out Success', `  <p id="signed-out">Your sign-out${client ? ` with ${esc(client)}` : ''} was successful.</p>`);
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  const rows = Object.entries(out)
    .map(([key, value]) => `  <pre id="${esc(key)}"><strong>${esc(key)}</strong>: ${esc(value)}</pre>`)
    .join('\n');
  ctx.body = page('oops! something went wrong', rows);
}

// --- Provider configuration.

const clientOrigins = new Set(
  [...env.redirectUris, ...(env.client2Id ? env.client2RedirectUris : [])].map((u) => URL.parse(u)?.origin).filter(Boolean),
);

function client(clientId, clientSecret, redirectUris, postLogoutRedirectUris) {
  return {
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutRedirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    application_type: 'web',
  };
}

const configuration = {
  // The second client is another app of the same provider: its tokens are
  // what a relying party must refuse to convert (token substitution).
  clients: [
    client(env.clientId, env.clientSecret, env.redirectUris, env.postLogoutRedirectUris),
    ...(env.client2Id ? [client(env.client2Id, env.client2Secret, env.client2RedirectUris, [])] : []),
  ],
  responseTypes: ['code'],
  clientAuthMethods: ['client_secret_basic'],
  enabledJWA: {
    idTokenSigningAlgValues: ['RS256'],
  },
  jwks: { keys: [signingJwk] },

  // PKCE with S256 for every client, confidential ones included. oidc-provider
  // 9 only implements S256; `plain` is rejected with invalid_request.
  pkce: { required: () => true },

  scopes: ['openid', 'offline_access', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // false: scope-requested claims (email, name) are also put in the ID token,
  // as most hosted providers do. CONFORM_ID_TOKEN_CLAIMS=1 restores the strict
  // OIDC Core 5.4 behaviour (only at the userinfo endpoint for the code flow).
  conformIdTokenClaims: env.conformIdTokenClaims,
  findAccount,

  cookies: {
    // Cookies ignore ports: use names that cannot clash with the relying
    // party's own cookies when both run on 127.0.0.1.
    names: {
      session: 'op_session',
      interaction: 'op_interaction',
      resume: 'op_interaction_resume',
    },
    keys: [crypto.randomBytes(32).toString('base64url')],
  },

  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    revocation: {
      enabled: true,
      // A client may revoke its own tokens (and silently nothing else).
      async allowedPolicy(ctx, client, token) {
        return token.clientId === client.clientId;
      },
    },
    // RFC 7662. Any confidential client may introspect any token, and the
    // answer names the client it was issued to (client_id): that is what lets
    // a relying party refuse another app's token. A public client would learn
    // only about its own tokens (there are none here).
    introspection: {
      enabled: true,
      async allowedPolicy(ctx, client, token) {
        return client.clientAuthMethod !== 'none' || token.clientId === client.clientId;
      },
    },
    userinfo: { enabled: true },
  },

  // Browsers only: allow CORS from the relying party's origins.
  clientBasedCORS(ctx, origin) {
    return clientOrigins.has(origin);
  },

  ...(env.alwaysIssueRefreshToken
    ? { issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token') }
    : {}),

  ttl: {
    AccessToken: env.accessTokenTTL,
    AuthorizationCode: 60,
    IdToken: 600,
    RefreshToken: 24 * 60 * 60,
    Interaction: 10 * 60,
    Session: 24 * 60 * 60,
    Grant: 24 * 60 * 60,
  },

  // Same machine, same clock: make token expiry exact (the default allows 15s).
  clockTolerance: 0,

  renderError,
};

const provider = new Provider(issuer, configuration);

// The built-in devInteractions pages @import a Google Fonts stylesheet. Strip
// it so that a headless browser never reaches out to the internet.
provider.use(async (ctx, next) => {
  await next();
  if (typeof ctx.body === 'string' && ctx.response.is('html')) {
    ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com\/[^)]*\);?/g, '');
  }
});

provider.on('server_error', (ctx, err) => {
  process.stderr.write(`op: server_error ${ctx.method} ${ctx.path}: ${err.stack || err}\n`);
});
for (const event of [
  'authorization.error',
  'grant.error',
  'end_session.error',
  'revocation.error',
  'introspection.error',
  'userinfo.error',
  'jwks.error',
  'discovery.error',
]) {
  provider.on(event, (ctx, err) => {
    const why = [err.error_description, err.error_detail, err.cause?.message].filter(Boolean).join('; ');
    process.stderr.write(`op: ${event} ${ctx.method} ${ctx.path}: ${err.name}: ${err.message}${why ? ` (${why})` : ''}\n`);
  });
}

handler = provider.callback();

// --- Shutdown.

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`op: ${signal}, shutting down\n`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

process.stdout.write(`oidc-provider ready ${issuer}\n`);
