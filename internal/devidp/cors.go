package devidp

import (
	"net/http"
	"net/url"
	"strconv"
)

// loopbackOrigin reports whether origin (an RFC 6454 §7 Origin header
// value) is a page served from this machine: http or https, a loopback host
// (localhost, 127.0.0.0/8 or [::1]), any port, nothing after the port. The
// opaque origin "null" is not.
func loopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || origin != u.Scheme+"://"+u.Host {
		return false
	}
	return isLoopback(u.Hostname())
}

// checkOrigin applies the local-only rule to the Origin of every request
// (the Fetch standard's CORS protocol; RFC 6454 §7): a request without
// Origin (native clients, top-level GET navigations) or from a loopback
// origin passes; on CORS routes a loopback origin is echoed in
// Access-Control-Allow-Origin. Any other origin, "null" included, and a
// repeated Origin, get 403 invalid_request and no CORS headers, so a web
// page elsewhere can neither read answers nor blindly register clients or
// post forms. Every response carries `Vary: Origin`. It reports whether the
// request may proceed. NOT checked: Sec-Fetch-Site, Referer.
func checkOrigin(w http.ResponseWriter, r *http.Request, cors bool) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origins := r.Header.Values("Origin")
	if len(origins) == 0 {
		return true
	}
	if len(origins) > 1 || !loopbackOrigin(origins[0]) {
		writeError(w, &oauthError{Code: errInvalidRequest, Status: http.StatusForbidden, Description: "dev mode is local-only: requests from origin " +
			strconv.Quote(origins[0]) + " are refused; only http://localhost, http://127.0.0.1 and http://[::1] origins (any port) may call this server"})
		return false
	}
	if cors {
		h.Set("Access-Control-Allow-Origin", origins[0])
		h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
	}
	return true
}
