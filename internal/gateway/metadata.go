package gateway

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/mcp-gateway/mcp-gateway/internal/mcpwire"
	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// metadata builds one route's RFC 9728 §2 document. resource is the exact
// identifier its URL was built from (RFC 9728 §3.3: clients compare them).
func (s *Server) metadata(resource string, scopes []string) oauthmeta.ProtectedResourceMetadata {
	return oauthmeta.ProtectedResourceMetadata{
		Resource:               resource,
		AuthorizationServers:   s.opts.AuthorizationServers,
		ScopesSupported:        withoutOfflineAccess(scopes),
		BearerMethodsSupported: []string{"header"},
		ResourceName:           s.opts.ResourceName,
	}
}

// rootMetadata is the document at /.well-known/oauth-protected-resource
// (RFC 9728 §3.1 with no path). Its resource is PublicURL itself, which
// names no single route, so it describes them all: its scopes are the
// union of every route's ScopesSupported, in route order, each once. A
// client that follows the challenges' resource_metadata (as MCP clients
// must) reads the route's own document instead and is asked for that
// route's scopes only.
func (s *Server) rootMetadata() (oauthmeta.ProtectedResourceMetadata, error) {
	if _, err := oauthmeta.ProtectedResourceMetadataURL(s.opts.PublicURL); err != nil {
		return oauthmeta.ProtectedResourceMetadata{}, err
	}
	var scopes []string
	seen := map[string]bool{}
	for _, r := range s.opts.Routes {
		for _, sc := range r.ScopesSupported {
			if !seen[sc] {
				seen[sc] = true
				scopes = append(scopes, sc)
			}
		}
	}
	return s.metadata(trimSlash(s.opts.PublicURL), scopes), nil
}

// metadataHandler serves a PRM document readable from any origin (it is
// public; RFC 9728 §3) with a short cache lifetime.
func metadataHandler(doc oauthmeta.ProtectedResourceMetadata) echo.HandlerFunc {
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err) // a struct of strings always marshals
	}
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "GET, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type, "+mcpwire.HeaderProtocolVersion)
		if c.Request().Method == http.MethodOptions {
			return c.NoContent(http.StatusNoContent)
		}
		h.Set("Cache-Control", "public, max-age=300")
		return c.Blob(http.StatusOK, "application/json", append(body, '\n'))
	}
}

func withoutOfflineAccess(scopes []string) []string {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if s != "offline_access" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func trimSlash(s string) string { return strings.TrimSuffix(s, "/") }
