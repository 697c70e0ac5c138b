// get-token.mjs: obtain an access token straight from an authorization server,
// the way an MCP client would but without a resource server in between:
// metadata discovery (RFC 8414, then OIDC), dynamic client registration (RFC 7591,
// public client), authorization code + PKCE S256 with an RFC 8707 `resource`,
// following the (headless) authorization redirects, then the token exchange.
// It uses the MCP TypeScript SDK's own auth helpers for each step.
//
// Usage:
//   node get-token.mjs --issuer http://127.0.0.1:P --resource http://127.0.0.1:G/mcp
//                      [--scope mcp:tools] [--login-hint alice] [--json] [--claims]
//
// Prints the access token (one line) on stdout; with --json the whole token
// response as JSON; --claims also prints the decoded JWT payload to stderr.
// Exits 1 with the error on stderr on any failure.
import { parseArgs } from 'node:util';

import {
  discoverAuthorizationServerMetadata,
  exchangeAuthorization,
  registerClient,
  startAuthorization,
} from '@modelcontextprotocol/sdk/client/auth.js';

import {
  assertLoopback,
  decodeJwt,
  fail,
  followAuthorization,
  loopbackFetch,
  randomLoopbackRedirect,
  withDeadline,
} from './lib/oauth-util.mjs';

async function main() {
  const { values: opts } = parseArgs({
    options: {
      issuer: { type: 'string' },
      resource: { type: 'string' },
      scope: { type: 'string', default: 'mcp:tools' },
      'login-hint': { type: 'string' },
      json: { type: 'boolean', default: false },
      claims: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '30000' },
    },
  });
  withDeadline(Number(opts.timeout), 'get-token');
  if (!opts.issuer) throw new Error('--issuer is required');
  const issuer = assertLoopback(opts.issuer);
  if (opts.resource) assertLoopback(opts.resource);

  const metadata = await discoverAuthorizationServerMetadata(issuer, { fetchFn: loopbackFetch });
  if (!metadata) throw new Error(`no authorization server metadata at ${issuer}`);
  for (const k of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint']) {
    if (metadata[k]) assertLoopback(metadata[k]);
  }

  const redirectUrl = randomLoopbackRedirect();
  const clientInformation = await registerClient(issuer, {
    metadata,
    clientMetadata: {
      client_name: 'mcp-gateway get-token.mjs',
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    scope: opts.scope,
    fetchFn: loopbackFetch,
  });

  const state = crypto.randomUUID();
  const { authorizationUrl, codeVerifier } = await startAuthorization(issuer, {
    metadata,
    clientInformation,
    redirectUrl,
    scope: opts.scope,
    state,
    resource: opts.resource ? new URL(opts.resource) : undefined,
  });
  if (opts['login-hint']) authorizationUrl.searchParams.set('login_hint', opts['login-hint']);
  // startAuthorization passes URL.href, which is what the gateway's PRM says as well
  // for a path-ful resource; keep the caller's exact string.
  if (opts.resource) authorizationUrl.searchParams.set('resource', opts.resource);

  const code = await followAuthorization(authorizationUrl, redirectUrl, { expectState: state });

  const tokens = await exchangeAuthorization(issuer, {
    metadata,
    clientInformation,
    authorizationCode: code,
    codeVerifier,
    redirectUri: redirectUrl,
    resource: opts.resource,
    fetchFn: loopbackFetch,
  });

  if (opts.claims) {
    try {
      process.stderr.write(`${JSON.stringify(decodeJwt(tokens.access_token))}\n`);
    } catch (e) {
      process.stderr.write(`access token is not a JWT: ${e.message}\n`);
    }
  }
  process.stdout.write(opts.json ? `${JSON.stringify(tokens)}\n` : `${tokens.access_token}\n`);
}

main().then(() => process.exit(0), fail);
