package devidp

import (
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// localOnly is the message of every redirect URI refused because it would
// leave the developer's machine.
const localOnly = "dev mode is local-only: redirect URIs must be loopback " +
	"(http://127.0.0.1, http://[::1] or http://localhost, any port) or a native app's " +
	"private-use scheme such as cursor://; hosted clients (claude.ai, chatgpt.com) need " +
	"`mcp-gateway serve` with a real identity provider"

// deniedSchemes are never accepted as private-use redirect schemes:
//   - schemes a browser runs or resolves itself (javascript, data, blob,
//     about, file, ...);
//   - the schemes any web page may claim with
//     navigator.registerProtocolHandler (the HTML standard's safelist; the
//     "web+" and Firefox's "ext+" prefixes are refused in isPrivateUseScheme),
//     through which a code would reach that page;
//   - known schemes whose handler re-opens the rest of the URI in a web
//     browser (Edge, Chrome, Firefox, Opera, Safari and Brave launchers),
//     which would hand the code to a web site.
var deniedSchemes = []string{
	"javascript", "data", "file", "vbscript", "about", "blob", "filesystem", "view-source",
	"ws", "wss", "ftp", "ftps", "sftp", "intent", "chrome",
	"bitcoin", "geo", "im", "irc", "ircs", "magnet", "mailto", "matrix", "mms", "news",
	"nntp", "openpgp4fpr", "sip", "sms", "smsto", "ssh", "tel", "urn", "webcal", "wtai", "xmpp",
	"microsoft-edge", "microsoft-edge-http", "microsoft-edge-https", "googlechrome",
	"googlechromes", "firefox", "firefox-focus", "opera", "opera-http", "opera-https",
	"x-safari-http", "x-safari-https", "brave",
}

// validateRedirectURI applies the dev server's local-only rule to a redirect
// URI, at registration, on Client ID Metadata Document URIs and on every
// authorization request. Admitted:
//   - http (or https) on a loopback host: 127.0.0.0/8, [::1] or localhost,
//     any port (RFC 8252 §7.3, §8.3);
//   - a private-use scheme of a native app, such as
//     cursor://anysphere.cursor-mcp/oauth/callback or vscode://... (RFC 8252
//     §7.1; a reverse-domain name is not required, since those two are not).
//
// Refused: fragments (RFC 6749 §3.1.2), userinfo, relative URIs, http(s) on
// any other host (invalid_redirect_uri with the localOnly message), and
// private-use URIs that could deliver the code to a web page instead of a
// native app: a page can register itself as the handler of "web+*" schemes
// and of the HTML safelist (mailto:, magnet:, ...), and some schemes open
// their remainder in a browser (microsoft-edge:https://..., googlechromes://);
// those, and opaque URIs (scheme:rest without a "/", the form such launchers
// take), are refused. What is NOT checked: which app the operating system
// associates with an admitted scheme (an app installed on the machine is
// trusted, as in RFC 8252 §8.4), and whether an admitted loopback port is
// the client's.
func validateRedirectURI(raw string) error {
	if strings.Contains(raw, "#") {
		return errors.New("must not contain a fragment")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URI")
	}
	if u.Scheme == "" {
		return errors.New("must be an absolute URI")
	}
	if u.User != nil {
		return errors.New("must not contain userinfo")
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" || !isLoopback(u.Hostname()) {
			return errors.New(localOnly)
		}
		return nil
	}
	if !isPrivateUseScheme(u.Scheme) {
		return errors.New("scheme " + u.Scheme + " is not allowed: a web page could receive the code through it")
	}
	if u.Opaque != "" || (u.Host == "" && !strings.HasPrefix(u.Path, "/")) {
		return errors.New("a private-use scheme redirect URI must be hierarchical (scheme://host/path or scheme:/path, RFC 8252 §7.1)")
	}
	return nil
}

// isPrivateUseScheme reports whether scheme (lower case, as url.Parse
// leaves it) may serve as a native app's redirect scheme here.
func isPrivateUseScheme(scheme string) bool {
	return !slices.Contains(deniedSchemes, scheme) &&
		!strings.HasPrefix(scheme, "web+") && !strings.HasPrefix(scheme, "ext+")
}

// isLoopback reports whether host is localhost or a loopback IP literal.
func isLoopback(host string) bool { return oauthmeta.IsLoopbackHost(host) }

// matchRedirect returns the redirect URI to use for an authorization
// request, or the error to show (never redirected, RFC 6749 §4.1.2.1).
// requested must be listed for the client under
// oauthmeta.RedirectURIListed (RFC 6749 §3.1.2.3 simple string comparison;
// a portless loopback registration matches any port, RFC 8252 §7.3; a
// registered port must match) and pass validateRedirectURI. When the request
// names none and exactly one is registered, that one is used, except for
// metadata-document clients, which must name it. The dev client accepts any
// valid loopback http URI.
func (c *client) matchRedirect(requested string) (string, *oauthError) {
	if requested == "" {
		if len(c.RedirectURIs) == 1 && !c.document {
			return c.RedirectURIs[0], nil
		}
		return "", newErr(errInvalidRequest, "redirect_uri is required")
	}
	if err := validateRedirectURI(requested); err != nil {
		return "", newErr(errInvalidRequest, "redirect_uri "+requested+": "+err.Error())
	}
	if c.dev {
		if u, err := url.Parse(requested); err == nil && u.Scheme == "http" {
			return requested, nil
		}
		return "", newErr(errInvalidRequest, "the dev client accepts only loopback http redirect URIs")
	}
	if !oauthmeta.RedirectURIListed(c.RedirectURIs, requested) {
		where := "a registered redirect URI"
		if c.document {
			where = "a redirect_uri of the client metadata document"
		}
		return "", newErr(errInvalidRequest, "redirect_uri does not match "+where)
	}
	return requested, nil
}
