// Shared helpers for the Node test peers: a loopback-only fetch, a tiny cookie
// jar, and a headless "browser" that follows an authorization URL hop by hop
// until the authorization server redirects to the client's redirect_uri.

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** assertLoopback throws unless url is an http(s) URL on a loopback host. */
export function assertLoopback(url) {
  const u = url instanceof URL ? url : new URL(String(url));
  if (!['http:', 'https:'].includes(u.protocol) || !LOOPBACK_HOSTS.has(u.hostname)) {
    throw new Error(`refusing non-loopback target ${u.origin}`);
  }
  return u;
}

/** loopbackFetch is fetch that refuses every non-loopback URL. */
export function loopbackFetch(input, init) {
  const url = input instanceof Request ? input.url : input;
  assertLoopback(url);
  return fetch(input, init);
}

/** CookieJar keeps name=value pairs per host and path (enough for oidc-provider). */
export class CookieJar {
  #cookies = new Map(); // key host|path|name -> {host, path, name, value}

  store(url, response) {
    const setCookies = response.headers.getSetCookie?.() ?? [];
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = '/';
      let expired = value === '';
      for (const a of attrs) {
        const [k, v = ''] = a.split('=');
        const key = k.trim().toLowerCase();
        if (key === 'path') path = v.trim() || '/';
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const id = `${url.host}|${path}|${name}`;
      if (expired) this.#cookies.delete(id);
      else this.#cookies.set(id, { host: url.host, path, name, value });
    }
  }

  header(url) {
    const out = [];
    for (const c of this.#cookies.values()) {
      if (c.host !== url.host) continue;
      const p = c.path.endsWith('/') ? c.path : `${c.path}/`;
      if (url.pathname === c.path || url.pathname.startsWith(p) || c.path === '/') {
        out.push(`${c.name}=${c.value}`);
      }
    }
    return out.join('; ');
  }
}

/**
 * followAuthorization plays a user agent that approves everything: it GETs the
 * authorization URL and follows each redirect (loopback only, keeping cookies)
 * until the Location starts with redirectUri, and returns that URL's `code`.
 * It throws with the authorization server's error/error_description if the
 * redirect carries an error, or if the chain ends anywhere else.
 */
export async function followAuthorization(authorizationUrl, redirectUri, { maxHops = 20, expectState } = {}) {
  const jar = new CookieJar();
  let url = new URL(String(authorizationUrl));
  for (let hop = 0; hop < maxHops; hop++) {
    assertLoopback(url);
    const headers = { accept: 'text/html,application/json' };
    const cookie = jar.header(url);
    if (cookie) headers.cookie = cookie;
    const res = await fetch(url, { redirect: 'manual', headers });
    jar.store(url, res);
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) {
      const body = (await res.text()).slice(0, 500);
      throw new Error(`authorization stopped at ${url.origin}${url.pathname} with HTTP ${res.status} (no redirect): ${body}`);
    }
    await res.body?.cancel();
    if (location.startsWith(String(redirectUri))) {
      const back = new URL(location);
      const params = back.searchParams;
      if (params.get('error')) {
        const desc = params.get('error_description');
        throw new Error(`authorization error: ${params.get('error')}${desc ? `: ${desc}` : ''}`);
      }
      if (expectState !== undefined && params.get('state') !== expectState) {
        throw new Error(`authorization response state mismatch: got ${params.get('state')}`);
      }
      const code = params.get('code');
      if (!code) throw new Error(`redirect to ${redirectUri} carries no code: ${location}`);
      return code;
    }
    url = new URL(location, url);
  }
  throw new Error(`authorization did not reach ${redirectUri} within ${maxHops} redirects`);
}

/** decodeJwt returns a JWT's payload (no signature check: for test output only). */
export function decodeJwt(token) {
  const parts = String(token).split('.');
  if (parts.length !== 3) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

/** randomLoopbackRedirect returns http://127.0.0.1:<random high port>/callback. Nothing listens there: the code is taken from the Location header. */
export function randomLoopbackRedirect() {
  const port = 20000 + Math.floor(Math.random() * 40000);
  return `http://127.0.0.1:${port}/callback`;
}

/** fail prints an error to stderr and exits 1. */
export function fail(err) {
  const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`${msg}\n`);
  if (err?.cause) process.stderr.write(`cause: ${err.cause?.stack ?? err.cause}\n`);
  process.exit(1);
}

/** withDeadline exits 1 if the program runs longer than ms. */
export function withDeadline(ms, what) {
  setTimeout(() => fail(new Error(`${what}: timed out after ${ms} ms`)), ms).unref();
}
