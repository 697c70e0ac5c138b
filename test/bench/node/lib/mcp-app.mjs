// mcp-app.mjs: the MCP side shared by the Node comparison peers. An
// express app (the SDK's createMcpExpressApp) serving the MCP TypeScript
// SDK's McpServer with one tool, "echo", over StreamableHTTPServerTransport
// at /mcp: stateful, one transport and server per session, as in the SDK's
// README example, in the transport's default (SSE) response mode.
//
// serve(authMiddleware) mounts authMiddleware in front of /mcp, listens on
// BENCH_LISTEN (host:port), prints "ready http://HOST:PORT/mcp" on stdout
// once listening, and exits on SIGTERM or SIGINT.
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod/v4';

/** Reads a required environment variable or exits. */
export function env(name, { optional = false } = {}) {
  const v = process.env[name];
  if (!v && !optional) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return v ?? '';
}

/** Fetches the issuer's OpenID Provider metadata (OIDC Discovery §4). */
export async function discover(issuer) {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  const meta = await res.json();
  if (meta.issuer !== issuer) throw new Error(`${url}: issuer ${meta.issuer}, want ${issuer}`);
  if (!meta.jwks_uri) throw new Error(`${url}: no jwks_uri`);
  return meta;
}

function newServer() {
  const server = new McpServer({ name: 'bench-ts-sdk', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Returns the message.', inputSchema: { message: z.string() } },
    async ({ message }) => ({ content: [{ type: 'text', text: message }] }),
  );
  return server;
}

/** Serves MCP at /mcp behind authMiddleware (an express middleware). */
export function serve(authMiddleware) {
  const listen = env('BENCH_LISTEN');
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon);
  const port = Number(listen.slice(colon + 1));

  const app = createMcpExpressApp({ host });
  app.use('/mcp', authMiddleware);

  const transports = {};
  app.post('/mcp', async (req, res) => {
    const sessionId = req.headers['mcp-session-id'];
    let transport;
    if (sessionId && transports[sessionId]) {
      transport = transports[sessionId];
    } else if (!sessionId && isInitializeRequest(req.body)) {
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          transports[id] = transport;
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) delete transports[transport.sessionId];
      };
      await newServer().connect(transport);
    } else {
      res.status(400).json({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Bad Request: No valid session ID provided' },
        id: null,
      });
      return;
    }
    await transport.handleRequest(req, res, req.body);
  });

  const sessionRequest = async (req, res) => {
    const transport = transports[req.headers['mcp-session-id']];
    if (!transport) {
      res.status(400).send('Invalid or missing session ID');
      return;
    }
    await transport.handleRequest(req, res);
  };
  app.get('/mcp', sessionRequest);
  app.delete('/mcp', sessionRequest);

  const httpServer = app.listen(port, host, (err) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
    const addr = httpServer.address();
    process.stdout.write(`ready http://${addr.address}:${addr.port}/mcp\n`);
  });
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
}
