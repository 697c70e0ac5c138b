package dcrtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
)

// Errors FakeApps returns, named after the Cognito exceptions they imitate.
var (
	ErrNoSuchClient  = errors.New("dcrtest: ResourceNotFoundException: no such app client")
	ErrLimitExceeded = errors.New("dcrtest: LimitExceededException: app client quota reached")
	ErrInvalidParam  = errors.New("dcrtest: InvalidParameterException")
)

// cognitoName is CreateUserPoolClient's ClientName pattern (Go's \w and \s
// are ASCII, the conservative reading).
var cognitoName = regexp.MustCompile(`^[\w\s+=,.@-]{1,128}$`)

// AppClient is one fake Cognito app client.
type AppClient struct {
	ID     string
	Secret string
	Spec   dcr.AppClientSpec
}

// FakeApps is an in-memory dcr.AppClients that enforces Cognito's input
// rules for the fields in AppClientSpec (name pattern, at most 100 callback
// URLs of at most 1024 characters without fragments, https or loopback http,
// at least one scope, flows "code" with callbacks or "client_credentials"
// alone with a secret), an optional quota, and failure injection.
type FakeApps struct {
	faults
	mu      sync.Mutex
	clients map[string]AppClient
	quota   int
}

var _ dcr.AppClients = (*FakeApps)(nil)

// NewFakeApps returns a fake with Cognito's default quota of 1,000 clients.
func NewFakeApps() *FakeApps {
	return &FakeApps{clients: map[string]AppClient{}, quota: 1000}
}

// SetQuota sets how many app clients may exist (LimitExceeded beyond).
func (f *FakeApps) SetQuota(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.quota = n
}

// FailNextCreate makes the next Create return err.
func (f *FakeApps) FailNextCreate(err error) { f.FailNext(OpCreate, err) }

// Client returns a copy of the app client with id.
func (f *FakeApps) Client(id string) (AppClient, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.clients[id]
	c.Spec = cloneSpec(c.Spec)
	return c, ok
}

// IDs lists the existing app client ids, sorted.
func (f *FakeApps) IDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, 0, len(f.clients))
	for id := range f.clients {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Len returns how many app clients exist.
func (f *FakeApps) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.clients)
}

// Create implements dcr.AppClients.
func (f *FakeApps) Create(ctx context.Context, spec dcr.AppClientSpec) (string, string, error) {
	if err := f.begin(ctx, OpCreate); err != nil {
		return "", "", err
	}
	if err := checkSpec(spec); err != nil {
		return "", "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.clients) >= f.quota {
		return "", "", ErrLimitExceeded
	}
	c := AppClient{ID: randomLower(26), Spec: cloneSpec(spec)}
	if spec.GenerateSecret {
		c.Secret = randomLower(51)
	}
	f.clients[c.ID] = c
	return c.ID, c.Secret, nil
}

// Update implements dcr.AppClients (GenerateSecret cannot change, as in
// Cognito).
func (f *FakeApps) Update(ctx context.Context, clientID string, spec dcr.AppClientSpec) error {
	if err := f.begin(ctx, OpUpdate); err != nil {
		return err
	}
	if err := checkSpec(spec); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.clients[clientID]
	if !ok {
		return ErrNoSuchClient
	}
	if spec.GenerateSecret != (c.Secret != "") {
		return fmt.Errorf("%w: a client secret cannot be added or removed", ErrInvalidParam)
	}
	c.Spec = cloneSpec(spec)
	f.clients[clientID] = c
	return nil
}

// Delete implements dcr.AppClients; a missing client is not an error.
func (f *FakeApps) Delete(ctx context.Context, clientID string) error {
	if err := f.begin(ctx, OpDelete); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.clients, clientID)
	return nil
}

// Secret implements dcr.AppClients ("" for a public client).
func (f *FakeApps) Secret(ctx context.Context, clientID string) (string, error) {
	if err := f.begin(ctx, OpSecret); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.clients[clientID]
	if !ok {
		return "", ErrNoSuchClient
	}
	return c.Secret, nil
}

func (f *FakeApps) begin(ctx context.Context, op Op) error {
	if err := f.enter(op); err != nil {
		return err
	}
	return ctx.Err()
}

// checkSpec applies Cognito's CreateUserPoolClient input rules.
func checkSpec(s dcr.AppClientSpec) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidParam}, a...)...)
	}
	if !cognitoName.MatchString(s.Name) {
		return bad("ClientName %q does not match [\\w\\s+=,.@-]{1,128}", s.Name)
	}
	if len(s.CallbackURLs) > 100 {
		return bad("at most 100 CallbackURLs")
	}
	for _, u := range s.CallbackURLs {
		p, err := url.Parse(u)
		if err != nil || u == "" || len(u) > 1024 || strings.Contains(u, "#") || p.Scheme == "" ||
			(p.Scheme == "http" && !slices.Contains([]string{"localhost", "127.0.0.1", "::1"}, p.Hostname())) {
			return bad("CallbackURL %q", u)
		}
	}
	if len(s.Scopes) == 0 {
		return bad("AllowedOAuthScopes is empty")
	}
	switch {
	case slices.Equal(s.Flows, []string{"code"}):
		if len(s.CallbackURLs) == 0 {
			return bad("the code flow needs CallbackURLs")
		}
	case slices.Equal(s.Flows, []string{"client_credentials"}):
		if !s.GenerateSecret {
			return bad("client_credentials needs a client secret")
		}
	default:
		return bad("AllowedOAuthFlows %v", s.Flows)
	}
	return nil
}

func cloneSpec(s dcr.AppClientSpec) dcr.AppClientSpec {
	s.CallbackURLs = slices.Clone(s.CallbackURLs)
	s.Scopes = slices.Clone(s.Scopes)
	s.Flows = slices.Clone(s.Flows)
	return s
}

// randomLower returns n random characters from [a-z0-9], like Cognito ids.
func randomLower(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
