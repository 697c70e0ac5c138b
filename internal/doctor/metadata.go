package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// doc is one fetched metadata document.
type doc struct {
	url  string
	meta *oauthmeta.AuthorizationServerMetadata // nil when not found or invalid
	par  string                                 // pushed_authorization_request_endpoint (RFC 9126 §5)
	err  error
}

// asProbe is what one authorization server publishes.
type asProbe struct {
	id        string
	rfc8414   doc
	oidc      doc
	discovery *doc // only when discovery_url applies to this server
	// meta is the document used for the checks: RFC 8414 first, as MCP
	// clients read it first, then OpenID, then discovery_url; par is its
	// pushed authorization request endpoint.
	meta *oauthmeta.AuthorizationServerMetadata
	par  string
}

func (p *asProbe) found() bool { return p.meta != nil }

// wellKnownOnly reports whether clients, which only know the identifier,
// can find a document.
func (p *asProbe) wellKnownOnly() bool { return p.rfc8414.meta != nil || p.oidc.meta != nil }

func fetchDoc(ctx context.Context, f *fetcher, url string) doc {
	d := doc{url: url}
	body, err := f.get(ctx, url)
	if err != nil {
		d.err = err
		return d
	}
	var m oauthmeta.AuthorizationServerMetadata
	if err := json.Unmarshal(body, &m); err != nil {
		d.err = fmt.Errorf("not a JSON metadata document: %w", err)
		return d
	}
	var extra struct {
		PAR string `json:"pushed_authorization_request_endpoint"`
	}
	_ = json.Unmarshal(body, &extra)
	d.meta, d.par = &m, extra.PAR
	return d
}

// probeAS fetches the RFC 8414 path-inserted document, the OpenID
// configuration and, when set, discoveryURL.
func probeAS(ctx context.Context, f *fetcher, id, discoveryURL string) *asProbe {
	p := &asProbe{id: id}
	oidcURL := strings.TrimSuffix(id, "/") + "/.well-known/openid-configuration"
	rfcURL, err := oauthmeta.AuthorizationServerMetadataURL(id)
	if err != nil {
		p.rfc8414 = doc{url: id, err: err}
	}
	if discoveryURL != "" && discoveryURL != oidcURL && discoveryURL != rfcURL {
		p.discovery = &doc{}
	}
	// The documents are fetched concurrently so that an unreachable server
	// costs one timeout, not three.
	var wg sync.WaitGroup
	if err == nil {
		wg.Go(func() { p.rfc8414 = fetchDoc(ctx, f, rfcURL) })
	}
	wg.Go(func() { p.oidc = fetchDoc(ctx, f, oidcURL) })
	if p.discovery != nil {
		wg.Go(func() { *p.discovery = fetchDoc(ctx, f, discoveryURL) })
	}
	wg.Wait()
	for _, d := range []*doc{&p.rfc8414, &p.oidc, p.discovery} {
		if d != nil && d.meta != nil {
			p.meta, p.par = d.meta, d.par
			break
		}
	}
	return p
}

// checkAS adds the metadata checks for one authorization server.
func checkAS(r *Report, p *asProbe, cfg *config.Config, label string) {
	name := func(n string) string { return n + label }
	if !checkDiscovery(r, p, name("discovery")) {
		return
	}
	m := p.meta

	checkIssuer(r, p, name("issuer"))

	var missing []string
	if m.AuthorizationEndpoint == "" {
		missing = append(missing, "authorization_endpoint")
	}
	if m.TokenEndpoint == "" {
		missing = append(missing, "token_endpoint")
	}
	if len(missing) > 0 {
		r.add(name("endpoints"), Fail, "missing "+strings.Join(missing, " and ")+": no client can run the authorization code flow")
	} else {
		r.add(name("endpoints"), OK, "authorization_endpoint and token_endpoint present")
	}

	cognitoHere := isCognito(cfg) && p.id == cfg.Issuer
	mcpDCR := ""
	if cognitoHere {
		mcpDCR = "; run mcp-dcr in front of Cognito and list it in authorization_servers: it publishes the RFC 8414 document, S256 and a registration endpoint that Cognito lacks"
	}
	switch {
	case slices.Contains(m.CodeChallengeMethodsSupported, "S256"):
		r.add(name("pkce"), OK, "code_challenge_methods_supported includes S256")
	case m.CodeChallengeMethodsSupported == nil:
		r.add(name("pkce"), Fail, "code_challenge_methods_supported is missing: MCP clients must refuse a server that does not advertise S256 (Claude Code, claude.ai and Cursor do)"+mcpDCR)
	default:
		r.add(name("pkce"), Fail, fmt.Sprintf("code_challenge_methods_supported is %v, without S256: MCP clients refuse it%s", m.CodeChallengeMethodsSupported, mcpDCR))
	}

	switch {
	case m.RegistrationEndpoint != "":
		r.add(name("registration"), OK, "registration_endpoint "+m.RegistrationEndpoint)
	default:
		hint := ""
		switch {
		case cognitoHere:
			hint = "; mcp-dcr provides one for Cognito"
		case cfg.Provider == "entra":
			hint = "; Entra ID has no DCR: pre-register an app for each client"
		case cfg.Provider == "okta":
			hint = "; Okta's DCR needs an admin token, so clients cannot use it: pre-register them"
		}
		r.add(name("registration"), Warn, "no registration_endpoint: clients that need Dynamic Client Registration cannot register and need a pre-registered client id"+hint)
	}

	switch {
	case m.ClientIDMetadataDocumentSupported:
		r.add(name("cimd"), OK, "client_id_metadata_document_supported: true")
	case m.RegistrationEndpoint != "":
		r.add(name("cimd"), OK, "Client ID Metadata Documents not advertised; clients use DCR instead")
	default:
		r.add(name("cimd"), Warn, "Client ID Metadata Documents not advertised either: no self-service registration at all")
	}

	auth := m.TokenEndpointAuthMethodsSupported
	switch {
	case slices.Contains(auth, "none"):
		r.add(name("token-auth"), OK, "token_endpoint_auth_methods_supported includes none (public clients)")
	case auth == nil:
		r.add(name("token-auth"), Warn, "token_endpoint_auth_methods_supported is missing (RFC 8414 default: client_secret_basic): public clients without a secret may be refused, and Claude will not use CIMD")
	default:
		r.add(name("token-auth"), Warn, fmt.Sprintf("token_endpoint_auth_methods_supported is %v, without none: public clients need a secret, and Claude will not use CIMD", auth))
	}

	checkScopes(r, m, requiredScopes(cfg), name("scopes"))
}

// checkDiscovery reports which documents exist; false means none was found.
func checkDiscovery(r *Report, p *asProbe, name string) bool {
	if !p.found() {
		errs := []string{"RFC 8414 " + p.rfc8414.url + ": " + p.rfc8414.err.Error(), "OpenID " + p.oidc.url + ": " + p.oidc.err.Error()}
		if p.discovery != nil {
			errs = append(errs, "discovery_url "+p.discovery.url+": "+p.discovery.err.Error())
		}
		if isNetwork(p.rfc8414.err) && isNetwork(p.oidc.err) {
			r.add(name, Fail, fmt.Sprintf("cannot reach authorization server %s: %v", p.id, p.oidc.err))
		} else {
			r.add(name, Fail, "no authorization server metadata found ("+strings.Join(errs, "; ")+")")
		}
		return false
	}
	switch {
	case p.rfc8414.meta != nil && p.oidc.meta != nil:
		r.add(name, OK, "RFC 8414 at "+p.rfc8414.url+" and OpenID configuration at "+p.oidc.url)
	case p.rfc8414.meta != nil:
		r.add(name, OK, "RFC 8414 at "+p.rfc8414.url+"; no OpenID configuration ("+p.oidc.err.Error()+"), which MCP clients do not need")
	case p.oidc.meta != nil:
		r.add(name, Warn, "no RFC 8414 document at "+p.rfc8414.url+" ("+p.rfc8414.err.Error()+"); only the OpenID configuration at "+p.oidc.url+": clients that read only RFC 8414 find nothing")
	default:
		r.add(name, Warn, "metadata found only at discovery_url "+p.discovery.url+": MCP clients look only under "+p.id+"'s well-known paths and find nothing ("+p.rfc8414.err.Error()+", "+p.oidc.err.Error()+")")
	}
	return true
}

// checkIssuer compares the issuer of every document found with the identifier.
func checkIssuer(r *Report, p *asProbe, name string) {
	var bad []string
	for _, d := range []struct {
		what string
		d    *doc
	}{{"RFC 8414", &p.rfc8414}, {"OpenID", &p.oidc}, {"discovery_url", p.discovery}} {
		if d.d != nil && d.d.meta != nil && d.d.meta.Issuer != p.id {
			bad = append(bad, fmt.Sprintf("%s document says %q", d.what, d.d.meta.Issuer))
		}
	}
	if len(bad) > 0 {
		r.add(name, Fail, strings.Join(bad, "; ")+fmt.Sprintf(", configured %q: clients and token validation compare issuers exactly (watch trailing slashes)", p.id))
		return
	}
	r.add(name, OK, fmt.Sprintf("issuer %q matches exactly", p.id))
}

func checkScopes(r *Report, m *oauthmeta.AuthorizationServerMetadata, required []string, name string) {
	if len(required) == 0 {
		r.add(name, OK, "no required scopes configured")
		return
	}
	if m.ScopesSupported == nil {
		r.add(name, Warn, "metadata has no scopes_supported; cannot confirm the required scopes "+strings.Join(required, ", ")+" exist")
		return
	}
	var missing []string
	for _, s := range required {
		if !slices.Contains(m.ScopesSupported, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		r.add(name, Warn, "required scopes not listed in scopes_supported: "+strings.Join(missing, ", ")+" (servers need not list every scope; make sure they exist)")
		return
	}
	r.add(name, OK, "required scopes listed in scopes_supported")
}
