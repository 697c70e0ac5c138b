package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// maxPeek bounds how much of a response body the step log reads to
// summarize it; the rest is passed on unread.
const maxPeek = 1 << 20

// safeQuery are query parameters whose values are printed; every other
// value is replaced by "…" (codes, states, verifiers and tokens never
// appear in the log).
var safeQuery = []string{"resource", "scope", "response_type", "code_challenge_method", "client_id", "redirect_uri", "error", "error_description", "iss"}

// stepLog numbers and prints every step of the run on one writer (stderr):
// each HTTP exchange the go-sdk, the OAuth library or this program makes
// (method, URL with secrets elided, status, and a summary of what the
// answer means), and the program's own steps (authorization, callback,
// refresh). It never prints an Authorization header, a token, a code, a
// client secret or a request body.
type stepLog struct {
	mu     sync.Mutex
	w      io.Writer
	n      int
	mcpURL string // requests to it are MCP: their JSON-RPC method is shown
}

func newStepLog(w io.Writer, mcpURL string) *stepLog { return &stepLog{w: w, mcpURL: mcpURL} }

// step prints "step N: <message>" and returns N.
func (s *stepLog) step(format string, args ...any) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	fmt.Fprintf(s.w, "step %d: %s\n", s.n, fmt.Sprintf(format, args...))
	return s.n
}

// detail prints an indented line that belongs to the last step.
func (s *stepLog) detail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, "        %s\n", fmt.Sprintf(format, args...))
}

// line prints a line as is (for the "open: <url>" line tests and users look for).
func (s *stepLog) line(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format+"\n", args...)
}

// transport wraps base so that every exchange becomes a step.
func (s *stepLog) transport(base http.RoundTripper) http.RoundTripper {
	return &loggingTransport{log: s, base: base}
}

// loggingTransport is the http.RoundTripper behind stepLog.transport.
type loggingTransport struct {
	log  *stepLog
	base http.RoundTripper
}

var _ http.RoundTripper = (*loggingTransport)(nil)

// RoundTrip sends r through the base transport and logs the exchange.
func (t *loggingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	label := r.Method + " " + redactURL(r.URL)
	isMCP := t.log.mcpURL != "" && sameEndpoint(r.URL, t.log.mcpURL)
	if isMCP {
		if m := jsonRPCMethod(r); m != "" {
			label += " [" + m + "]"
		}
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		t.log.step("%s -> error: %v", label, err)
		return nil, err
	}
	t.log.step("%s -> %s", label, resp.Status)
	for _, c := range resp.Header.Values("WWW-Authenticate") {
		t.log.detail("WWW-Authenticate: %s", c)
	}
	if _, pw, ok := r.BasicAuth(); ok && pw == "" && resp.StatusCode == http.StatusUnauthorized {
		t.log.detail("note: HTTP Basic with an empty secret was refused; golang.org/x/oauth2 auto-detects the client authentication style (the go-sdk leaves it so for CIMD clients) and retries with client_id in the body")
	}
	if isMCP || !isJSON(resp.Header.Get("Content-Type")) || r.Method == http.MethodHead {
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPeek))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the response: %w", label, err)
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
	for _, d := range summarize(r, body, t.log.mcpURL) {
		t.log.detail("%s", d)
	}
	return resp, nil
}

// summarize explains a JSON answer in a few lines: what the metadata
// documents say (and what the go-sdk will make of it), who registered, what
// a token response granted (never the tokens), or an OAuth error.
func summarize(r *http.Request, body []byte, mcpURL string) []string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	has := func(k string) bool { _, ok := m[k]; return ok }
	switch {
	case has("error") && !has("access_token"):
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &e)
		return []string{fmt.Sprintf("OAuth error: %s %s", e.Error, e.Description)}
	case has("access_token"):
		var tr struct {
			TokenType    string `json:"token_type"`
			ExpiresIn    any    `json:"expires_in"`
			Scope        string `json:"scope"`
			RefreshToken string `json:"refresh_token"`
			IDToken      string `json:"id_token"`
		}
		_ = json.Unmarshal(body, &tr)
		return []string{fmt.Sprintf("token response: token_type=%s expires_in=%v scope=%q refresh_token=%s id_token=%s",
			tr.TokenType, tr.ExpiresIn, tr.Scope, yesNo(tr.RefreshToken != ""), yesNo(tr.IDToken != ""))}
	case has("authorization_servers") || (has("resource") && strings.Contains(r.URL.Path, "oauth-protected-resource")):
		return summarizePRM(r, body, mcpURL)
	case has("issuer") && has("authorization_endpoint"):
		return summarizeASMetadata(body)
	case has("client_id") && r.Method == http.MethodPost:
		var ci oauthmeta.ClientInformation
		_ = json.Unmarshal(body, &ci)
		return []string{fmt.Sprintf("registered (RFC 7591): client_id=%s token_endpoint_auth_method=%s grant_types=%v client_secret=%s",
			ci.ClientID, ci.TokenEndpointAuthMethod, ci.GrantTypes, yesNo(ci.ClientSecret != ""))}
	case has("client_id") && has("redirect_uris"):
		var doc clientMetadataDocument
		_ = json.Unmarshal(body, &doc)
		return []string{fmt.Sprintf("client metadata document: client_id=%s redirect_uris=%v token_endpoint_auth_method=%s",
			doc.ClientID, doc.RedirectURIs, doc.TokenEndpointAuthMethod)}
	}
	return nil
}

// summarizePRM describes RFC 9728 metadata and warns about what makes the
// go-sdk skip it.
func summarizePRM(r *http.Request, body []byte, mcpURL string) []string {
	var prm oauthmeta.ProtectedResourceMetadata
	_ = json.Unmarshal(body, &prm)
	out := []string{fmt.Sprintf("protected resource metadata (RFC 9728): resource=%s authorization_servers=%v scopes_supported=%v",
		prm.Resource, prm.AuthorizationServers, prm.ScopesSupported)}
	if want, err := oauthmeta.ProtectedResourceMetadataURL(mcpURL); err == nil && sameEndpoint(r.URL, want) && prm.Resource != mcpURL {
		out = append(out, fmt.Sprintf("WARNING: resource %q is not the MCP URL %q: the go-sdk requires the same string (RFC 9728 §3.3) and ignores this document", prm.Resource, mcpURL))
	}
	if len(prm.AuthorizationServers) == 0 {
		out = append(out, "WARNING: no authorization_servers: the client cannot know where to log in")
	} else if len(prm.AuthorizationServers) > 1 {
		out = append(out, "note: the go-sdk uses only the first authorization server")
	}
	return out
}

// summarizeASMetadata describes RFC 8414 / OIDC discovery metadata and
// warns about what the go-sdk refuses.
func summarizeASMetadata(body []byte) []string {
	var md oauthmeta.AuthorizationServerMetadata
	_ = json.Unmarshal(body, &md)
	out := []string{
		fmt.Sprintf("authorization server metadata: issuer=%s", md.Issuer),
		fmt.Sprintf("  authorization_endpoint=%s token_endpoint=%s registration_endpoint=%s", md.AuthorizationEndpoint, md.TokenEndpoint, orNone(md.RegistrationEndpoint)),
		fmt.Sprintf("  code_challenge_methods_supported=%v client_id_metadata_document_supported=%t authorization_response_iss_parameter_supported=%t",
			md.CodeChallengeMethodsSupported, md.ClientIDMetadataDocumentSupported, md.AuthorizationResponseIssParameter),
	}
	if !slices.Contains(md.CodeChallengeMethodsSupported, "S256") {
		out = append(out, "WARNING: S256 is not in code_challenge_methods_supported: MCP clients refuse this server (Cognito's discovery lacks it: put mcp-dcr in front)")
	}
	if md.RegistrationEndpoint == "" && !md.ClientIDMetadataDocumentSupported {
		out = append(out, "WARNING: neither DCR (registration_endpoint) nor CIMD: use a pre-registered client (examples/static-client)")
	}
	return out
}

// clientMetadataDocument is a Client ID Metadata Document: RFC 7591 client
// metadata plus its own client_id (draft-ietf-oauth-client-id-metadata-document §3).
type clientMetadataDocument struct {
	ClientID string `json:"client_id"`
	oauthmeta.ClientMetadata
}

// redactURL prints u without userinfo and with the values of query
// parameters outside safeQuery replaced by "…".
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.Fragment = ""
	if c.RawQuery != "" {
		q := c.Query()
		for k, vs := range q {
			if !slices.Contains(safeQuery, k) {
				for i := range vs {
					vs[i] = "…"
				}
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// sameEndpoint reports whether u names raw, ignoring the query.
func sameEndpoint(u *url.URL, raw string) bool {
	v, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Scheme, v.Scheme) && strings.EqualFold(u.Host, v.Host) &&
		strings.TrimSuffix(u.Path, "/") == strings.TrimSuffix(v.Path, "/")
}

// jsonRPCMethod returns the JSON-RPC method of an MCP POST without
// consuming the request body (the go-sdk sets GetBody).
func jsonRPCMethod(r *http.Request) string {
	if m := r.Header.Get("Mcp-Method"); m != "" {
		return m
	}
	if r.GetBody == nil || r.Method != http.MethodPost {
		return ""
	}
	rc, err := r.GetBody()
	if err != nil {
		return ""
	}
	defer rc.Close()
	var msg struct {
		Method string `json:"method"`
	}
	if json.NewDecoder(io.LimitReader(rc, 64<<10)).Decode(&msg) != nil {
		return ""
	}
	return msg.Method
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
