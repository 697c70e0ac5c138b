package observe_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
)

// failingFlusher is a connection's writer whose client is gone.
type failingFlusher struct{ *httptest.ResponseRecorder }

var errGone = errors.New("client gone")

func (failingFlusher) FlushError() error { return errGone }

// TestHandlerFlushError: a flush through the record's writer reports the
// connection's error (a stream then stops writing to a client that left).
func TestHandlerFlushError(t *testing.T) {
	var got error
	h := observe.NewHub().Handler("/mcp", nil, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		got = http.NewResponseController(w).Flush()
	}))
	h.ServeHTTP(failingFlusher{httptest.NewRecorder()}, httptest.NewRequest(http.MethodGet, "/mcp", nil))
	if !errors.Is(got, errGone) {
		t.Fatalf("Flush returned %v, want the connection's error", got)
	}
}
