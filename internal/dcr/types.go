// Package dcr is the registration service for identity providers that cannot
// register MCP clients themselves (Amazon Cognito): RFC 7591 Dynamic Client
// Registration and RFC 7592 management on top of Cognito app clients, with
// the rules Cognito enforces and the policy an operator sets.
//
// This file is the package's contract with its adapters (internal/dcr/cognito,
// internal/dcr/dynamo), its HTTP face (internal/dcr/httpapi) and the CIMD
// bridge (internal/dcr/cimd).
package dcr

import (
	"context"
	"errors"
	"time"

	"github.com/mcp-gateway/mcp-gateway/pkg/oauthmeta"
)

// ClientMetadata is the RFC 7591 §2 metadata type shared with pkg/oauthmeta.
type ClientMetadata = oauthmeta.ClientMetadata

// Registration is one registered client as stored: the normalized metadata,
// the Cognito app client it maps to, and bookkeeping. It never holds a
// client secret or a registration access token, only the token's hash.
type Registration struct {
	// ClientID is the Cognito app client id (also the RFC 7591 client_id).
	ClientID string
	// Metadata is the normalized, accepted metadata.
	Metadata ClientMetadata
	// CognitoClientName is the name given to the Cognito app client
	// (client_name mapped into Cognito's charset and length).
	CognitoClientName string
	// Scopes are the scopes the app client may request.
	Scopes []string
	// RegistrationTokenHash is SHA-256 of the RFC 7592 registration access
	// token, hex-encoded. Empty for CIMD-bridged clients (not manageable).
	RegistrationTokenHash string
	// MetadataHash identifies identical public-client metadata, for reuse.
	MetadataHash string
	// Source is "dcr" or "cimd".
	Source string
	// CIMDURL is the client_id URL of a CIMD-bridged client.
	CIMDURL string
	// CreatedAt and ExpiresAt bound the registration; ExpiresAt is also the
	// DynamoDB TTL attribute. Zero ExpiresAt means no expiry.
	CreatedAt time.Time
	ExpiresAt time.Time
	// Version increases on every update (optimistic concurrency).
	Version int64
	// LoopbackCallbacks are the port-specific loopback redirect URIs added
	// to the app client's callback URLs because the client registered the
	// portless form (RFC 8252 §7.3) and Cognito compares callbacks exactly
	// (see [Service.UseRedirectURI]), oldest use first. They are not part
	// of Metadata: RFC 7591/7592 responses show what the client registered.
	LoopbackCallbacks []LoopbackCallback
}

// LoopbackCallback is one port-specific loopback callback URL of an app
// client and when an authorization request last used it (the eviction
// order, kept in the registration store so that it survives restarts).
type LoopbackCallback struct {
	URI    string
	UsedAt time.Time
}

// AppClientSpec is what an AppClients implementation must create or update:
// a Cognito app client for the authorization code flow.
type AppClientSpec struct {
	// Name follows Cognito's [\w\s+=,.@-]{1,128}.
	Name string
	// CallbackURLs are the redirect URIs (Cognito: at most 100).
	CallbackURLs []string
	// Scopes are AllowedOAuthScopes.
	Scopes []string
	// GenerateSecret makes a confidential client.
	GenerateSecret bool
	// Flows are AllowedOAuthFlows ("code", or "client_credentials" alone).
	Flows []string
	// RefreshTokens records whether the client registered the refresh_token
	// grant. Cognito issues refresh tokens to every code-flow client and
	// requires ALLOW_REFRESH_TOKEN_AUTH in every explicit auth-flow list, so
	// the Cognito adapter cannot withhold them (a known limitation).
	RefreshTokens bool
}

// AppClients creates and manages Cognito app clients. Implementations set
// AllowedOAuthFlowsUserPoolClient, SupportedIdentityProviders, token
// validity, token revocation and PreventUserExistenceErrors from their own
// configuration, and make managed login work for the new client.
type AppClients interface {
	// Create returns the new client's id and, for GenerateSecret, its secret.
	Create(ctx context.Context, spec AppClientSpec) (clientID, clientSecret string, err error)
	// Update replaces the client's callback URLs, scopes, flows and name.
	Update(ctx context.Context, clientID string, spec AppClientSpec) error
	// Delete removes the client; deleting a missing client is not an error.
	Delete(ctx context.Context, clientID string) error
	// Secret returns a confidential client's current secret (RFC 7592 read).
	Secret(ctx context.Context, clientID string) (string, error)
}

// Store keeps registrations (DynamoDB in production).
type Store interface {
	// Create stores r; ErrExists if the client id is taken.
	Create(ctx context.Context, r Registration) error
	// Get returns the registration or ErrNotFound.
	Get(ctx context.Context, clientID string) (*Registration, error)
	// Update replaces r if the stored Version is r.Version-1; ErrConflict otherwise.
	Update(ctx context.Context, r Registration) error
	// Delete removes the registration; a missing one is not an error.
	Delete(ctx context.Context, clientID string) error
	// FindByMetadataHash returns an unexpired registration with that hash, or ErrNotFound.
	FindByMetadataHash(ctx context.Context, hash string) (*Registration, error)
	// Expired lists registrations whose ExpiresAt is before now (at most limit).
	Expired(ctx context.Context, now time.Time, limit int) ([]Registration, error)
	// Count returns how many registrations exist.
	Count(ctx context.Context) (int, error)
}

// Store errors callers branch on.
var (
	ErrNotFound = errors.New("registration not found")
	ErrExists   = errors.New("registration already exists")
	ErrConflict = errors.New("registration changed concurrently")
)

// Result is the outcome of a registration or RFC 7592 read/update: the
// stored registration plus the secrets that exist only in this response
// (never stored). RegistrationAccessToken is empty when the registration was
// reused (an identical public client registered earlier; the new requester
// does not get to manage it) or came from the CIMD bridge.
type Result struct {
	Registration            Registration
	ClientSecret            string
	RegistrationAccessToken string
	// Reused is true when an existing registration was returned.
	Reused bool
}

// GCReport says what a garbage-collection pass found and did.
type GCReport struct {
	// Expired lists client ids whose registrations had expired.
	Expired []string
	// Deleted lists those whose app client and record were removed (empty
	// on a dry run).
	Deleted []string
	// Failed maps client ids to why they could not be removed.
	Failed map[string]string
}
