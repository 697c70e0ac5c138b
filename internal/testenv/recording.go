package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// maxRecordedBody bounds the part of a request body a RecordingUpstream
// keeps (and hands on to the MCP server).
const maxRecordedBody = 1 << 20

// RecordingUpstream is an MCP upstream that remembers what reached it: a
// stateless go-sdk server (Streamable HTTP) with one tool, "echo"
// ({"message": string} → one text content with the message), on a
// loopback httptest server closed at cleanup. Every request is recorded
// with its HTTP method, headers and body before the server answers it, so
// a test can see which credentials a gateway sent upstream and for which
// call. It does not check any credential. It is safe for concurrent use.
type RecordingUpstream struct {
	// URL is the MCP endpoint (the server's root).
	URL string

	mu   sync.Mutex
	reqs []RecordedRequest
}

// RecordedRequest is one request a RecordingUpstream received.
type RecordedRequest struct {
	// Method is the HTTP method.
	Method string
	// Header is a copy of the request's headers.
	Header http.Header
	// Body is the request body (at most 1 MiB of it).
	Body []byte
}

// Bearer returns the token of an "Authorization: Bearer" header (scheme
// matched case-insensitively), "" without one.
func (r RecordedRequest) Bearer() string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return token
}

// RPCMethod returns the JSON-RPC method of a single-message body ("" for
// a batch, a response, an empty or a malformed body).
func (r RecordedRequest) RPCMethod() string {
	var m struct {
		Method string `json:"method"`
	}
	if json.Unmarshal(r.Body, &m) != nil {
		return ""
	}
	return m.Method
}

// EchoMessage returns the "message" argument of a tools/call of "echo"
// ("" for any other body).
func (r RecordedRequest) EchoMessage() string {
	var m struct {
		Method string `json:"method"`
		Params struct {
			Name      string `json:"name"`
			Arguments struct {
				Message string `json:"message"`
			} `json:"arguments"`
		} `json:"params"`
	}
	if json.Unmarshal(r.Body, &m) != nil || m.Method != "tools/call" || m.Params.Name != "echo" {
		return ""
	}
	return m.Params.Arguments.Message
}

// StartRecordingUpstream starts a RecordingUpstream; it stops when the
// test ends.
func StartRecordingUpstream(t testing.TB) *RecordingUpstream {
	t.Helper()
	h := echoHandler("recording-upstream")
	u := &RecordingUpstream{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRecordedBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		u.mu.Lock()
		u.reqs = append(u.reqs, RecordedRequest{Method: r.Method, Header: r.Header.Clone(), Body: body})
		u.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	u.URL = hs.URL
	return u
}

// Requests returns a copy of the requests received so far, in arrival
// order.
func (u *RecordingUpstream) Requests() []RecordedRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]RecordedRequest, len(u.reqs))
	for i, r := range u.reqs {
		r.Header = r.Header.Clone()
		r.Body = bytes.Clone(r.Body)
		out[i] = r
	}
	return out
}

// Len is the number of requests received so far.
func (u *RecordingUpstream) Len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.reqs)
}
