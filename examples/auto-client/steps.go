package main

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/examples/internal/oauthcli"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// maxPeek bounds how much of a response body the step log reads to
// summarize it; the rest is passed on unread.
const maxPeek = 1 << 20

// newTransport returns the step-logging transport over base: an MCP
// request (to mcpURL) is labelled with its JSON-RPC method, and a JSON
// answer from anything else is summarized (what the metadata documents
// say and what the go-sdk will make of it, who registered, what a token
// response granted, an OAuth error). Like every oauthcli.Transport it never
// prints an Authorization header, a token, a code, a client secret or a
// request body.
func newTransport(steps *oauthcli.Steps, mcpURL string, base http.RoundTripper) *oauthcli.Transport {
	isMCP := func(r *http.Request) bool { return mcpURL != "" && sameEndpoint(r.URL, mcpURL) }
	return &oauthcli.Transport{
		Steps: steps,
		Base:  base,
		Annotate: func(r *http.Request) string {
			if isMCP(r) {
				if m := jsonRPCMethod(r); m != "" {
					return " [" + m + "]"
				}
			}
			return ""
		},
		Explain: func(r *http.Request, resp *http.Response) ([]string, error) {
			var out []string
			if _, pw, ok := r.BasicAuth(); ok && pw == "" && resp.StatusCode == http.StatusUnauthorized {
				out = append(out, "note: HTTP Basic with an empty secret was refused; golang.org/x/oauth2 auto-detects the client authentication style (the go-sdk leaves it so for CIMD clients) and retries with client_id in the body")
			}
			if isMCP(r) || !isJSON(resp.Header.Get("Content-Type")) || r.Method == http.MethodHead {
				return out, nil
			}
			body, err := oauthcli.PeekBody(resp, maxPeek)
			if err != nil {
				return out, err
			}
			return append(out, summarize(r, body, mcpURL)...), nil
		},
	}
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
		if e := oauthcli.OAuthError(body); e != "" {
			return []string{e}
		}
		return nil
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
		fmt.Sprintf("  authorization_endpoint=%s token_endpoint=%s registration_endpoint=%s", md.AuthorizationEndpoint, md.TokenEndpoint, oauthcli.OrNone(md.RegistrationEndpoint)),
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
