// oidc-provider.mjs: a real third-party OAuth 2.1 / OpenID Connect authorization
// server (the OpenID Certified `oidc-provider` package) for mcp-gateway
// integration tests.
//
// Usage:
//   node oidc-provider.mjs [--port 0] [--resources URL[,URL...]] [--scopes S[,S...]]
//                          [--default-account alice] [--clients JSON]
// or the same through the environment: PORT, RESOURCES, SCOPES, DEFAULT_ACCOUNT, CLIENTS.
// CLIENTS is a JSON array of pre-registered clients' metadata (oidc-provider's
// `clients` option: client_id, client_secret, redirect_uris, ...), for tests of
// confidential clients that do not register themselves.
//
// What it does:
//   - binds 127.0.0.1 only (port 0 picks a free one); issuer is http://127.0.0.1:<port>
//   - discovery (/.well-known/openid-configuration; oidc-provider serves no RFC 8414
//     document, MCP clients fall back to OIDC discovery)
//   - open dynamic client registration at /reg
//   - PKCE (S256) required for every client
//   - resource indicators (RFC 8707): only RESOURCES are accepted (others get
//     invalid_target); access tokens are RS256 JWTs with aud = the resource and the
//     resource server's SCOPES
//   - a headless interaction: /interaction/<uid> completes login (account from
//     login_hint, else DEFAULT_ACCOUNT) and consent without any page, so a program
//     that follows redirects and keeps cookies gets the code with no human
//
// Prints exactly one line "READY <issuer>" on stdout once listening; everything else
// (oidc-provider's own notices included) goes to stderr. Exits on SIGTERM/SIGINT.
import crypto from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

// oidc-provider prints notices with console.info (stdout); stdout is reserved for
// the READY line, so route informational output to stderr.
console.info = (...args) => console.error(...args);
console.log = (...args) => console.error(...args);

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '0' },
    resources: { type: 'string', default: process.env.RESOURCES ?? '' },
    scopes: { type: 'string', default: process.env.SCOPES ?? 'mcp:tools' },
    'default-account': { type: 'string', default: process.env.DEFAULT_ACCOUNT ?? 'alice' },
    clients: { type: 'string', default: process.env.CLIENTS ?? '[]' },
  },
});

const list = (s) => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
const RESOURCES = new Set(list(opts.resources));
const SCOPES = list(opts.scopes);
const DEFAULT_ACCOUNT = opts['default-account'];
const ACCOUNT_RE = /^[A-Za-z0-9._@+-]{1,64}$/;

let CLIENTS;
try {
  CLIENTS = JSON.parse(opts.clients);
  if (!Array.isArray(CLIENTS)) throw new Error('not an array');
} catch (err) {
  console.error(`oidc-provider.mjs: CLIENTS must be a JSON array of client metadata: ${err.message}`);
  process.exit(2);
}

if (RESOURCES.size === 0) {
  console.error('oidc-provider.mjs: no RESOURCES configured; every resource will be refused');
}
for (const r of RESOURCES) {
  if (!URL.canParse(r)) {
    console.error(`oidc-provider.mjs: resource ${JSON.stringify(r)} is not a URL`);
    process.exit(2);
  }
}

// A fresh RS256 signing key per run.
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomBytes(8).toString('hex'),
  alg: 'RS256',
  use: 'sig',
};

// Listen first so that the issuer carries the real port.
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(opts.port), '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  jwks: { keys: [signingJwk] },
  clients: CLIENTS,
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  scopes: ['openid', 'offline_access', ...SCOPES],
  claims: { openid: ['sub'], profile: ['preferred_username'] },
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  },
  pkce: { required: () => true },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, preferred_username: id }),
  }),
  interactions: {
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // With exactly one resource requested, use it; otherwise none (opaque token).
      defaultResource: (_ctx, _client, oneOf) => oneOf,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resourceIndicator) => {
        if (!RESOURCES.has(resourceIndicator)) {
          throw new errors.InvalidTarget(`resource ${resourceIndicator} is not served by this authorization server`);
        }
        return {
          scope: SCOPES.join(' '),
          audience: resourceIndicator,
          accessTokenTTL: 10 * 60,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  ttl: {
    AccessToken: 10 * 60,
    AuthorizationCode: 60,
    Grant: 60 * 60,
    IdToken: 10 * 60,
    Interaction: 10 * 60,
    RefreshToken: 60 * 60,
    Session: 60 * 60,
  },
});

provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error:', err));

// headlessInteraction completes whatever prompt oidc-provider asks for (login,
// then consent) without a page.
async function headlessInteraction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;

  if (prompt.name === 'login') {
    const hint = typeof params.login_hint === 'string' ? params.login_hint : '';
    const accountId = ACCOUNT_RE.test(hint) ? hint : DEFAULT_ACCOUNT;
    console.error(`oidc-provider.mjs: login ${accountId} for client ${params.client_id}`);
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return;
  }

  if (prompt.name === 'consent') {
    let grant;
    if (details.grantId) {
      grant = await provider.Grant.find(details.grantId);
    } else {
      grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    }
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    const consent = details.grantId ? {} : { grantId };
    await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
    return;
  }

  await provider.interactionFinished(req, res, {
    error: 'access_denied',
    error_description: `unsupported prompt ${prompt.name}`,
  }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
server.on('request', (req, res) => {
  const path = (req.url ?? '').split('?')[0];
  if (/^\/interaction\/[^/]+$/.test(path) && req.method === 'GET') {
    headlessInteraction(req, res).catch((err) => {
      console.error('oidc-provider.mjs: interaction failed:', err);
      if (!res.headersSent) {
        res.writeHead(400, { 'content-type': 'application/json' });
      }
      res.end(JSON.stringify({ error: err.name ?? 'interaction_failed', error_description: err.message }));
    });
    return;
  }
  callback(req, res);
});

function shutdown(signal) {
  console.error(`oidc-provider.mjs: ${signal}, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

process.stdout.write(`READY ${issuer}\n`);
