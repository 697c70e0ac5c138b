package authntest

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/authn"
)

// claimAttacks target the JWT claims of correctly signed tokens.
func claimAttacks(iss *Issuer, audience string, good minter) []Attack {
	set := func(k string, v any) func(map[string]any) {
		return func(c map[string]any) { c[k] = v }
	}
	del := func(k string) func(map[string]any) {
		return func(c map[string]any) { delete(c, k) }
	}
	now := time.Now()
	claims := mustJSON(iss, iss.Claims(audience))
	dup := func(k string, first any) []byte {
		// {"k":first, ...valid claims including "k":good}: last-wins parsers accept it.
		v, _ := json.Marshal(first)
		return append([]byte(`{"`+k+`":`+string(v)+`,`), claims[1:]...)
	}
	out := []Attack{
		{"iss_wrong", authn.ReasonIssuer, good(set("iss", "https://evil.example"))},
		{"iss_missing", authn.ReasonIssuer, good(del("iss"))},
		{"iss_trailing_slash", authn.ReasonIssuer, good(set("iss", iss.URL+"/"))},
		{"iss_uppercase", authn.ReasonIssuer, good(set("iss", strings.ToUpper(iss.URL)))},
		{"iss_array", authn.ReasonIssuer, good(set("iss", []string{iss.URL}))},
		{"iss_duplicate_claim", authn.ReasonMalformed, good(nil, WithRawPayload(dup("iss", "https://evil.example")))},
		{"aud_mismatch", authn.ReasonAudience, good(set("aud", "https://other.example/mcp"))},
		{"aud_missing", authn.ReasonAudience, good(del("aud"))},
		{"aud_empty_array", authn.ReasonAudience, good(set("aud", []string{}))},
		{"aud_empty_string", authn.ReasonAudience, good(set("aud", ""))},
		{"aud_number", authn.ReasonAudience, good(set("aud", 42))},
		{"aud_array_non_string", authn.ReasonAudience, good(set("aud", []any{audience, 1}))},
		{"aud_object", authn.ReasonAudience, good(set("aud", map[string]any{"aud": audience}))},
		{"aud_duplicate_claim", authn.ReasonMalformed, good(nil, WithRawPayload(dup("aud", "https://other.example/mcp")))},
		{"exp_expired", authn.ReasonExpired, good(set("exp", now.Add(-2*time.Hour).Unix()))},
		{"exp_expired_beyond_max_leeway", authn.ReasonExpired, good(set("exp", now.Add(-6*time.Minute).Unix()))},
		{"exp_missing", authn.ReasonExpired, good(del("exp"))},
		{"exp_string", authn.ReasonExpired, good(set("exp", "9999999999"))},
		{"exp_huge_float", authn.ReasonExpired, good(set("exp", 1e300))},
		{"exp_far_future_year_300000", authn.ReasonExpired, good(set("exp", int64(1e13)))},
		{"exp_overflow_number", authn.ReasonExpired, good(set("exp", json.Number("1e400")))},
		{"exp_negative", authn.ReasonExpired, good(set("exp", -1))},
		{"exp_null", authn.ReasonExpired, good(set("exp", nil))},
		{"exp_bool", authn.ReasonExpired, good(set("exp", true))},
		{"exp_array", authn.ReasonExpired, good(set("exp", []int64{now.Add(time.Hour).Unix()}))},
		{"exp_duplicate_claim", authn.ReasonMalformed, good(nil, WithRawPayload(dup("exp", now.Add(-2*time.Hour).Unix())))},
		{"nbf_future", authn.ReasonExpired, good(set("nbf", now.Add(10*time.Minute).Unix()))},
		{"nbf_string", authn.ReasonExpired, good(set("nbf", "0"))},
		{"iat_future", authn.ReasonExpired, good(set("iat", now.Add(10*time.Minute).Unix()))},
		{"iat_string", authn.ReasonExpired, good(set("iat", "0"))},
		{"id_token_cognito_token_use_id", authn.ReasonTokenType, good(set("token_use", "id"))},
		{"refresh_token_marker", authn.ReasonTokenType, good(set("token_use", "refresh"))},
		{"id_token_nonce", authn.ReasonTokenType, good(set("nonce", "n-0S6_WzA2Mj"))},
		{"id_token_at_hash", authn.ReasonTokenType, good(set("at_hash", "77QmUPtjPfzWtF2AnpK9RQ"))},
		{"id_token_c_hash", authn.ReasonTokenType, good(set("c_hash", "LDktKdoQak3Pk0cnXxCltA"))},
		{"id_token_keycloak_typ_id", authn.ReasonTokenType, good(set("typ", "ID"))},
		{"sub_missing", authn.ReasonClaims, good(del("sub"))},
		{"sub_empty", authn.ReasonClaims, good(set("sub", ""))},
		{"sub_number", authn.ReasonClaims, good(set("sub", 12345))},
		{"client_id_missing", authn.ReasonClient, good(del("client_id"))},
		{"client_id_number", authn.ReasonClient, good(set("client_id", 7))},
		{"scope_number", authn.ReasonClaims, good(set("scope", 7))},
		{"scope_object", authn.ReasonClaims, good(set("scope", map[string]any{"mcp:read": true}))},
		{"scope_array_non_string", authn.ReasonClaims, good(set("scope", []any{"mcp:read", 1}))},
	}
	for _, a := range audienceLookAlikes(audience) {
		out = append(out, Attack{Name: "aud_lookalike_" + a[0], Reason: authn.ReasonAudience, Token: good(set("aud", a[1]))})
	}
	return out
}

// audienceLookAlikes returns {name, value} pairs close to audience but
// naming a different resource.
func audienceLookAlikes(audience string) [][2]string {
	u, err := url.Parse(audience)
	if err != nil || u.Host == "" {
		return [][2]string{
			{"suffix", audience + "x"}, {"upper", strings.ToUpper(audience) + "X"},
			{"space", " " + audience}, {"prefix_string", audience[:len(audience)/2]},
		}
	}
	host, path := u.Host, u.EscapedPath()
	other := "http"
	if u.Scheme == "http" {
		other = "https"
	}
	port := "8443"
	if u.Port() == port {
		port = "9443"
	}
	out := [][2]string{
		{"host_suffix", u.Scheme + "://" + host + ".evil.example" + path},
		{"host_prefix", u.Scheme + "://evil" + host + path},
		{"userinfo_good_at_evil", u.Scheme + "://" + host + "@evil.example" + path},
		{"userinfo_evil_at_good", u.Scheme + "://evil.example@" + host + path},
		{"path_prefix_string", audience + "x"},
		{"path_child", strings.TrimSuffix(audience, "/") + "/admin"},
		{"path_double_slash", strings.TrimSuffix(audience, "/") + "//"},
		{"path_case", u.Scheme + "://" + host + strings.ToUpper(path) + "X"},
		{"scheme_swap", other + "://" + host + path},
		{"different_port", u.Scheme + "://" + u.Hostname() + ":" + port + path},
		{"query_added", audience + "?tenant=evil"},
		{"fragment_added", audience + "#evil"},
		{"leading_space", " " + audience},
	}
	if strings.Trim(path, "/") != "" {
		out = append(out, [2]string{"path_parent", u.Scheme + "://" + host})
	}
	return out
}
