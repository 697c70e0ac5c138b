// oidc-provider.mjs: a real third-party OAuth 2.1 / OpenID Connect authorization
// server (the OpenID Certified `oidc-provider` package) for mcp-gateway
// integration tests.
//
// Usage:
//   node oidc-provider.mjs [--port 0] [--resources URL[,URL...]] [--scopes S[,S...]]
//                          [--default-account alice] [--clients JSON]
//                          [--exchange-targets T[,T...]] [--exchange-ttl SECONDS]
// or the same through the environment: PORT, RESOURCES, SCOPES, DEFAULT_ACCOUNT, CLIENTS,
// EXCHANGE_TARGETS, EXCHANGE_TTL.
// CLIENTS is a JSON array of pre-registered clients' metadata (oidc-provider's
// `clients` option: client_id, client_secret, redirect_uris, jwks, ...), for tests of
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
//   - RFC 8693 token exchange (grant_type urn:ietf:params:oauth:grant-type:token-exchange,
//     registered with oidc-provider's registerGrantType) for pre-registered
//     confidential clients whose grant_types include it (client_secret_basic,
//     client_secret_post, or private_key_jwt with `jwks` in the client's metadata and
//     an assertion whose aud is the issuer or the token endpoint); public clients
//     get unauthorized_client. Parameters:
//       subject_token         a JWT access token this server issued for one of RESOURCES
//                             (signature, iss, exp, typ at+jwt checked), else invalid_grant
//       subject_token_type    urn:ietf:params:oauth:token-type:access_token, else invalid_request
//       audience, resource    one target between them (both may name it), one of
//                             EXCHANGE_TARGETS (any string), else invalid_target
//       scope                 optional, among SCOPES (else invalid_scope); default: the
//                             subject token's scope
//       requested_token_type  optional, access_token only (else invalid_request)
//       actor_token           refused (invalid_request): the client is the actor
//     It issues an RS256 JWT access token (same key, typ at+jwt) with sub = the subject
//     token's sub, aud = the target, client_id = the exchanging client, act.sub = that
//     client, scope, and exp = now + EXCHANGE_TTL (default 600 seconds), and answers
//     per RFC 8693 section 2.2.1: access_token, issued_token_type (access_token),
//     token_type Bearer, expires_in, scope. No refresh token. The exchange is not
//     limited to the subject token's scopes, and the subject token's own exp does not
//     cap the new one.
//
// Prints exactly one line "READY <issuer>" on stdout once listening; everything else
// (oidc-provider's own notices included) goes to stderr. Exits on SIGTERM/SIGINT.
import crypto from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

import { jwtVerify } from 'jose';
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
    'exchange-targets': { type: 'string', default: process.env.EXCHANGE_TARGETS ?? '' },
    'exchange-ttl': { type: 'string', default: process.env.EXCHANGE_TTL ?? '600' },
  },
});

const list = (s) => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
const RESOURCES = new Set(list(opts.resources));
const SCOPES = list(opts.scopes);
const DEFAULT_ACCOUNT = opts['default-account'];
const ACCOUNT_RE = /^[A-Za-z0-9._@+-]{1,64}$/;
const EXCHANGE_TARGETS = new Set(list(opts['exchange-targets']));
const EXCHANGE_TTL = Number(opts['exchange-ttl']);

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

if (!Number.isInteger(EXCHANGE_TTL) || EXCHANGE_TTL < 1) {
  console.error(`oidc-provider.mjs: EXCHANGE_TTL must be a positive number of seconds, not ${JSON.stringify(opts['exchange-ttl'])}`);
  process.exit(2);
}

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
// Generated off the main thread: under Node 20, generateKeyPairSync after
// importing oidc-provider hung the process (no READY) in about 1 start in 30.
const { privateKey, publicKey } = await new Promise((resolve, reject) => {
  crypto.generateKeyPair('rsa', { modulusLength: 2048 }, (err, pub, priv) => (
    err ? reject(err) : resolve({ privateKey: priv, publicKey: pub })));
});
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
  // Exchanged access tokens (gty token-exchange) name the exchanging client as
  // the actor (RFC 8693 section 4.1); every other token gets no extra claim.
  extraTokenClaims: (_ctx, token) => (
    token.gty === TOKEN_EXCHANGE ? { act: { sub: token.clientId } } : undefined
  ),
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
provider.on('grant.error', (ctx, err) => console.error(
  `oidc-provider.mjs: ${ctx.oidc.params?.grant_type} refused for client ${ctx.oidc.client?.clientId}: `
  + `${err.error} (${err.error_description}${err.error_detail ? `; ${err.error_detail}` : ''})`,
));

// values returns a token-endpoint parameter that may be repeated as a list.
const values = (v) => (v === undefined ? [] : [v].flat());

// exchangeToken is the RFC 8693 token-exchange grant: it trades an access
// token this server issued for one whose audience is a configured exchange
// target, issued to the authenticated client acting for the token's subject.
// oidc-provider has already authenticated the client and checked that its
// grant_types include the grant; parameters come in ctx.oidc.params.
async function exchangeToken(ctx) {
  const { params, client } = ctx.oidc;

  if (client.clientAuthMethod === 'none') {
    throw new errors.UnauthorizedClient('token exchange is for confidential clients only');
  }
  if (!params.subject_token) throw new errors.InvalidRequest('missing required parameter subject_token');
  if (!params.subject_token_type) throw new errors.InvalidRequest('missing required parameter subject_token_type');
  if (params.subject_token_type !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest(`unsupported subject_token_type; only ${ACCESS_TOKEN_TYPE} is accepted`);
  }
  if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest(`unsupported requested_token_type; only ${ACCESS_TOKEN_TYPE} is issued`);
  }
  if (params.actor_token || params.actor_token_type) {
    throw new errors.InvalidRequest('actor_token is not supported; the authenticated client is the actor');
  }

  let subject;
  try {
    ({ payload: subject } = await jwtVerify(params.subject_token, publicKey, {
      issuer,
      audience: [...RESOURCES],
      typ: 'at+jwt',
      algorithms: ['RS256'],
      requiredClaims: ['sub', 'exp'],
    }));
  } catch (err) {
    throw new errors.InvalidGrant(`subject_token: ${err.message}`);
  }
  if (typeof subject.sub !== 'string' || !subject.sub) {
    throw new errors.InvalidGrant('subject_token has no sub');
  }

  const targets = new Set([...values(params.audience), ...values(params.resource)]);
  if (targets.size !== 1) {
    throw new errors.InvalidTarget(targets.size === 0
      ? 'audience or resource is required'
      : 'exactly one target is supported (audience and resource may both name it)');
  }
  const [target] = targets;
  if (!EXCHANGE_TARGETS.has(target)) {
    throw new errors.InvalidTarget(`${target} is not a token exchange target of this authorization server`);
  }

  let scope = typeof subject.scope === 'string' ? subject.scope : undefined;
  if (params.scope) {
    const requested = params.scope.split(' ').filter(Boolean);
    const unknown = requested.filter((s) => !SCOPES.includes(s));
    if (unknown.length) {
      throw new errors.InvalidScope(`requested scope is not available for token exchange: ${unknown.join(' ')}`, unknown.join(' '));
    }
    scope = requested.join(' ');
  }

  const token = new provider.AccessToken({
    accountId: subject.sub,
    client,
    gty: TOKEN_EXCHANGE,
    scope: scope || undefined,
    expiresIn: EXCHANGE_TTL,
    resourceServer: new provider.ResourceServer(target, {
      audience: target,
      scope: SCOPES.join(' '),
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'RS256' } },
    }),
  });
  ctx.oidc.entity('AccessToken', token);
  const accessToken = await token.save();
  console.error(`oidc-provider.mjs: token exchange for ${subject.sub} by client ${client.clientId} to ${target}`);

  ctx.body = {
    access_token: accessToken,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: token.tokenType,
    expires_in: token.expiration,
    ...(token.scope ? { scope: token.scope } : undefined),
  };
}

provider.registerGrantType(
  TOKEN_EXCHANGE,
  exchangeToken,
  ['audience', 'resource', 'scope', 'requested_token_type',
    'subject_token', 'subject_token_type', 'actor_token', 'actor_token_type'],
  ['audience', 'resource'],
);

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
