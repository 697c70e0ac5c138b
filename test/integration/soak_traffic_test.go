//go:build soak && unix

package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
)

// soakOp is one MCP operation of the soak.
type soakOp struct {
	method string // tools/list or tools/call
	tool   string
	args   map[string]any
	scoped bool // the tool needs mcp:echo (the route's tool_scopes)
}

func (o soakOp) String() string {
	if o.tool != "" {
		return o.method + " " + o.tool
	}
	return o.method
}

// The tools each route's operations use: an open one and one that needs
// mcp:echo, whose presence in tools/list must follow the caller's scopes.
var (
	soakScopedTool = map[string]string{"/mcp": "echo", "/up": "test_simple_text", "/stdio": "test_simple_text"}
	soakOps        = map[string][]soakOp{
		"/mcp": {
			{method: "tools/list"},
			{method: "tools/call", tool: "whoami", args: map[string]any{}},
			{method: "tools/call", tool: "echo", args: map[string]any{"message": "soak"}, scoped: true},
		},
		"/up": {
			{method: "tools/list"},
			{method: "tools/call", tool: "test_image_content", args: map[string]any{}},
			{method: "tools/call", tool: "test_simple_text", args: map[string]any{}, scoped: true},
		},
	}
)

func init() { soakOps["/stdio"] = soakOps["/up"] }

// soakSimpleText is test_simple_text's answer.
const soakSimpleText = "This is a simple text response for testing."

// soakRequestTimeout bounds one request (a hang, not an expected time).
const soakRequestTimeout = 30 * time.Second

// soakWorker is one client of the soak: a principal, its client
// addresses (X-Forwarded-For, the gateway trusting the loopback proxy) and
// a pace.
type soakWorker struct {
	p        *soakPrincipal
	sessions bool // go-sdk sessions (runSessions), else stateless POSTs (runRaw)
	ips      []string
	base     string // gateway URL
	issuer   string
	routes   []string
	tick     time.Duration
	minter   *soakMinter
	events   *soakEvents
	tally    *soakCounts
	tr       *http.Transport
	rng      *rand.Rand
	id       int64
}

// runRaw sends one stateless (2026-07-28) JSON-RPC POST per tick until
// ctx ends.
func (w *soakWorker) runRaw(ctx context.Context) {
	tick := time.NewTicker(w.tick)
	defer tick.Stop()
	client := &http.Client{Transport: w.tr}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		route := w.routes[w.rng.IntN(len(w.routes))]
		kind, op := soakValid, soakOps[route][2] // the abusive principal: echo, always
		if !w.p.abusive {
			kind = soakRawKinds.pick(w.rng)
			op = soakOps[route][w.rng.IntN(len(soakOps[route]))]
		}
		tok := w.minter.token(kind, w.p, route, w.rng)
		start := time.Now()
		// Not cut by the soak's end: every request sent gets its answer.
		got, detail, result := w.raw(context.Background(), client, route, tok, op)
		w.record(route, op, tok, got, detail, result, start, time.Now())
	}
}

// record classifies one answer (checking an allowed one's content) and
// adds it to the tally.
func (w *soakWorker) record(route string, op soakOp, tok soakToken, got, detail string, result json.RawMessage, start, end time.Time) {
	r := soakRecord{route: route, op: op.String(), tok: tok, got: got, detail: detail, start: start, end: end,
		expect: w.events.expect(tok, op.scoped, start, end)}
	if got == soakAllowed && tok.p != nil {
		r.wrong, r.detail = soakCheck(route, op, tok.p, w.issuer, result)
		if !r.wrong && r.detail != "" {
			r.got = soakError
		}
	}
	w.tally.add(r)
}

// raw sends op with tok as a sessionless 2026-07-28 request and returns
// the outcome and, when allowed, the JSON-RPC result.
func (w *soakWorker) raw(ctx context.Context, c *http.Client, route string, tok soakToken, op soakOp) (got, detail string, result json.RawMessage) {
	w.id++
	params := map[string]any{"_meta": map[string]any{
		"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
		"io.modelcontextprotocol/clientCapabilities": map[string]any{},
	}}
	if op.tool != "" {
		params["name"], params["arguments"] = op.tool, op.args
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": w.id, "method": op.method, "params": params})
	ctx, cancel := context.WithTimeout(ctx, soakRequestTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, w.base+route, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", op.method)
	if op.tool != "" {
		req.Header.Set("Mcp-Name", op.tool)
	}
	if tok.raw != "" {
		req.Header.Set("Authorization", "Bearer "+tok.raw)
	}
	req.Header.Set("X-Forwarded-For", w.ips[w.rng.IntN(len(w.ips))])
	resp, err := c.Do(req)
	if err != nil {
		return soakError, err.Error(), nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if got := soakStatus(resp.StatusCode); got != "" {
		return got, fmt.Sprintf("%d %s", resp.StatusCode, soakShort(data)), nil
	}
	if err != nil {
		return soakError, "reading the answer: " + err.Error(), nil
	}
	res, rpcErr := soakResponse(data, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream"), w.id)
	if rpcErr != "" {
		return soakError, rpcErr, nil
	}
	return soakAllowed, "", res
}

// soakStatus maps a status that is not a 2xx answer to an outcome; "" for 2xx.
func soakStatus(code int) string {
	switch {
	case code >= 200 && code < 300:
		return ""
	case code == http.StatusUnauthorized:
		return soak401
	case code == http.StatusForbidden:
		return soak403
	case code == http.StatusTooManyRequests:
		return soak429
	case code == http.StatusBadGateway, code == http.StatusServiceUnavailable, code == http.StatusGatewayTimeout:
		return soakUpstream
	}
	return soakError
}

// soakResponse finds the JSON-RPC response with id in a JSON body or an
// event stream and returns its result, or a description of its error.
func soakResponse(data []byte, sse bool, id int64) (json.RawMessage, string) {
	var msgs [][]byte
	if sse {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
				msgs = append(msgs, []byte(strings.TrimSpace(line)))
			}
		}
	} else {
		msgs = [][]byte{data}
	}
	for _, m := range msgs {
		var r struct {
			ID     json.RawMessage `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(m, &r) != nil || string(r.ID) != fmt.Sprint(id) {
			continue
		}
		if r.Error != nil {
			return nil, fmt.Sprintf("JSON-RPC error %d: %s", r.Error.Code, r.Error.Message)
		}
		return r.Result, ""
	}
	return nil, "no response with id " + fmt.Sprint(id) + ": " + soakShort(data)
}

func soakShort(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// soakToolEntry is the part of a tools/list entry the soak reads.
type soakToolEntry struct {
	Name string `json:"name"`
}

// soakCheck reads an allowed answer: a tools/list that shows the scoped
// tool to a caller without mcp:echo (or hides it from one with it), or a
// whoami naming another caller, is a wrong decision; a tool result that is
// an error or not the tool's answer is an error (detail set).
func soakCheck(route string, op soakOp, p *soakPrincipal, issuer string, result json.RawMessage) (wrong bool, detail string) {
	if op.method == "initialize" {
		return false, ""
	}
	if op.method == "tools/list" {
		var l struct {
			Tools []soakToolEntry `json:"tools"`
		}
		if err := json.Unmarshal(result, &l); err != nil || len(l.Tools) == 0 {
			return false, "tools/list result without tools: " + soakShort(result)
		}
		listed := slices.ContainsFunc(l.Tools, func(t soakToolEntry) bool { return t.Name == soakScopedTool[route] })
		if listed != p.echo {
			return true, fmt.Sprintf("tools/list shows %s: %t, caller holds mcp:echo: %t", soakScopedTool[route], listed, p.echo)
		}
		return false, ""
	}
	var r struct {
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		StructuredContent struct {
			Subject string `json:"subject"`
			Issuer  string `json:"issuer"`
		} `json:"structuredContent"`
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(result, &r); err != nil || r.IsError || len(r.Content) == 0 {
		return false, "tool result is an error or empty: " + soakShort(result)
	}
	switch op.tool {
	case "whoami":
		if r.StructuredContent.Subject != p.name || r.StructuredContent.Issuer != issuer {
			return true, fmt.Sprintf("whoami says subject %q issuer %q", r.StructuredContent.Subject, r.StructuredContent.Issuer)
		}
	case "echo":
		if r.Content[0].Text != "soak" {
			return false, "echo answered " + soakShort([]byte(r.Content[0].Text))
		}
	case "test_simple_text":
		if r.Content[0].Text != soakSimpleText {
			return false, "test_simple_text answered " + soakShort([]byte(r.Content[0].Text))
		}
	case "test_image_content":
		if r.Content[0].Type != "image" {
			return false, "test_image_content answered " + r.Content[0].Type
		}
	}
	return false, ""
}
