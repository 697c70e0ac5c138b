package doctor

import (
	"slices"
	"strings"
)

// Client names, in report order.
const (
	ClientTSSDK      = "MCP TypeScript SDK / MCP Inspector"
	ClientClaudeCode = "Claude Code"
	ClientClaudeAI   = "claude.ai / Claude Desktop"
	ClientChatGPT    = "ChatGPT"
	ClientVSCode     = "VS Code"
	ClientCursor     = "Cursor"
)

// facts are the metadata properties client behaviour depends on.
type facts struct {
	rfc8414, oidc bool // which well-known documents exist
	endpoints     bool // authorization and token endpoints present
	s256          bool // S256 listed
	methodsListed bool // code_challenge_methods_supported present at all
	dcr           bool // registration_endpoint present
	cimd          bool // client_id_metadata_document_supported: true
	none          bool // none in token_endpoint_auth_methods_supported
}

// verdict accumulates reasons; the outcome is the worst one.
type verdict struct {
	s       Status
	reasons []reason
}

type reason struct {
	s   Status
	why string
}

func (v *verdict) add(s Status, why string) {
	v.s = max(v.s, s)
	v.reasons = append(v.reasons, reason{s, why})
}

// why joins the reasons, the most severe first.
func (v *verdict) why() string {
	slices.SortStableFunc(v.reasons, func(a, b reason) int { return int(b.s) - int(a.s) })
	out := make([]string, len(v.reasons))
	for i, r := range v.reasons {
		out[i] = r.why
	}
	return strings.Join(out, "; ")
}

// clientEnv is what predictions need besides the metadata.
type clientEnv struct {
	reach    reachability
	resource resourceVerdict
}

// predict derives what each client will hit from the first advertised
// authorization server, which is the one clients use, where the gateway and
// that server are (hosted clients connect from the internet) and whether
// the server accepts the resource parameter every client sends.
func predict(p *asProbe, env clientEnv) []ClientPrediction {
	names := []string{ClientTSSDK, ClientClaudeCode, ClientClaudeAI, ClientChatGPT, ClientVSCode, ClientCursor}
	out := make([]ClientPrediction, 0, len(names))
	if p == nil || !p.wellKnownOnly() {
		for _, n := range names {
			v := &verdict{}
			v.add(Fail, "finds no authorization server metadata under the advertised server's well-known paths")
			hosted(v, n, env.reach)
			out = append(out, ClientPrediction{Client: n, Outcome: v.s, Why: v.why()})
		}
		return out
	}
	m := p.rfc8414.meta
	if m == nil {
		m = p.oidc.meta
	}
	f := facts{
		rfc8414:       p.rfc8414.meta != nil,
		oidc:          p.oidc.meta != nil,
		endpoints:     m.AuthorizationEndpoint != "" && m.TokenEndpoint != "",
		s256:          slices.Contains(m.CodeChallengeMethodsSupported, "S256"),
		methodsListed: m.CodeChallengeMethodsSupported != nil,
		dcr:           m.RegistrationEndpoint != "",
		cimd:          m.ClientIDMetadataDocumentSupported,
		none:          slices.Contains(m.TokenEndpointAuthMethodsSupported, "none"),
	}
	for _, n := range names {
		v := &verdict{}
		if !f.endpoints {
			v.add(Fail, "metadata lacks the authorization or token endpoint")
		}
		hosted(v, n, env.reach)
		if env.resource.outcome == resourceRefused {
			v.add(Fail, "sends the resource parameter (RFC 8707; MCP clients must) and "+env.resource.refusal)
		}
		discovery(v, n, f)
		pkce(v, n, f)
		registration(v, n, f)
		out = append(out, ClientPrediction{Client: n, Outcome: v.s, Why: v.why()})
	}
	return out
}

func discovery(v *verdict, client string, f facts) {
	if f.rfc8414 {
		return
	}
	if client == ClientTSSDK {
		v.add(OK, "falls back to the OpenID configuration (it tries RFC 8414, then OpenID)")
		return
	}
	v.add(Warn, "only an OpenID configuration is published: clients built to MCP 2025-11-25 or later fall back to it, older builds may read RFC 8414 only")
}

func pkce(v *verdict, client string, f facts) {
	if f.s256 {
		return
	}
	switch client {
	case ClientTSSDK:
		if f.methodsListed {
			v.add(Fail, "refuses: code_challenge_methods_supported lacks S256")
		} else {
			v.add(OK, "proceeds with S256 although none is advertised (the SDK refuses only a list without S256)")
		}
	case ClientClaudeCode, ClientClaudeAI, ClientCursor:
		v.add(Fail, "stops: S256 is not advertised in code_challenge_methods_supported")
	default:
		v.add(Warn, "S256 is not advertised; the MCP spec tells clients to refuse such a server, so expect a failure")
	}
}

func registration(v *verdict, client string, f facts) {
	claude := client == ClientClaudeCode || client == ClientClaudeAI
	switch {
	case claude && f.cimd && f.none:
		v.add(OK, "uses a Client ID Metadata Document (CIMD and none are advertised)")
		return
	case claude && f.cimd:
		v.add(OK, "ignores CIMD: none is missing from token_endpoint_auth_methods_supported")
	case client == ClientTSSDK && f.cimd && f.dcr:
		v.add(OK, "uses CIMD when the app supplies a client metadata URL, DCR otherwise")
		return
	case client == ClientTSSDK && f.cimd:
		v.add(Warn, "can use CIMD only when the app supplies a client metadata URL; otherwise it needs a pre-registered client id")
		return
	}
	if f.dcr {
		v.add(OK, "registers with DCR")
		return
	}
	var how string
	switch client {
	case ClientTSSDK:
		how = "(the Inspector's auth settings take one)"
	case ClientClaudeCode:
		how = "(claude mcp add --client-id, if your version has it)"
	case ClientClaudeAI:
		how = "(the custom connector's advanced settings, if offered)"
	case ClientChatGPT:
		how = "(ChatGPT connectors expect DCR; check whether yours accepts a client id)"
	case ClientVSCode:
		how = "(recent versions prompt for one)"
	case ClientCursor:
		how = "(if your version accepts one)"
	}
	v.add(Warn, "no DCR and no usable CIMD: needs a pre-registered client id "+how)
}
