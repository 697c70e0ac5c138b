package oauthcli

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	u, _ := url.Parse("https://user:pw@as.example/cb?code=CODE-SECRET&state=STATE-SECRET&code_verifier=V-SECRET&resource=https%3A%2F%2Fgw%2Fmcp&audience=api&scope=mcp%3Atools#frag")
	got := RedactURL(u)
	for _, secret := range []string{"CODE-SECRET", "STATE-SECRET", "V-SECRET", "user", "pw@", "frag"} {
		if strings.Contains(got, secret) {
			t.Errorf("RedactURL = %q shows %q", got, secret)
		}
	}
	for _, keep := range []string{"resource=https%3A%2F%2Fgw%2Fmcp", "audience=api", "scope=mcp%3Atools", "code=%E2%80%A6"} {
		if !strings.Contains(got, keep) {
			t.Errorf("RedactURL = %q lacks %q", got, keep)
		}
	}
}

// TestTransportShowsOAuthErrorsNotSecrets sends a token request with a
// code, a secret in the body and HTTP Basic credentials: the log shows the
// status, the challenge and the OAuth error, none of the secrets, and the
// caller still gets the whole body.
func TestTransportShowsOAuthErrorsNotSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client","error_description":"client authentication failed"}`)
	}))
	defer srv.Close()
	var log bytes.Buffer
	hc := &http.Client{Transport: &Transport{Steps: NewSteps(&log), Explain: ExplainOAuthError}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/token?code=CODE-SECRET", strings.NewReader("client_secret=SECRET"))
	req.SetBasicAuth("app", "BASIC-SECRET")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "client authentication failed") {
		t.Errorf("body did not reach the caller: %q", body)
	}
	out := log.String()
	for _, s := range []string{"CODE-SECRET", "SECRET\n", "BASIC-SECRET", "client_secret="} {
		if strings.Contains(out, s) {
			t.Errorf("log shows %q:\n%s", s, out)
		}
	}
	for _, want := range []string{"step 1: POST " + srv.URL + "/token?code=%E2%80%A6 -> 401 Unauthorized", `WWW-Authenticate: Basic realm="token"`, "OAuth error: invalid_client client authentication failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// roundTripFunc is an http.RoundTripper from a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// closeRecorder is a body that records whether it was closed.
type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestTransportHooks(t *testing.T) {
	answer := func(body io.ReadCloser) roundTripFunc {
		return func(*http.Request) (*http.Response, error) {
			return &http.Response{Status: "200 OK", StatusCode: http.StatusOK, Header: http.Header{}, Body: body}, nil
		}
	}
	req := httptest.NewRequest(http.MethodPost, "https://gw.example/mcp", nil)

	t.Run("annotate and explain", func(t *testing.T) {
		var log bytes.Buffer
		tr := &Transport{
			Steps:    NewSteps(&log),
			Base:     answer(io.NopCloser(strings.NewReader("x"))),
			Annotate: func(*http.Request) string { return " [tools/list]" },
			Explain:  func(*http.Request, *http.Response) ([]string, error) { return []string{"one", "two"}, nil },
		}
		if _, err := tr.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		want := "step 1: POST https://gw.example/mcp [tools/list] -> 200 OK\n        one\n        two\n"
		if log.String() != want {
			t.Errorf("log:\n%s\nwant:\n%s", log.String(), want)
		}
	})
	t.Run("explain error fails the exchange", func(t *testing.T) {
		body := &closeRecorder{Reader: strings.NewReader("x")}
		tr := &Transport{
			Steps:   NewSteps(io.Discard),
			Base:    answer(body),
			Explain: func(*http.Request, *http.Response) ([]string, error) { return nil, errors.New("boom") },
		}
		resp, err := tr.RoundTrip(req)
		if resp != nil || err == nil || !strings.Contains(err.Error(), "reading the response: boom") {
			t.Fatalf("RoundTrip = %v, %v", resp, err)
		}
		if !body.closed {
			t.Error("the response body was not closed")
		}
	})
	t.Run("transport error", func(t *testing.T) {
		var log bytes.Buffer
		tr := &Transport{Steps: NewSteps(&log), Base: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("refused") })}
		if _, err := tr.RoundTrip(req); err == nil {
			t.Fatal("no error")
		}
		if !strings.Contains(log.String(), "POST https://gw.example/mcp -> error: refused") {
			t.Errorf("log:\n%s", log.String())
		}
	})
}

func TestExplainOAuthError(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        string // "": no line
	}{
		{name: "OAuth error", status: 400, contentType: "application/json", body: `{"error":"invalid_grant","error_description":"code used"}`, want: "OAuth error: invalid_grant code used"},
		{name: "success not read", status: 200, contentType: "application/json", body: `{"error":"looks like one"}`},
		{name: "event stream not read", status: 500, contentType: "text/event-stream", body: `{"error":"x"}`},
		{name: "not an OAuth error", status: 500, contentType: "text/html", body: `<html>oops</html>`},
		{name: "JSON-RPC error object", status: 400, contentType: "application/json", body: `{"jsonrpc":"2.0","error":{"code":-32600}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{"Content-Type": {tc.contentType}}, Body: io.NopCloser(strings.NewReader(tc.body))}
			lines, err := ExplainOAuthError(nil, resp)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(lines, "\n"); got != tc.want {
				t.Errorf("lines = %q, want %q", got, tc.want)
			}
			if b, _ := io.ReadAll(resp.Body); string(b) != tc.body {
				t.Errorf("body left = %q, want all of %q", b, tc.body)
			}
		})
	}
}

// TestPeekBody checks that the caller gets the whole body, past the limit.
func TestPeekBody(t *testing.T) {
	resp := &http.Response{Body: io.NopCloser(strings.NewReader("0123456789"))}
	got, err := PeekBody(resp, 4)
	if err != nil || string(got) != "0123" {
		t.Fatalf("PeekBody = %q, %v", got, err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "0123456789" {
		t.Errorf("body = %q, want all of it", b)
	}
}
