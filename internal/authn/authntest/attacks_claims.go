package authntest

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"
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
		{"iss_wrong", good(set("iss", "https://evil.example"))},
		{"iss_missing", good(del("iss"))},
		{"iss_trailing_slash", good(set("iss", iss.URL+"/"))},
		{"iss_uppercase", good(set("iss", strings.ToUpper(iss.URL)))},
		{"iss_array", good(set("iss", []string{iss.URL}))},
		{"iss_duplicate_claim", good(nil, WithRawPayload(dup("iss", "https://evil.example")))},
		{"aud_mismatch", good(set("aud", "https://other.example/mcp"))},
		{"aud_missing", good(del("aud"))},
		{"aud_empty_array", good(set("aud", []string{}))},
		{"aud_empty_string", good(set("aud", ""))},
		{"aud_number", good(set("aud", 42))},
		{"aud_array_non_string", good(set("aud", []any{audience, 1}))},
		{"aud_object", good(set("aud", map[string]any{"aud": audience}))},
		{"aud_duplicate_claim", good(nil, WithRawPayload(dup("aud", "https://other.example/mcp")))},
		{"exp_expired", good(set("exp", now.Add(-2*time.Hour).Unix()))},
		{"exp_expired_beyond_max_leeway", good(set("exp", now.Add(-6*time.Minute).Unix()))},
		{"exp_missing", good(del("exp"))},
		{"exp_string", good(set("exp", "9999999999"))},
		{"exp_huge_float", good(set("exp", 1e300))},
		{"exp_far_future_year_300000", good(set("exp", int64(1e13)))},
		{"exp_overflow_number", good(set("exp", json.Number("1e400")))},
		{"exp_negative", good(set("exp", -1))},
		{"exp_null", good(set("exp", nil))},
		{"exp_bool", good(set("exp", true))},
		{"exp_array", good(set("exp", []int64{now.Add(time.Hour).Unix()}))},
		{"exp_duplicate_claim", good(nil, WithRawPayload(dup("exp", now.Add(-2*time.Hour).Unix())))},
		{"nbf_future", good(set("nbf", now.Add(10*time.Minute).Unix()))},
		{"nbf_string", good(set("nbf", "0"))},
		{"iat_future", good(set("iat", now.Add(10*time.Minute).Unix()))},
		{"iat_string", good(set("iat", "0"))},
		{"id_token_cognito_token_use_id", good(set("token_use", "id"))},
		{"refresh_token_marker", good(set("token_use", "refresh"))},
		{"id_token_nonce", good(set("nonce", "n-0S6_WzA2Mj"))},
		{"id_token_at_hash", good(set("at_hash", "77QmUPtjPfzWtF2AnpK9RQ"))},
		{"id_token_c_hash", good(set("c_hash", "LDktKdoQak3Pk0cnXxCltA"))},
		{"id_token_keycloak_typ_id", good(set("typ", "ID"))},
		{"sub_missing", good(del("sub"))},
		{"sub_empty", good(set("sub", ""))},
		{"sub_number", good(set("sub", 12345))},
		{"client_id_missing", good(del("client_id"))},
		{"client_id_number", good(set("client_id", 7))},
		{"scope_number", good(set("scope", 7))},
		{"scope_object", good(set("scope", map[string]any{"mcp:read": true}))},
		{"scope_array_non_string", good(set("scope", []any{"mcp:read", 1}))},
	}
	for _, a := range audienceLookAlikes(audience) {
		out = append(out, Attack{Name: "aud_lookalike_" + a[0], Token: good(set("aud", a[1]))})
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
