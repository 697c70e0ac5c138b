package lambdahttp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr/lambdahttp"
)

// seen is what the echo handler observed of a request.
type seen struct {
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	Query      map[string][]string `json:"query"`
	Host       string              `json:"host"`
	RemoteAddr string              `json:"remote_addr"`
	Body       string              `json:"body"`
	Header     map[string][]string `json:"header"`
	Cookies    []string            `json:"cookies"`
	Deadline   bool                `json:"deadline"`
}

// echoHandler is a real http.Handler: it reports the request as JSON, sets
// two cookies and repeated headers (X-Multi, Vary, WWW-Authenticate), and
// serves binary bytes at /binary.
func echoHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/binary", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write([]byte{0x89, 'P', 'N', 'G', 0, 0xff})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s := seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Host: r.Host,
			RemoteAddr: r.RemoteAddr, Body: string(body), Header: r.Header}
		for _, c := range r.Cookies() {
			s.Cookies = append(s.Cookies, c.Name+"="+c.Value)
		}
		_, s.Deadline = r.Context().Deadline()
		w.Header().Add("Set-Cookie", "a=1; Path=/")
		w.Header().Add("Set-Cookie", "b=2; Path=/")
		w.Header().Add("X-Multi", "one")
		w.Header().Add("X-Multi", "two")
		w.Header().Add("Vary", "Origin")
		w.Header().Add("Vary", "Accept-Encoding")
		w.Header().Add("WWW-Authenticate", `Bearer realm="mcp-dcr"`)
		w.Header().Add("WWW-Authenticate", `Basic realm="mcp-dcr"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(s)
	})
	return mux
}

func load(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func invoke(t *testing.T, event json.RawMessage) any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := lambdahttp.Handler(echoHandler(), nil, nil)(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func decodeSeen(t *testing.T, body string, b64 bool) seen {
	t.Helper()
	if b64 {
		t.Fatalf("JSON answer was base64-encoded")
	}
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return s
}

func TestRecordedEvents(t *testing.T) {
	wantBody := `{"redirect_uris":["http://localhost:3334/callback"],"client_name":"Claude Code (mcp)",` +
		`"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"response_types":["code"]}`
	tests := []struct {
		file      string
		v2        bool
		method    string
		path      string
		query     map[string][]string
		remote    string
		host      string
		body      string
		header    map[string][]string
		cookies   []string
		userAgent string
	}{
		{file: "v2_post_register.json", v2: true, method: "POST", path: "/register", remote: "203.0.113.7:0",
			host: "dcr.example.com", body: wantBody, cookies: []string{"session=abc123", "theme=dark"},
			header: map[string][]string{"Content-Type": {"application/json"}, "Mcp-Protocol-Version": {"2025-11-25"}}},
		{file: "v2_get_query.json", v2: true, method: "GET", path: "/.well-known/oauth-authorization-server",
			query: map[string][]string{"probe": {"a", "b"}, "q": {"x y"}}, remote: "198.51.100.23:0", host: "dcr.example.com",
			header: map[string][]string{"User-Agent": {"claude-code/2.0.14"}}},
		{file: "v1_post_register.json", method: "POST", path: "/register", remote: "192.0.2.44:0",
			host: "abcd123456.execute-api.eu-west-1.amazonaws.com", body: wantBody,
			header: map[string][]string{"X-Forwarded-For": {"192.0.2.44, 130.176.98.12"}}},
		{file: "v1_get_query.json", method: "GET", path: "/register/7f3kq2mb1v9dlh0c4s8e6ta5n",
			query:  map[string][]string{"tag": {"a", "b"}, "q": {"x y"}},
			remote: "192.0.2.45:0", host: "abcd123456.execute-api.eu-west-1.amazonaws.com",
			header: map[string][]string{"X-Custom": {"one", "two"}, "Authorization": {"Bearer reg-token-abc"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var s seen
			var status int
			var headers map[string][]string
			switch out := invoke(t, load(t, tt.file)).(type) {
			case events.APIGatewayV2HTTPResponse:
				if !tt.v2 {
					t.Fatalf("v1 event answered with a v2 response")
				}
				status, s = out.StatusCode, decodeSeen(t, out.Body, out.IsBase64Encoded)
				if !slices.Equal(out.Cookies, []string{"a=1; Path=/", "b=2; Path=/"}) {
					t.Errorf("cookies = %q", out.Cookies)
				}
				if _, ok := out.Headers["Set-Cookie"]; ok {
					t.Errorf("Set-Cookie left in headers")
				}
				if out.Headers["X-Multi"] != "one, two" {
					t.Errorf("X-Multi = %q", out.Headers["X-Multi"])
				}
				headers = map[string][]string{"Content-Type": {out.Headers["Content-Type"]}}
			case events.APIGatewayProxyResponse:
				if tt.v2 {
					t.Fatalf("v2 event answered with a v1 response")
				}
				status, s = out.StatusCode, decodeSeen(t, out.Body, out.IsBase64Encoded)
				if !slices.Equal(out.MultiValueHeaders["Set-Cookie"], []string{"a=1; Path=/", "b=2; Path=/"}) ||
					!slices.Equal(out.MultiValueHeaders["X-Multi"], []string{"one", "two"}) {
					t.Errorf("multi-value headers = %v", out.MultiValueHeaders)
				}
				headers = out.MultiValueHeaders
			default:
				t.Fatalf("answer type %T", out)
			}
			if status != http.StatusCreated || headers["Content-Type"][0] != "application/json" {
				t.Fatalf("status %d, headers %v", status, headers)
			}
			if s.Method != tt.method || s.Path != tt.path || s.RemoteAddr != tt.remote || s.Host != tt.host || s.Body != tt.body {
				t.Fatalf("request seen as %+v", s)
			}
			if !s.Deadline {
				t.Errorf("the invocation's deadline did not reach the request")
			}
			for k, v := range tt.query {
				if !slices.Equal(s.Query[k], v) {
					t.Errorf("query %s = %q, want %q", k, s.Query[k], v)
				}
			}
			if len(tt.query) == 0 && len(s.Query) != 0 {
				t.Errorf("unexpected query %v", s.Query)
			}
			for k, v := range tt.header {
				if !slices.Equal(s.Header[k], v) {
					t.Errorf("header %s = %q, want %q", k, s.Header[k], v)
				}
			}
			if !slices.Equal(s.Cookies, tt.cookies) {
				t.Errorf("cookies = %q, want %q", s.Cookies, tt.cookies)
			}
		})
	}
}

func TestBinaryResponsesAreBase64(t *testing.T) {
	for _, file := range []string{"v1_get_query.json", "v2_get_query.json"} {
		t.Run(file, func(t *testing.T) {
			var ev map[string]any
			if err := json.Unmarshal(load(t, file), &ev); err != nil {
				t.Fatal(err)
			}
			if _, ok := ev["rawPath"]; ok {
				ev["rawPath"] = "/binary"
			} else {
				ev["path"] = "/binary"
			}
			raw, _ := json.Marshal(ev)
			var body string
			var b64 bool
			switch out := invoke(t, raw).(type) {
			case events.APIGatewayV2HTTPResponse:
				body, b64 = out.Body, out.IsBase64Encoded
			case events.APIGatewayProxyResponse:
				body, b64 = out.Body, out.IsBase64Encoded
			}
			got, err := base64.StdEncoding.DecodeString(body)
			if !b64 || err != nil || string(got) != "\x89PNG\x00\xff" {
				t.Fatalf("binary body %q (base64 %v): %v", body, b64, err)
			}
		})
	}
}

func TestBadBase64BodyIs400(t *testing.T) {
	ev := strings.Replace(string(load(t, "v2_post_register.json")), `"body": "eyJ`, `"body": "!!!`, 1)
	out, ok := invoke(t, json.RawMessage(ev)).(events.APIGatewayV2HTTPResponse)
	if !ok || out.StatusCode != http.StatusBadRequest {
		t.Fatalf("answer %+v", out)
	}
}

func TestScheduledEvents(t *testing.T) {
	for _, ev := range []json.RawMessage{load(t, "scheduled.json"), json.RawMessage(`{"command":"gc"}`)} {
		calls := 0
		h := lambdahttp.Handler(echoHandler(), func(context.Context) error { calls++; return nil }, nil)
		if _, err := h(context.Background(), ev); err != nil || calls != 1 {
			t.Fatalf("%s: calls %d, err %v", ev[:20], calls, err)
		}
	}
	boom := errors.New("boom")
	h := lambdahttp.Handler(echoHandler(), func(context.Context) error { return boom }, nil)
	if _, err := h(context.Background(), load(t, "scheduled.json")); !errors.Is(err, boom) {
		t.Fatalf("schedule error = %v", err)
	}
	if _, err := lambdahttp.Handler(echoHandler(), nil, nil)(context.Background(), load(t, "scheduled.json")); err == nil {
		t.Fatal("a scheduled event without a schedule handler must fail")
	}
}

func TestUnsupportedEvents(t *testing.T) {
	h := lambdahttp.Handler(echoHandler(), func(context.Context) error { return nil }, nil)
	for _, ev := range []string{`{"Records":[]}`, `{"version":"2.0"}`, `[1,2]`, `not json`} {
		if _, err := h(context.Background(), json.RawMessage(ev)); err == nil {
			t.Errorf("%s: want an error", ev)
		}
	}
}

// TestDeadlineReserve: the request's context ends ReserveTime before the
// invocation's, so the function can still answer.
func TestDeadlineReserve(t *testing.T) {
	inv := time.Now().Add(3 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), inv)
	defer cancel()
	var got time.Time
	h := lambdahttp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = r.Context().Deadline()
	}), nil, nil)
	ev := []byte(`{"version":"2.0","rawPath":"/x","requestContext":{"http":{"method":"GET","sourceIp":"192.0.2.1"}}}`)
	if _, err := h(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if want := inv.Add(-lambdahttp.ReserveTime); !got.Equal(want) {
		t.Fatalf("request deadline %v, want %v", got, want)
	}
}
