package audit_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-gateway/mcp-gateway/internal/observe"
	"github.com/mcp-gateway/mcp-gateway/internal/observe/audit"
)

func toolCall(id string) *observe.Event {
	return &observe.Event{Time: arrived, RequestID: id, Route: "/mcp", HTTPMethod: "POST",
		Operation: observe.Operation{Method: "tools/call", Name: "search"}, Decision: observe.DecisionAllow, Status: 200}
}

// readLines returns the request ids of the audit lines in path, failing
// on any line that is not one JSON object.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l struct {
			Msg       string `json:"msg"`
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Msg != audit.Message {
			t.Fatalf("not an audit line (%v): %q", err, sc.Text())
		}
		ids = append(ids, l.RequestID)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestOpenFile: a path is created with mode 0600, appended to (what was
// there stays; a second Open appends after it), and closed by the closer.
func TestOpenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, c, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if c == nil {
		t.Fatal("no closer for a file")
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	l.Observe(context.Background(), toolCall("first"))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	l, c, err = audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l.Observe(context.Background(), toolCall("second"))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(readLines(t, path), ","); got != "first,second" {
		t.Fatalf("lines %s, want first,second", got)
	}
}

// TestOpenDestinations: stderr (and empty) write to standard error with no
// closer; off is no logger at all.
func TestOpenDestinations(t *testing.T) {
	for _, dest := range []string{"", audit.Stderr} {
		l, c, err := audit.Open(dest)
		if err != nil || l == nil || c != nil {
			t.Errorf("Open(%q) = %v, %v, %v; want a logger, no closer", dest, l, c, err)
		}
	}
	l, c, err := audit.Open(audit.Off)
	if err != nil || l != nil || c != nil {
		t.Errorf("Open(off) = %v, %v, %v; want nothing", l, c, err)
	}
}

// TestOpenFailsNamingThePath: a file that cannot be opened (a missing
// directory, a directory) is an error that names the path.
func TestOpenFailsNamingThePath(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "missing", "audit.log"), dir} {
		_, _, err := audit.Open(path)
		if err == nil || !strings.Contains(err.Error(), `"`+path+`"`) {
			t.Errorf("Open(%s) = %v, want an error naming the path", path, err)
		}
		if strings.Count(err.Error(), path) != 1 {
			t.Errorf("the path is named more than once: %v", err)
		}
	}
	_, _, err := audit.Open(filepath.Join(dir, "missing", "audit.log"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
}

// TestFileLinesWholeUnderConcurrency: goroutines auditing into one file,
// through two loggers on the same path as two replicas sharing a volume
// would, leave every line whole (O_APPEND, one write per line).
func TestFileLinesWholeUnderConcurrency(t *testing.T) {
	const goroutines, each = 16, 100
	path := filepath.Join(t.TempDir(), "audit.log")
	var loggers []*audit.Logger
	for range 2 {
		l, c, err := audit.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		loggers = append(loggers, l)
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				loggers[g%2].Observe(context.Background(), toolCall(strings.Repeat("x", 2000)))
			}
		})
	}
	wg.Wait()
	if n := len(readLines(t, path)); n != goroutines*each {
		t.Fatalf("%d lines, want %d", n, goroutines*each)
	}
}
