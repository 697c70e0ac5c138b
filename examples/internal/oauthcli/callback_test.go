package oauthcli

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

// listen starts a Callback on an ephemeral port and closes it at the end.
func listen(t *testing.T, host, path string) *Callback {
	t.Helper()
	cb, err := ListenCallback(host, 0, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cb.Close() })
	return cb
}

// redirect GETs the callback with q as the browser would and returns the
// status and the page.
func redirect(t *testing.T, cb *Callback, q url.Values) (int, string) {
	t.Helper()
	resp, err := http.Get(cb.RedirectURI() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func wait(t *testing.T, cb *Callback) (Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testkit.DefaultTimeout)
	defer cancel()
	return cb.Wait(ctx)
}

func TestCallbackRedirectURI(t *testing.T) {
	cb := listen(t, "localhost", "/cb")
	u, err := url.Parse(cb.RedirectURI())
	if err != nil || u.Scheme != "http" || u.Hostname() != "localhost" || u.Port() == "" || u.Port() == "0" || u.Path != "/cb" {
		t.Fatalf("redirect URI = %q, want http://localhost:<port>/cb", cb.RedirectURI())
	}
	// It answers on 127.0.0.1 whatever the URI calls it.
	resp, err := http.Get("http://127.0.0.1:" + u.Port() + "/cb")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET before Expect: %s, want 400", resp.Status)
	}
}

// TestCallbackState checks that only the expected state ends the wait: a
// stray or forged redirect is refused and ignored, a replay too, and the
// right one delivers code, state and iss.
func TestCallbackState(t *testing.T) {
	cb := listen(t, "127.0.0.1", "/callback")
	if code, _ := redirect(t, cb, url.Values{"code": {"early"}, "state": {""}}); code != http.StatusBadRequest {
		t.Errorf("redirect before Expect: %d, want 400", code)
	}
	cb.Expect("S1")
	if code, _ := redirect(t, cb, url.Values{"code": {"forged"}, "state": {"S0"}}); code != http.StatusBadRequest {
		t.Errorf("wrong state: %d, want 400", code)
	}
	code, page := redirect(t, cb, url.Values{"code": {"C1"}, "state": {"S1"}, "iss": {"https://idp.example"}})
	if code != http.StatusOK || !strings.Contains(page, "Logged in") {
		t.Errorf("good redirect: %d %q, want 200 and the logged-in page", code, page)
	}
	res, err := wait(t, cb)
	if err != nil || res != (Response{Code: "C1", State: "S1", Iss: "https://idp.example"}) {
		t.Fatalf("Wait = %+v, %v", res, err)
	}
	if code, _ := redirect(t, cb, url.Values{"code": {"C2"}, "state": {"S1"}}); code != http.StatusBadRequest {
		t.Errorf("replayed redirect: %d, want 400", code)
	}

	// A second authorization (the go-sdk's step-up) re-arms it.
	cb.Expect("S2")
	if code, _ := redirect(t, cb, url.Values{"code": {"C3"}, "state": {"S2"}}); code != http.StatusOK {
		t.Errorf("second authorization: %d, want 200", code)
	}
	if res, err := wait(t, cb); err != nil || res.Code != "C3" {
		t.Fatalf("second Wait = %+v, %v", res, err)
	}
}

// TestCallbackErrors checks that an error response or an empty one with
// the expected state ends the wait with an error, and that a cancelled
// wait names the redirect URI.
func TestCallbackErrors(t *testing.T) {
	tests := []struct {
		name    string
		query   url.Values
		wantErr string
	}{
		{name: "error response", query: url.Values{"error": {"access_denied"}, "error_description": {"<no>"}, "state": {"S"}}, wantErr: "authorization refused: access_denied <no>"},
		{name: "neither code nor error", query: url.Values{"state": {"S"}}, wantErr: "neither code nor error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cb := listen(t, "127.0.0.1", "/callback")
			cb.Expect("S")
			code, page := redirect(t, cb, tc.query)
			if code != http.StatusBadRequest || !strings.Contains(page, "Login failed") || strings.Contains(page, "<no>") {
				t.Errorf("page: %d %q, want 400 and an escaped failure page", code, page)
			}
			if _, err := wait(t, cb); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Wait err = %v, want %q", err, tc.wantErr)
			}
		})
	}

	t.Run("cancelled", func(t *testing.T) {
		cb := listen(t, "127.0.0.1", "/callback")
		cb.Expect("S")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := cb.Wait(ctx)
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), cb.RedirectURI()) {
			t.Fatalf("Wait err = %v, want context.Canceled naming %s", err, cb.RedirectURI())
		}
	})
}

func TestListenCallbackPortInUse(t *testing.T) {
	cb := listen(t, "127.0.0.1", "/callback")
	u, _ := url.Parse(cb.RedirectURI())
	port, _ := strconv.Atoi(u.Port())
	if _, err := ListenCallback("127.0.0.1", port, "/callback"); err == nil || !strings.Contains(err.Error(), "loopback redirect listener") {
		t.Fatalf("second listener on port %d: err = %v", port, err)
	}
}
