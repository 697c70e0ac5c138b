package oauthcli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// Exit statuses shared by the examples (their READMEs document them).
const (
	ExitOK     = 0 // success, or --help
	ExitFailed = 1 // a step failed
	ExitUsage  = 2 // bad flags
)

// UsageStatus returns the exit status for an error from parsing flags:
// ExitOK for flag.ErrHelp (the usage was printed), else ExitUsage after
// printing "<name>: <err>" on stderr.
func UsageStatus(name string, stderr io.Writer, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return ExitUsage
}

// Run calls fn with a context that SIGINT, SIGTERM or timeout cancels and
// returns ExitOK when fn succeeds. When it fails, Run prints
// "<name>: FAILED: <err>" on stderr and, when hint (may be nil) knows the
// error, "<name>: hint: <hint>", and returns ExitFailed.
func Run(name string, stderr io.Writer, timeout time.Duration, hint func(error) string, fn func(context.Context) error) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := fn(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(stderr, "%s: FAILED: %v\n", name, err)
	if hint != nil {
		if h := hint(err); h != "" {
			fmt.Fprintf(stderr, "%s: hint: %s\n", name, h)
		}
	}
	return ExitFailed
}

// Flags are the flags the example clients share: --url, --tool, --args,
// --scopes, --no-browser, --redirect-port and --timeout. Define them with
// FlagSet, and after Parse read --args, --scopes and --redirect-port with
// Check.
type Flags struct {
	URL          string         // --url: the MCP URL
	Tool         string         // --tool: "" lists the tools only
	Args         map[string]any // --args, after Check
	Scopes       []string       // --scopes, after Check
	NoBrowser    bool           // --no-browser: print "open: <url>" only
	RedirectPort int            // --redirect-port: 0 is any free port
	Timeout      time.Duration  // --timeout: for the whole run

	args, scopes string // as given
}

// FlagHelp is what differs between the examples' shared flags: the help
// of --url, --scopes and --redirect-port, and the default port.
type FlagHelp struct {
	URL, Scopes, RedirectPort string
	DefaultPort               int
}

// FlagSet returns a flag set named name, printing its usage and errors on
// stderr and returning them from Parse (flag.ContinueOnError), with the
// shared flags defined on it.
func (f *Flags) FlagSet(name string, stderr io.Writer, h FlagHelp) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.URL, "url", "", h.URL)
	fs.StringVar(&f.Tool, "tool", "", "tool to call after tools/list (none: print the tool list)")
	fs.StringVar(&f.args, "args", "{}", "tool arguments, a JSON object")
	fs.StringVar(&f.scopes, "scopes", "", h.Scopes)
	fs.BoolVar(&f.NoBrowser, "no-browser", false, "do not start a browser: print the URL as \"open: <url>\" and wait for the redirect")
	fs.IntVar(&f.RedirectPort, "redirect-port", h.DefaultPort, h.RedirectPort)
	fs.DurationVar(&f.Timeout, "timeout", 5*time.Minute, "give up after this long")
	return fs
}

// Parse parses argv with fs and refuses positional arguments.
func Parse(fs *flag.FlagSet, argv []string) error {
	if err := fs.Parse(argv); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return nil
}

// Check reads --args (a JSON object), --scopes (a space- or
// comma-separated list of scope-tokens, RFC 6749 §3.3) and checks
// --redirect-port (0 to 65535). NOT checked: that --url is set (each
// example says what it requires), the tool's input schema, whether the
// authorization server knows the scopes.
func (f *Flags) Check() error {
	var err error
	if f.Args, err = parseArgs(f.args); err != nil {
		return err
	}
	if f.Scopes, err = parseScopes(f.scopes); err != nil {
		return err
	}
	if f.RedirectPort < 0 || f.RedirectPort > 65535 {
		return fmt.Errorf("--redirect-port %d: out of range", f.RedirectPort)
	}
	return nil
}

// parseArgs reads tool arguments as a JSON object; null, arrays and
// scalars are refused.
func parseArgs(s string) (map[string]any, error) {
	var args map[string]any
	if err := json.Unmarshal([]byte(s), &args); err != nil || args == nil {
		return nil, fmt.Errorf("--args %q: want a JSON object", s)
	}
	return args, nil
}

// parseScopes splits a space- or comma-separated list whose items must
// each be a scope-token (RFC 6749 §3.3). Empty gives nil.
func parseScopes(s string) ([]string, error) {
	scopes := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	for _, sc := range scopes {
		if !oauthmeta.ValidScopeToken(sc) {
			return nil, fmt.Errorf("--scopes: %q is not a valid scope (RFC 6749 §3.3)", sc)
		}
	}
	return scopes, nil
}
