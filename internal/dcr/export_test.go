package dcr

import "slices"

// KnownClientRedirectPatterns returns the https redirect patterns admitted
// unless DisableDefaultRedirects (claude.ai, claude.com, ChatGPT, VS Code web
// redirect), in RedirectPatterns syntax.
func KnownClientRedirectPatterns() []string { return slices.Clone(knownClientRedirectPatterns) }
