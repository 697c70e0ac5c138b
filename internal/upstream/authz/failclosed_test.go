package authz_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/upstream/authz"
	"github.com/mcp-gateway/mcp-gateway/pkg/bearer"
)

// TestStreamEndsOnUnauthorizableEvent: once an event stream's headers are
// sent, an event that cannot be authorized (here: not JSON, then a
// response to no request of the POST) is replaced by an error event for
// each unanswered request, and the stream ends: the upstream's context is
// cancelled even though it would keep the stream open. A GET stream just
// ends.
func TestStreamEndsOnUnauthorizableEvent(t *testing.T) {
	noLeak(t)
	const progress = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":0.5}}\n\n"
	ended := make(chan struct{}, 3)
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { ended <- struct{}{} }()
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, progress)
		switch r.Header.Get("X-Mode") {
		case "unparsable":
			io.WriteString(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"tools\":[{\"name\":\"admin.reset\"}]\n\n")
		case "unsolicited":
			io.WriteString(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":8,\"result\":{\"tools\":[{\"name\":\"admin.reset\"}]}}\n\n")
		}
		<-r.Context().Done() // an upstream that would never end the stream
	})
	srv := serve(t, up, authz.Options{})
	errEvent := "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32603,\"message\":\"upstream response could not be authorized\"}}\n\n"
	for _, mode := range []string{"unparsable", "unsolicited"} {
		resp, body := do(t, srv, http.MethodPost, "mcp", rpc(7, "tools/list", ""), "X-Mode: "+mode)
		if resp.StatusCode != 200 || body != progress+errEvent {
			t.Errorf("%s: %d %q", mode, resp.StatusCode, body)
		}
		testkit.Recv(t, ended, testkit.DefaultTimeout, "the upstream handler to see its context cancelled")
	}
	resp, body := do(t, srv, http.MethodGet, "mcp", "", "X-Mode: unparsable", "Last-Event-ID: 1")
	if resp.StatusCode != 200 || body != progress {
		t.Errorf("GET: %d %q", resp.StatusCode, body)
	}
	testkit.Recv(t, ended, testkit.DefaultTimeout, "the GET handler to see its context cancelled")
}

// TestWithoutCallRead: a POST that did not pass call.Read has no parsed
// body; authz fails closed with 500 instead of reading the body itself.
func TestWithoutCallRead(t *testing.T) {
	m, err := authz.New(testPolicy, authz.Options{Deny: deny})
	if err != nil {
		t.Fatal(err)
	}
	reached := false
	h := m.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(rpc(1, "tools/call", `{"name":"echo"}`)))
	r = r.WithContext(bearer.WithToken(r.Context(), mustVerify(t, "mcp")))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusInternalServerError || reached || !strings.Contains(w.Body.String(), `"code":-32603`) {
		t.Errorf("%d %q (reached %v)", w.Code, w.Body.String(), reached)
	}
}

// TestResourceSpellingsHTTP: spellings the upstream treats as a restricted
// resource are refused on read and filtered out of lists (see
// TestResourceSpellings for the whole table).
func TestResourceSpellingsHTTP(t *testing.T) {
	noLeak(t)
	spellings := []string{"FILE:///secret/b", "file:///%73ecret/b", "file://localhost/secret/b", "file:/secret/b", "file:///public\\..\\secret\\b"}
	var entries []string
	for _, s := range spellings {
		entries = append(entries, fmt.Sprintf(`{"uri":%q}`, s))
	}
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":1,"result":{"resources":[{"uri":"file:///public/a"},%s]}}`, strings.Join(entries, ","))
	})
	srv := serve(t, up, authz.Options{})
	for _, s := range spellings {
		resp, body := do(t, srv, http.MethodPost, "mcp", rpc(1, "resources/read", fmt.Sprintf(`{"uri":%q}`, s)))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("read %q: %d %s", s, resp.StatusCode, body)
		}
	}
	resp, body := do(t, srv, http.MethodPost, "mcp", rpc(1, "resources/list", ""))
	if want := `{"id":1,"jsonrpc":"2.0","result":{"resources":[{"uri":"file:///public/a"}]}}`; resp.StatusCode != 200 || body != want {
		t.Errorf("list: %d %s", resp.StatusCode, body)
	}
}
