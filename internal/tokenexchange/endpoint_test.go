package tokenexchange_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
	"github.com/mcp-gateway/mcp-gateway/internal/tokenexchange"
)

// TestRedirectNotFollowed: the client's token and the gateway's credentials
// go to the configured token endpoint only, never where it redirects.
func TestRedirectNotFollowed(t *testing.T) {
	var elsewhere atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		answer(200, map[string]any{"access_token": "up", "token_type": "Bearer"})(w, nil)
	}))
	t.Cleanup(target.Close)
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, method := range []string{tokenexchange.AuthClientSecretBasic, tokenexchange.AuthClientSecretPost} {
			t.Run(fmt.Sprintf("%d %s", status, method), func(t *testing.T) {
				te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, target.URL+"/token", status)
				})
				o := options(t, te)
				o.Auth = secretAuth(t, method)
				tok, err := newExchanger(t, o).Exchange(context.Background(), subjectToken)
				if err == nil {
					t.Fatalf("redirect gave token %+v", tok)
				}
				noSecrets(t, err)
				var e *tokenexchange.Error
				if !errors.As(err, &e) || e.Status != status {
					t.Errorf("error %v, want an *Error with status %d", err, status)
				}
				if n := elsewhere.Load(); n != 0 {
					t.Fatalf("the redirect target got %d requests", n)
				}
			})
		}
	}
}

// TestTimeout: a token endpoint that never answers fails the exchange
// after Options.Timeout, with the default client or one without a timeout.
func TestTimeout(t *testing.T) {
	for _, tt := range []struct {
		name   string
		client *http.Client
	}{
		{"default client", nil},
		{"client without a timeout", &http.Client{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			block := make(chan struct{})
			te := newTokenEndpoint(t, func(http.ResponseWriter, *http.Request) { <-block })
			t.Cleanup(func() { close(block) }) // runs before te.Close, which waits for the handler
			o := options(t, te)
			o.Timeout, o.HTTPClient = 50*time.Millisecond, tt.client
			ex := newExchanger(t, o)
			errc := make(chan error, 1)
			go func() {
				_, err := ex.Exchange(context.Background(), subjectToken)
				errc <- err
			}()
			err := testkit.Recv(t, errc, testkit.DefaultTimeout, "the exchange to time out")
			if err == nil {
				t.Fatal("no error")
			}
			noSecrets(t, err)
			var timeout interface{ Timeout() bool }
			if !errors.As(err, &timeout) || !timeout.Timeout() {
				t.Errorf("error %v is not a timeout", err)
			}
			var e *tokenexchange.Error
			if errors.As(err, &e) {
				t.Errorf("a timeout reported as a refusal: %v", e)
			}
		})
	}
}

// TestCallerCancel: the caller's context bounds the exchange too.
func TestCallerCancel(t *testing.T) {
	block := make(chan struct{})
	arrived := make(chan struct{}, 1)
	te := newTokenEndpoint(t, func(http.ResponseWriter, *http.Request) { arrived <- struct{}{}; <-block })
	t.Cleanup(func() { close(block) })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	_, err := newExchanger(t, options(t, te)).Exchange(ctx, subjectToken)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	noSecrets(t, err)
}

func TestUnreachable(t *testing.T) {
	te := newTokenEndpoint(t, nil)
	o := options(t, te)
	te.Close()
	_, err := newExchanger(t, o).Exchange(context.Background(), subjectToken)
	if err == nil {
		t.Fatal("no error")
	}
	noSecrets(t, err)
}

func TestNoSubjectToken(t *testing.T) {
	te := newTokenEndpoint(t, nil)
	if _, err := newExchanger(t, options(t, te)).Exchange(context.Background(), ""); err == nil {
		t.Fatal("no error")
	}
	if n := len(te.requests()); n != 0 {
		t.Errorf("%d requests without a subject token", n)
	}
}

// TestEndpointResolver: the resolver is asked until it succeeds once, then
// never again.
func TestEndpointResolver(t *testing.T) {
	te := newTokenEndpoint(t, nil)
	var calls atomic.Int64
	o := options(t, te)
	o.Endpoint = func(context.Context) (string, error) {
		if calls.Add(1) == 1 {
			return "", errors.New("metadata unavailable")
		}
		return te.tokenURL(), nil
	}
	ex := newExchanger(t, o)
	_, err := ex.Exchange(context.Background(), subjectToken)
	if err == nil || !strings.Contains(err.Error(), "metadata unavailable") {
		t.Fatalf("first exchange: %v", err)
	}
	noSecrets(t, err)
	if n := len(te.requests()); n != 0 {
		t.Fatalf("%d requests without an endpoint", n)
	}
	for i := range 3 {
		if _, err := ex.Exchange(context.Background(), subjectToken); err != nil {
			t.Fatalf("exchange %d: %v", i+2, err)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("resolver called %d times, want 2 (one failure, one success)", n)
	}
	if n := len(te.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestNewRefuses(t *testing.T) {
	te := newTokenEndpoint(t, nil)
	for _, tt := range []struct {
		name string
		set  func(o *tokenexchange.Options)
		want []string // all reported at once
	}{
		{
			name: "nothing",
			set:  func(o *tokenexchange.Options) { *o = tokenexchange.Options{} },
			want: []string{`grant ""`, "no token endpoint", "no client id", "no client authentication"},
		},
		{
			name: "unknown grant",
			set:  func(o *tokenexchange.Options) { o.Grant = "client_credentials" },
			want: []string{`grant "client_credentials"`},
		},
		{
			name: "exchange without audience or resource, client or endpoint",
			set:  func(o *tokenexchange.Options) { o.Audience, o.ClientID, o.Endpoint = "", "", nil },
			want: []string{"audience or a resource", "no client id", "no token endpoint"},
		},
		{
			name: "entra-obo without scopes, with audience and resource",
			set:  func(o *tokenexchange.Options) { o.Grant, o.Resource = tokenexchange.GrantEntraOBO, "https://api/" },
			want: []string{"needs scopes", "not an audience, resource or token types"},
		},
		{
			name: "entra-obo with a resource only",
			set: func(o *tokenexchange.Options) {
				o.Grant, o.Audience, o.Resource, o.Scopes = tokenexchange.GrantEntraOBO, "", "https://api/", []string{"s"}
			},
			want: []string{"not an audience, resource or token types"},
		},
		{
			name: "no client authentication",
			set:  func(o *tokenexchange.Options) { o.Auth = tokenexchange.ClientAuth{} },
			want: []string{"no client authentication"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := options(t, te)
			tt.set(&o)
			ex, err := tokenexchange.New(o)
			if err == nil {
				t.Fatalf("New accepted %+v", o)
			}
			if ex != nil {
				t.Error("an Exchanger with an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != len(tt.want) {
				t.Errorf("%d errors reported, want %d: %q", n, len(tt.want), err)
			}
			noSecrets(t, err)
		})
	}
	for _, tt := range []struct {
		name string
		set  func(o *tokenexchange.Options)
	}{
		{"exchange with an audience", func(*tokenexchange.Options) {}},
		{"exchange with a resource", func(o *tokenexchange.Options) { o.Audience, o.Resource = "", "https://api/" }},
		{"entra-obo", func(o *tokenexchange.Options) {
			o.Grant, o.Audience, o.Scopes = tokenexchange.GrantEntraOBO, "", []string{"api://x/.default"}
		}},
	} {
		o := options(t, te)
		tt.set(&o)
		if _, err := tokenexchange.New(o); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if n := len(te.requests()); n != 0 {
		t.Errorf("New made %d requests", n)
	}
}
