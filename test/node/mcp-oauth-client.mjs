// mcp-oauth-client.mjs: the MCP TypeScript SDK's reference client, driven through
// its own OAuth flow (401 -> RFC 9728 PRM -> authorization-server metadata -> DCR ->
// authorization code + PKCE + resource -> token -> retry), with an in-memory
// OAuthClientProvider and a headless user agent that approves the authorization.
//
// Usage:
//   node mcp-oauth-client.mjs --url http://127.0.0.1:P/mcp [--tool whoami]
//        [--args '{"message":"hi"}'] [--login-hint bob] [--list-tools] [--scope S]
//        [--progress] [--list-resources] [--read-resource URI] [--list-prompts]
//        [--get-prompt NAME [--prompt-args '{}']] [--list-tools-after]
//        [--header 'Name: value' ...] [--timeout 30000]
//
// Prints one JSON line on stdout and exits 0:
//   {"tool":"whoami","result":{CallToolResult},"tools":["echo","whoami"],"token_claims":{...}}
// ("result" only with --tool, "tools" only with --list-tools; with neither, the
// default is --tool whoami unless another operation is asked for). A tool result
// with isError, or any other failure, prints the error on stderr and exits 1.
//
// Further output fields:
//   progress         with --progress: the tool is called with a progressToken and
//                    every notifications/progress received is listed ({progress,total,message})
//   resources        with --list-resources: the resource URIs, sorted
//   resource         with --read-resource: the ReadResourceResult
//   prompts          with --list-prompts: the prompt names, sorted
//   prompt           with --get-prompt: the GetPromptResult
//   tools_after      with --list-tools-after: tools/list again after the other operations
//   http_errors      every 401/403 the MCP server answered: {method, status, www_authenticate}
//   authorizations   how many times the client went through the authorization endpoint
//   reregistered     true when a step-up needed a new registration (see below)
//
// Step-up: when an operation gets 403 insufficient_scope, the SDK re-runs its
// auth flow with the challenge's scope; this program then completes it like the
// first authorization (finishAuth with the code) and retries the operation once.
// The SDK registers a client with the scope of the first challenge (RFC 7591
// "scope"), and an authorization server that enforces registered scopes (such
// as oidc-provider) refuses a broader request with invalid_scope: the program
// then forgets the registration and connects again, so that the SDK registers
// anew with the broader scope, as a client without stored registrations would.
// --header adds a header to every request the SDK sends to the MCP server
// (for tests that prove the gateway strips what clients send, e.g. Cookie).
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
    /** How many authorizations were completed or attempted. */
    this.authorizations = 0;
    /** Set when the authorization server refused the requested scope (invalid_scope). */
    this.scopeRefused = false;
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
    this.authorizations += 1;
    try {
      this.pendingCode = await followAuthorization(url, this._redirectUrl, { expectState: this._state });
    } catch (err) {
      if (/invalid_scope/.test(String(err?.message))) this.scopeRefused = true;
      throw err;
    }
  }
}

/** recordingFetch is loopbackFetch that notes every 401/403 (with its challenge) in httpErrors. */
function recordingFetch(httpErrors, extraHeaders) {
  return async (input, init) => {
    if (extraHeaders.length > 0) {
      const headers = new Headers(init?.headers);
      for (const [k, v] of extraHeaders) headers.set(k, v);
      init = { ...init, headers };
    }
    const res = await loopbackFetch(input, init);
    if (res.status === 401 || res.status === 403) {
      let method;
      try {
        method = JSON.parse(String(init?.body ?? '')).method;
      } catch {
        method = undefined;
      }
      httpErrors.push({ method: method ?? init?.method ?? 'GET', status: res.status, www_authenticate: res.headers.get('www-authenticate') });
    }
    return res;
  };
}

/** connect runs the SDK's documented loop: connect, on UnauthorizedError finishAuth(code), reconnect. */
async function connect(serverUrl, provider, fetchFn) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const transport = new StreamableHTTPClientTransport(serverUrl, {
      authProvider: provider,
      fetch: fetchFn,
    });
    const client = new Client({ name: 'mcp-gateway-integration', version: '0.0.0' });
    try {
      await client.connect(transport);
      return { client, transport };
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

/**
 * Session is a connected client that survives step-up: run(op) performs op,
 * and when the SDK's 403 insufficient_scope handling ends in a pending
 * authorization code, finishes the authorization and runs op again; when the
 * authorization server refused the broader scope for the registered client,
 * it forgets the registration and reconnects first.
 */
class Session {
  constructor(serverUrl, provider, fetchFn) {
    this.serverUrl = serverUrl;
    this.provider = provider;
    this.fetchFn = fetchFn;
    this.reregistered = false;
  }

  async open() {
    ({ client: this.client, transport: this.transport } = await connect(this.serverUrl, this.provider, this.fetchFn));
  }

  async run(op) {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await op(this.client);
      } catch (err) {
        const p = this.provider;
        if (err instanceof UnauthorizedError && p.pendingCode) {
          const code = p.pendingCode;
          p.pendingCode = undefined;
          await this.transport.finishAuth(code);
          continue;
        }
        if (p.scopeRefused && !this.reregistered) {
          process.stderr.write('mcp-oauth-client: the authorization server refused the broader scope for this registration; registering again\n');
          p.scopeRefused = false;
          this.reregistered = true;
          p.invalidateCredentials('client');
          p.invalidateCredentials('verifier');
          await this.client.close().catch(() => {});
          await this.open();
          continue;
        }
        throw err;
      }
    }
    throw new Error('operation still refused after stepping up');
  }

  async close() {
    await this.client?.close().catch(() => {});
  }
}

async function main() {
  const { values: opts } = parseArgs({
    options: {
      url: { type: 'string' },
      tool: { type: 'string' },
      args: { type: 'string', default: '{}' },
      'login-hint': { type: 'string' },
      'list-tools': { type: 'boolean', default: false },
      'list-tools-after': { type: 'boolean', default: false },
      scope: { type: 'string' },
      progress: { type: 'boolean', default: false },
      'list-resources': { type: 'boolean', default: false },
      'read-resource': { type: 'string' },
      'list-prompts': { type: 'boolean', default: false },
      'get-prompt': { type: 'string' },
      'prompt-args': { type: 'string', default: '{}' },
      header: { type: 'string', multiple: true, default: [] },
      timeout: { type: 'string', default: '30000' },
    },
  });
  withDeadline(Number(opts.timeout), 'mcp-oauth-client');
  if (!opts.url) throw new Error('--url is required');
  const serverUrl = assertLoopback(opts.url);
  const parseJSON = (flag, v) => {
    try {
      return JSON.parse(v);
    } catch (e) {
      throw new Error(`--${flag} is not JSON: ${e.message}`);
    }
  };
  const toolArgs = parseJSON('args', opts.args);
  const promptArgs = parseJSON('prompt-args', opts['prompt-args']);
  const extraHeaders = opts.header.map((h) => {
    const i = h.indexOf(':');
    if (i < 1) throw new Error(`--header ${JSON.stringify(h)} is not "Name: value"`);
    return [h.slice(0, i).trim(), h.slice(i + 1).trim()];
  });
  const otherOps = opts['list-tools'] || opts['list-resources'] || opts['read-resource'] || opts['list-prompts'] || opts['get-prompt'];
  const tool = opts.tool ?? (otherOps ? undefined : 'whoami');

  const provider = new InMemoryOAuthClientProvider({
    redirectUrl: randomLoopbackRedirect(),
    scope: opts.scope,
    loginHint: opts['login-hint'],
  });
  const httpErrors = [];
  const session = new Session(serverUrl, provider, recordingFetch(httpErrors, extraHeaders));
  await session.open();

  const out = {};
  if (opts['list-tools']) {
    const { tools } = await session.run((c) => c.listTools());
    out.tools = tools.map((t) => t.name).sort();
  }
  if (opts['list-resources']) {
    const { resources } = await session.run((c) => c.listResources());
    out.resources = resources.map((r) => r.uri).sort();
  }
  if (opts['read-resource']) {
    out.resource = await session.run((c) => c.readResource({ uri: opts['read-resource'] }));
  }
  if (opts['list-prompts']) {
    const { prompts } = await session.run((c) => c.listPrompts());
    out.prompts = prompts.map((p) => p.name).sort();
  }
  if (opts['get-prompt']) {
    out.prompt = await session.run((c) => c.getPrompt({ name: opts['get-prompt'], arguments: promptArgs }));
  }
  if (tool) {
    const progress = [];
    const options = opts.progress
      ? { onprogress: (p) => progress.push({ progress: p.progress, total: p.total, message: p.message }), resetTimeoutOnProgress: true }
      : undefined;
    const result = await session.run((c) => c.callTool({ name: tool, arguments: toolArgs }, undefined, options));
    if (result.isError) {
      throw new Error(`tool ${tool} returned isError: ${JSON.stringify(result)}`);
    }
    out.tool = tool;
    out.result = result;
    if (opts.progress) out.progress = progress;
  }
  if (opts['list-tools-after']) {
    const { tools } = await session.run((c) => c.listTools());
    out.tools_after = tools.map((t) => t.name).sort();
  }
  out.http_errors = httpErrors;
  out.authorizations = provider.authorizations;
  out.reregistered = session.reregistered;
  const token = provider.tokens()?.access_token;
  if (token) {
    try {
      out.token_claims = decodeJwt(token);
    } catch {
      // opaque token: nothing to show
    }
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  await session.close();
}

main().then(() => process.exit(0), fail);
