//go:build bench

package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Session is one MCP session over Streamable HTTP.
type Session struct {
	client   *http.Client
	url      string
	id       string // Mcp-Session-Id
	protocol string // negotiated MCP-Protocol-Version
}

// Open initializes a session (initialize, then notifications/initialized)
// with token.
func Open(client *http.Client, url, token string) (*Session, error) {
	s := &Session{client: client, url: url}
	init := `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"` + ProtocolVersion +
		`","capabilities":{},"clientInfo":{"name":"mcp-gateway-bench","version":"1"}}}`
	resp, err := s.post(token, init)
	if err != nil {
		return nil, err
	}
	var result struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if err := readResponse(resp, &result); err != nil {
		return nil, fmt.Errorf("initialize: %w", err)
	}
	s.id, s.protocol = resp.Header.Get("Mcp-Session-Id"), result.ProtocolVersion
	if s.id == "" {
		return nil, errors.New("initialize: no Mcp-Session-Id (the peer must be stateful)")
	}
	resp, err = s.post(token, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("notifications/initialized: %s", resp.Status)
	}
	return s, nil
}

// Close ends the session (DELETE), ignoring failures: a peer may not
// support it.
func (s *Session) Close(token string) {
	req, err := http.NewRequest(http.MethodDelete, s.url, nil)
	if err != nil {
		return
	}
	s.headers(req, token)
	if resp, err := s.client.Do(req); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}

// Echo calls the tool echo with msg and checks the reply is one text
// content equal to msg.
func (s *Session) Echo(token string, id int64, msg string) error {
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"message":%q}}}`, id, msg)
	resp, err := s.post(token, body)
	if err != nil {
		return err
	}
	var result struct {
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	}
	if err := readResponse(resp, &result); err != nil {
		return err
	}
	if result.IsError || len(result.Content) != 1 || result.Content[0].Type != "text" || result.Content[0].Text != msg {
		return fmt.Errorf("echo %q: unexpected result %+v", msg, result)
	}
	return nil
}

// InitializeStatus sends one initialize with token ("" for none) and
// returns the HTTP status, for the authentication checks.
func InitializeStatus(client *http.Client, url, token string) (int, error) {
	s := &Session{client: client, url: url}
	resp, err := s.post(token, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"`+
		ProtocolVersion+`","capabilities":{},"clientInfo":{"name":"mcp-gateway-bench","version":"1"}}}`)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

func (s *Session) post(token, body string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, s.url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	s.headers(req, token)
	return s.client.Do(req)
}

func (s *Session) headers(req *http.Request, token string) {
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if s.id != "" {
		req.Header.Set("Mcp-Session-Id", s.id)
	}
	if s.protocol != "" {
		req.Header.Set("MCP-Protocol-Version", s.protocol)
	}
}

// rpcResponse is a JSON-RPC response (or, in an event stream, possibly a
// notification or request, which has no result and no error).
type rpcResponse struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// readResponse reads a 200 reply, JSON or an event stream, up to its
// JSON-RPC response, decodes the result into v, and drains and closes the
// body so that the connection is reused.
func readResponse(resp *http.Response, v any) error {
	defer func() {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return fmt.Errorf("HTTP %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	var msg rpcResponse
	switch ct := resp.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "application/json"):
		if err := json.NewDecoder(resp.Body).Decode(&msg); err != nil {
			return fmt.Errorf("decode JSON reply: %w", err)
		}
	case strings.HasPrefix(ct, "text/event-stream"):
		if err := readEvent(resp.Body, &msg); err != nil {
			return err
		}
	default:
		return fmt.Errorf("content type %q", ct)
	}
	if msg.Error != nil {
		return fmt.Errorf("JSON-RPC error %d: %s", msg.Error.Code, msg.Error.Message)
	}
	if msg.Result == nil {
		return errors.New("reply has no result")
	}
	return json.Unmarshal(msg.Result, v)
}

// readEvent reads server-sent events until one whose data is a JSON-RPC
// response (result or error) and decodes it into msg.
func readEvent(r io.Reader, msg *rpcResponse) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var data []byte
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			if len(data) > 0 {
				*msg = rpcResponse{}
				if err := json.Unmarshal(data, msg); err != nil {
					return fmt.Errorf("decode event: %w", err)
				}
				if msg.Result != nil || msg.Error != nil {
					return nil
				}
			}
			data = data[:0]
			continue
		}
		if d, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			if len(data) > 0 {
				data = append(data, '\n')
			}
			data = append(data, bytes.TrimPrefix(d, []byte(" "))...)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read event stream: %w", err)
	}
	return errors.New("event stream ended without a response")
}
