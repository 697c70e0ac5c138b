package authn

import "context"

// The reference path (legacy_*_test.go) and the pieces of the single-pass
// path, exported to FuzzDecoderEquivalence, which lives in package
// authn_test to seed itself from authntest.Attacks.

// LegacyVerify is the former Verify (without cache).
func LegacyVerify(v *Verifier, ctx context.Context, raw string) (*Principal, map[string]any, error) {
	return legacyVerify(v, ctx, raw)
}

// LegacyHeader is the former header check.
func LegacyHeader(hb []byte, typs []string) (alg, kid string, err error) {
	h, err := legacyCheckHeader(hb, typs)
	return h.alg, h.kid, err
}

// NewHeader is parseHeader with typs as a Profile lists them.
func NewHeader(hb []byte, typs []string) (alg, kid string, err error) {
	h, err := parseHeader(hb, lowerTyps(typs))
	if err != nil {
		return "", "", err
	}
	return h.alg.name, h.kid, nil
}

// LegacyPayload is the former payload decoding and claim checks.
func LegacyPayload(v *Verifier, ctx context.Context, payload []byte) (*Principal, map[string]any, error) {
	claims, err := legacyDecodeObject(payload)
	if err != nil {
		return nil, nil, invalid(ReasonMalformed, "payload: "+err.Error())
	}
	p, err := legacyCheckClaims(v, ctx, claims)
	return p, claims, err
}

// NewPayload is the single-pass payload decoding and claim checks.
func NewPayload(v *Verifier, ctx context.Context, payload []byte) (*Principal, error) {
	return v.checkPayload(ctx, payload)
}
