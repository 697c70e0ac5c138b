// mcp-oauth-client.mjs: the MCP TypeScript SDK's reference client, driven through
// its own OAuth flow (401 -> RFC 9728 PRM -> authorization-server metadata -> DCR ->
// authorization code + PKCE + resource -> token -> retry), with an in-memory
// OAuthClientProvider and a headless user agent that approves the authorization.
//
// Usage:
//   node mcp-oauth-client.mjs --url http://127.0.0.1:P/mcp [--tool whoami]
//        [--args '{"message":"hi"}'] [--login-hint bob] [--list-tools] [--scope S]
//        [--timeout 30000]
//
// Prints one JSON line on stdout and exits 0:
//   {"tool":"whoami","result":{CallToolResult},"tools":["echo","whoami"],"token_claims":{...}}
// ("result" only with --tool, "tools" only with --list-tools; with neither, the
// default is --tool whoami). A tool result with isError, or any other failure,
// prints the error on stderr and exits 1.
import { parseArgs } from 'node:util';

import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import {
  assertLoopback,
  decodeJwt,
  fail,
  followAuthorization,
  loopbackFetch,
  randomLoopbackRedirect,
  withDeadline,
} from './lib/oauth-util.mjs';

/**
 * InMemoryOAuthClientProvider keeps everything the SDK hands it in memory and,
 * instead of opening a browser, follows the authorization URL itself and keeps
 * the resulting code for finishAuth.
 */
class InMemoryOAuthClientProvider {
  constructor({ redirectUrl, scope, loginHint }) {
    this._redirectUrl = redirectUrl;
    this._scope = scope;
    this._loginHint = loginHint;
    this._clientInformation = undefined;
    this._tokens = undefined;
    this._codeVerifier = undefined;
    this._state = undefined;
    this._discovery = undefined;
    /** The authorization code obtained by the last redirectToAuthorization. */
    this.pendingCode = undefined;
    /** Every authorization URL visited (for diagnostics). */
    this.authorizationUrls = [];
  }

  get redirectUrl() {
    return this._redirectUrl;
  }

  get clientMetadata() {
    const md = {
      client_name: 'mcp-gateway integration test (TypeScript SDK)',
      redirect_uris: [this._redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
    if (this._scope) md.scope = this._scope;
    return md;
  }

  state() {
    this._state = crypto.randomUUID();
    return this._state;
  }

  clientInformation() {
    return this._clientInformation;
  }

  saveClientInformation(info) {
    this._clientInformation = info;
  }

  tokens() {
    return this._tokens;
  }

  saveTokens(tokens) {
    this._tokens = tokens;
  }

  saveCodeVerifier(v) {
    this._codeVerifier = v;
  }

  codeVerifier() {
    if (!this._codeVerifier) throw new Error('no code verifier saved');
    return this._codeVerifier;
  }

  saveDiscoveryState(s) {
    this._discovery = s;
  }

  discoveryState() {
    return this._discovery;
  }

  invalidateCredentials(scope) {
    if (scope === 'all' || scope === 'client') this._clientInformation = undefined;
    if (scope === 'all' || scope === 'tokens') this._tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this._codeVerifier = undefined;
    if (scope === 'all' || scope === 'discovery') this._discovery = undefined;
  }

  async redirectToAuthorization(authorizationUrl) {
    const url = new URL(String(authorizationUrl));
    if (this._loginHint) url.searchParams.set('login_hint', this._loginHint);
    this.authorizationUrls.push(url.href);
    process.stderr.write(`mcp-oauth-client: authorizing via ${url.origin}${url.pathname} (resource=${url.searchParams.get('resource')}, scope=${url.searchParams.get('scope')})\n`);
    this.pendingCode = await followAuthorization(url, this._redirectUrl, { expectState: this._state });
  }
}

/** connect runs the SDK's documented loop: connect, on UnauthorizedError finishAuth(code), reconnect. */
async function connect(serverUrl, provider) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const transport = new StreamableHTTPClientTransport(serverUrl, {
      authProvider: provider,
      fetch: loopbackFetch,
    });
    const client = new Client({ name: 'mcp-gateway-integration', version: '0.0.0' });
    try {
      await client.connect(transport);
      return client;
    } catch (err) {
      if (err instanceof UnauthorizedError && provider.pendingCode) {
        const code = provider.pendingCode;
        provider.pendingCode = undefined;
        await transport.finishAuth(code);
        await transport.close().catch(() => {});
        continue;
      }
      throw err;
    }
  }
  throw new Error('still unauthorized after completing the authorization flow');
}

async function main() {
  const { values: opts } = parseArgs({
    options: {
      url: { type: 'string' },
      tool: { type: 'string' },
      args: { type: 'string', default: '{}' },
      'login-hint': { type: 'string' },
      'list-tools': { type: 'boolean', default: false },
      scope: { type: 'string' },
      timeout: { type: 'string', default: '30000' },
    },
  });
  withDeadline(Number(opts.timeout), 'mcp-oauth-client');
  if (!opts.url) throw new Error('--url is required');
  const serverUrl = assertLoopback(opts.url);
  let toolArgs;
  try {
    toolArgs = JSON.parse(opts.args);
  } catch (e) {
    throw new Error(`--args is not JSON: ${e.message}`);
  }
  const tool = opts.tool ?? (opts['list-tools'] ? undefined : 'whoami');

  const provider = new InMemoryOAuthClientProvider({
    redirectUrl: randomLoopbackRedirect(),
    scope: opts.scope,
    loginHint: opts['login-hint'],
  });
  const client = await connect(serverUrl, provider);

  const out = {};
  if (opts['list-tools']) {
    const { tools } = await client.listTools();
    out.tools = tools.map((t) => t.name).sort();
  }
  if (tool) {
    const result = await client.callTool({ name: tool, arguments: toolArgs });
    if (result.isError) {
      throw new Error(`tool ${tool} returned isError: ${JSON.stringify(result)}`);
    }
    out.tool = tool;
    out.result = result;
  }
  const token = provider.tokens()?.access_token;
  if (token) {
    try {
      out.token_claims = decodeJwt(token);
    } catch {
      // opaque token: nothing to show
    }
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  await client.close().catch(() => {});
}

main().then(() => process.exit(0), fail);
