package stdio

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// modeEnv selects what the re-executed test binary does: "server" runs the
// test MCP server on stdin/stdout; "startcrash" exits at once; "mute"
// logs each stdin line on stderr and never answers.
const modeEnv = "STDIO_TEST_MODE"

// TestMain lets the test binary double as a real stdio MCP server, so the
// tests need nothing but Go.
func TestMain(m *testing.M) {
	switch os.Getenv(modeEnv) {
	case "server":
		runTestServer()
		os.Exit(0)
	case "startcrash":
		fmt.Fprintln(os.Stderr, "test server failing at start")
		os.Exit(3)
	case "mute":
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			fmt.Fprintf(os.Stderr, "mute server read: %s\n", sc.Text())
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type echoArgs struct {
	Message string `json:"message"`
}

// progressArgs: with Hold, the tool waits after its first notification
// until the session's "release" tool is called (or the call is cancelled).
type progressArgs struct {
	Steps int  `json:"steps"`
	Hold  bool `json:"hold,omitempty"`
}

type getenvArgs struct {
	Name string `json:"name"`
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// runTestServer is a go-sdk MCP server over stdio with the tools the tests
// use. It reads stdin as the stdio transport's clients must write it, one
// message per line (see strictLines). With STDIO_TEST_IGNORE_TERM set it
// ignores SIGTERM and stays alive after stdin closes, so only SIGKILL ends
// it.
func runTestServer() {
	fmt.Fprintf(os.Stderr, "test server starting pid=%d\n", os.Getpid())
	stubborn := os.Getenv("STDIO_TEST_IGNORE_TERM") != ""
	if stubborn {
		signal.Ignore(syscall.SIGTERM)
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: "stdio-test", Version: "1.0.0"}, nil)
	released := make(chan struct{})
	var release sync.Once
	mcp.AddTool(srv, &mcp.Tool{Name: "echo", Description: "echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in echoArgs) (*mcp.CallToolResult, any, error) {
		return text(in.Message), nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "slow", Description: "never answers; ends when cancelled"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		fmt.Fprintln(os.Stderr, "slow tool started")
		<-ctx.Done() // notifications/cancelled, or the process ends
		fmt.Fprintln(os.Stderr, "slow tool cancelled")
		return nil, nil, ctx.Err()
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "crash", Description: "exits"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		fmt.Fprintln(os.Stderr, "test server crashing")
		os.Exit(7)
		return nil, nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "progress", Description: "reports progress"}, func(ctx context.Context, req *mcp.CallToolRequest, in progressArgs) (*mcp.CallToolResult, any, error) {
		tok := req.Params.GetProgressToken()
		for i := 1; i <= in.Steps; i++ {
			if tok != nil {
				if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: float64(i), Total: float64(in.Steps)}); err != nil {
					return nil, nil, err
				}
			}
			if i == 1 && in.Hold {
				select {
				case <-released:
				case <-ctx.Done():
					return nil, nil, ctx.Err()
				}
			}
		}
		return text("progress done"), nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "release", Description: "lets held progress calls go on"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		release.Do(func() { close(released) })
		return text("released"), nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "whoenv", Description: "MCP_GATEWAY_SUBJECT"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return text(os.Getenv("MCP_GATEWAY_SUBJECT")), nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "getenv", Description: "one variable"}, func(_ context.Context, _ *mcp.CallToolRequest, in getenvArgs) (*mcp.CallToolResult, any, error) {
		v, ok := os.LookupEnv(in.Name)
		if !ok {
			v = "<unset>"
		}
		return text(v), nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "pid", Description: "process id"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return text(strconv.Itoa(os.Getpid())), nil, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "roots", Description: "asks the client for its roots"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		res, err := req.Session.ListRoots(ctx, nil)
		if err != nil {
			return nil, nil, err
		}
		return text(strconv.Itoa(len(res.Roots))), nil, nil
	})
	srv.AddResource(&mcp.Resource{URI: "test://hello", Name: "hello", MIMEType: "text/plain"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "text/plain", Text: "hello, world"}}}, nil
		})
	err := srv.Run(context.Background(), &mcp.IOTransport{Reader: &strictLines{br: bufio.NewReader(os.Stdin), c: os.Stdin}, Writer: os.Stdout})
	fmt.Fprintf(os.Stderr, "test server stdin closed: %v\n", err)
	if stubborn {
		select {}
	}
}

// strictLines is the test server's stdin: it exits (status 9, after a
// stderr line) on a line that is not one whole JSON message, which the
// go-sdk's own decoder would tolerate but line-based servers (the
// TypeScript SDK's) do not: "Messages are delimited by newlines, and MUST
// NOT contain embedded newlines" (MCP 2025-11-25, "Transports §stdio").
type strictLines struct {
	br  *bufio.Reader
	c   io.Closer
	buf []byte
}

func (s *strictLines) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		line, err := s.br.ReadBytes('\n')
		if len(line) > 0 && err == nil {
			if !json.Valid(bytes.TrimSpace(line)) {
				fmt.Fprintf(os.Stderr, "stdin line is not one JSON message: %q\n", line)
				os.Exit(9)
			}
			s.buf = line
		}
		if err != nil {
			return 0, err
		}
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

func (s *strictLines) Close() error { return s.c.Close() }
