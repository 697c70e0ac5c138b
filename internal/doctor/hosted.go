package doctor

import (
	"net/netip"
	"net/url"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// hostedClients connect from their vendor's servers on the internet, not
// from the user's machine: claude.ai's custom connectors (Claude Desktop's
// remote connectors go through it too) and ChatGPT's connectors fetch the
// resource and authorization server metadata, register and redeem codes
// server-side. Desktop clients (Claude Code, VS Code, Cursor, the
// Inspector) run next to the user and reach loopback.
var hostedClients = map[string]bool{ClientClaudeAI: true, ClientChatGPT: true}

// tunnelHint is the fix for a gateway hosted clients cannot reach.
const tunnelHint = "serve the gateway at a public https URL and set public_url to it; to try it out, a tunnel " +
	"(cloudflared tunnel --url http://127.0.0.1:8080, or ngrok http 8080) with public_url set to the tunnel's https URL"

// sharedAddressSpace is RFC 6598 carrier-grade NAT space, private in
// practice but not in net.IP.IsPrivate.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// internetProblem says why a server on the internet cannot use rawURL, or
// "" when nothing is known against it: it must be https and its host must
// not be loopback, a private, link-local or unspecified address, or a name
// that only resolves locally (localhost, *.local, *.internal, *.lan,
// *.home.arpa, a name without a dot). It does not resolve names: a public
// name that resolves to a private address (split DNS) is not caught.
func internetProblem(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "is not an absolute URL"
	}
	host := u.Hostname()
	if oauthmeta.IsLoopbackHost(host) {
		return "is loopback (" + host + ")"
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		ip = ip.Unmap()
		switch {
		case ip.IsPrivate() || sharedAddressSpace.Contains(ip):
			return "is a private address (" + host + ")"
		case ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast():
			return "is not a routable address (" + host + ")"
		}
	} else if localName(host) {
		return "is a local name (" + host + ")"
	}
	if u.Scheme != "https" {
		return "is not https"
	}
	return ""
}

// localName reports names that public DNS does not serve.
func localName(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if !strings.Contains(h, ".") {
		return true
	}
	for _, suffix := range []string{".localhost", ".local", ".internal", ".lan", ".home.arpa", ".localdomain"} {
		if strings.HasSuffix(h, suffix) {
			return true
		}
	}
	return false
}

// reachability is what hosted clients would hit before any OAuth step.
type reachability struct {
	// gateway is why public_url cannot be reached from the internet, "" if it can.
	gateway string
	// as is why the first authorization server cannot be, "" if it can.
	as string
}

// hostedReach judges public_url and the authorization server's identifier
// and the endpoints hosted clients call server-side (token and
// registration; the authorization endpoint is opened in the user's
// browser, so it is not judged).
func hostedReach(publicURL string, p *asProbe) reachability {
	var r reachability
	if publicURL != "" {
		if why := internetProblem(publicURL); why != "" {
			r.gateway = "public_url " + publicURL + " " + why
		}
	}
	if p == nil {
		return r
	}
	targets := []struct{ what, url string }{{"authorization server", p.id}}
	if m := p.meta; m != nil {
		targets = append(targets, struct{ what, url string }{"token_endpoint", m.TokenEndpoint},
			struct{ what, url string }{"registration_endpoint", m.RegistrationEndpoint})
	}
	for _, t := range targets {
		if t.url == "" {
			continue
		}
		if why := internetProblem(t.url); why != "" {
			r.as = t.what + " " + t.url + " " + why
			break
		}
	}
	return r
}

// hosted adds what a hosted client hits when it cannot reach the gateway or
// the authorization server.
func hosted(v *verdict, client string, r reachability) {
	if !hostedClients[client] {
		return
	}
	if r.gateway != "" {
		v.add(Fail, "connects from its servers on the internet, and "+r.gateway+": "+tunnelHint)
	}
	if r.as != "" {
		v.add(Fail, "its servers fetch metadata, register and redeem codes over the internet, and the "+r.as+
			": the authorization server must be reachable from the internet over https too")
	}
}
