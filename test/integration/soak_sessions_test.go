//go:build soak && unix

package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// soakRT adds the session's bearer token and the worker's client address
// to every request, and remembers the status of the last POST (the go-sdk
// reports an HTTP refusal as an error whose status it does not expose).
type soakRT struct {
	base http.RoundTripper
	ip   string

	mu      sync.Mutex
	token   string
	last    int // status of the last POST
	deleted int // status of the last DELETE
}

func (t *soakRT) RoundTrip(r *http.Request) (*http.Response, error) {
	t.mu.Lock()
	token := t.token
	t.mu.Unlock()
	r = r.Clone(r.Context())
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	r.Header.Set("X-Forwarded-For", t.ip)
	resp, err := t.base.RoundTrip(r)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	t.mu.Lock()
	switch r.Method {
	case http.MethodPost:
		t.last = status
	case http.MethodDelete:
		t.deleted = status
	}
	t.mu.Unlock()
	return resp, err
}

func (t *soakRT) setToken(tok string) {
	t.mu.Lock()
	t.token = tok
	t.mu.Unlock()
}

func (t *soakRT) resetStatus() {
	t.mu.Lock()
	t.last = 0
	t.mu.Unlock()
}

func (t *soakRT) deleteStatus() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.deleted
}

func (t *soakRT) lastStatus() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

// soakOpsPerSession is how many operations a go-sdk session makes before
// it is closed (DELETE) and another one opened.
const soakOpsPerSession = 10

// runSessions opens go-sdk sessions (protocol 2025-11-25, with the
// standalone GET stream) on every route one after the other, each with a
// token of a random kind, and makes soakOpsPerSession operations per
// session, one per tick, until ctx ends. A session ends early at the first
// answer that is not a result: the go-sdk client gives up its connection
// on an HTTP refusal whose body is not JSON-RPC (the gateway's 401 and 403
// carry RFC 6750 OAuth error bodies). Sessions are closed with a fresh
// valid token, as a client that refreshed its token would, and DELETEd
// again (deleteSession) when the client's own DELETE did not end them, so
// that none is left to the gateway's idle timeouts.
func (w *soakWorker) runSessions(ctx context.Context) {
	tick := time.NewTicker(w.tick)
	defer tick.Stop()
	client := mcp.NewClient(&mcp.Implementation{Name: "mcp-gateway-soak", Version: "1"}, nil)
	for ctx.Err() == nil {
		route := w.routes[w.rng.IntN(len(w.routes))]
		tok := w.minter.token(soakSessionKinds.pick(w.rng), w.p, route, w.rng)
		rt := &soakRT{base: w.tr, ip: w.ips[0], token: tok.raw}
		init := soakOp{method: "initialize"}
		start := time.Now()
		// Requests are not cut by the soak's end (a session the gateway
		// opened must be known to be closed); ctx is checked between them.
		cctx, cancel := context.WithTimeout(context.Background(), soakRequestTimeout)
		cs, err := client.Connect(cctx, &mcp.StreamableClientTransport{Endpoint: w.base + route, HTTPClient: &http.Client{Transport: rt}},
			&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
		cancel()
		got, detail := soakSDKOutcome(err, rt.lastStatus())
		w.record(route, init, tok, got, detail, nil, start, time.Now())
		if err != nil {
			w.pause(ctx, tick)
			continue
		}
		broken := false
		for i := 0; i < soakOpsPerSession && ctx.Err() == nil && !broken; i++ {
			if !w.pause(ctx, tick) {
				break
			}
			op := soakOps[route][w.rng.IntN(len(soakOps[route]))]
			start := time.Now()
			rt.resetStatus()
			result, err := soakSDKOp(context.Background(), cs, op)
			got, detail := soakSDKOutcome(err, rt.lastStatus())
			w.record(route, op, tok, got, detail, result, start, time.Now())
			broken = err != nil
		}
		rt.setToken(w.minter.token(soakValid, w.p, route, w.rng).raw)
		id := cs.ID()
		_ = cs.Close()
		if id != "" && !soakDeleted(rt.deleteStatus()) {
			w.deleteSession(route, id)
		}
	}
}

// soakDeleted reports whether a DELETE's status means the session is gone.
func soakDeleted(status int) bool {
	return status == http.StatusNoContent || status == http.StatusOK || status == http.StatusNotFound
}

// soakDeleteBound bounds deleteSession's retries (testkit.Poll backs off
// between them).
const soakDeleteBound = 15 * time.Second

// deleteSession ends session id on route with a DELETE (MCP Streamable
// HTTP, "Session Management"), each time with a fresh valid token, until
// the session is gone: a DELETE the go-sdk client could not make, or
// whose token was refused while the gateway had not yet fetched a new
// signing key, would otherwise leave the session to the idle timeout.
func (w *soakWorker) deleteSession(route, id string) {
	testkit.Poll(soakDeleteBound, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), soakRequestTimeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, w.base+route, nil)
		req.Header.Set("Authorization", "Bearer "+w.minter.token(soakValid, w.p, route, w.rng).raw)
		req.Header.Set("Mcp-Session-Id", id)
		req.Header.Set("MCP-Protocol-Version", "2025-11-25")
		req.Header.Set("X-Forwarded-For", w.ips[0])
		resp, err := (&http.Client{Transport: w.tr}).Do(req)
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return soakDeleted(resp.StatusCode)
	})
}

// pause waits for the next tick; false when ctx ended first.
func (w *soakWorker) pause(ctx context.Context, tick *time.Ticker) bool {
	select {
	case <-ctx.Done():
		return false
	case <-tick.C:
		return true
	}
}

// soakSDKOp runs op on a go-sdk session and returns its result as JSON.
func soakSDKOp(ctx context.Context, cs *mcp.ClientSession, op soakOp) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, soakRequestTimeout)
	defer cancel()
	var res any
	var err error
	if op.method == "tools/list" {
		res, err = cs.ListTools(ctx, &mcp.ListToolsParams{})
	} else {
		res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: op.tool, Arguments: op.args})
	}
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(res)
	return b, err
}

// soakSDKOutcome maps a go-sdk call's error and the status of its POST to
// an outcome.
func soakSDKOutcome(err error, status int) (got, detail string) {
	if err == nil {
		return soakAllowed, ""
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return soakError, "timed out: " + err.Error()
	}
	if got := soakStatus(status); got != "" && got != soakError {
		return got, fmt.Sprintf("%d: %v", status, err)
	}
	return soakError, fmt.Sprintf("status %d: %v", status, err)
}
