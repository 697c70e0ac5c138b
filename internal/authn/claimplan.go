package authn

import (
	"maps"
	"slices"

	"github.com/mcp-gateway/mcp-gateway/internal/authn/idp"
)

// noSlot marks a claim role the profile does not use.
const noSlot = -1

// claimPlan says which payload members verification reads and what for.
// It is computed once per Verifier from the Profile, whose claim names are
// data (package idp): every distinct name gets a slot, and each role
// (issuer, subject, times, audience, client id, scopes, username,
// token-type markers) lists the slots it reads, in the profile's order. A
// name with several roles (Okta's "sub" is subject and username) has one
// slot.
type claimPlan struct {
	slots map[string]int // claim name -> slot
	names []string       // slot -> claim name

	iss, sub, exp, nbf, iat, aud int
	clientIDs, scopes, usernames []int

	required        []requiredClaim // sorted by name
	forbidden       []int
	forbiddenValues []forbiddenValue // sorted by name
}

// requiredClaim is one idp.Profile.RequiredClaims entry.
type requiredClaim struct {
	slot int
	want string
}

// forbiddenValue is one idp.Profile.ForbiddenClaimValues entry.
type forbiddenValue struct {
	slot int
	bad  []string
}

// newClaimPlan assigns slots for the registered claims verification reads
// (RFC 7519 §4.1 iss, exp, nbf, iat, aud) and every claim p names.
func newClaimPlan(p *idp.Profile) *claimPlan {
	c := &claimPlan{slots: map[string]int{}}
	c.iss, c.exp, c.nbf, c.iat, c.aud = c.slot("iss"), c.slot("exp"), c.slot("nbf"), c.slot("iat"), c.slot("aud")
	c.sub = c.slot(p.Subject())
	c.clientIDs = c.slotList(p.ClientIDClaims)
	c.scopes = c.slotList(p.ScopeClaims)
	c.usernames = c.slotList(p.UsernameClaims)
	c.forbidden = c.slotList(p.ForbiddenClaims)
	for _, name := range slices.Sorted(maps.Keys(p.RequiredClaims)) {
		c.required = append(c.required, requiredClaim{slot: c.slot(name), want: p.RequiredClaims[name]})
	}
	for _, name := range slices.Sorted(maps.Keys(p.ForbiddenClaimValues)) {
		c.forbiddenValues = append(c.forbiddenValues, forbiddenValue{slot: c.slot(name), bad: p.ForbiddenClaimValues[name]})
	}
	return c
}

// slot returns name's slot, assigning a new one if needed.
func (c *claimPlan) slot(name string) int {
	if i, ok := c.slots[name]; ok {
		return i
	}
	c.slots[name] = len(c.names)
	c.names = append(c.names, name)
	return len(c.names) - 1
}

func (c *claimPlan) slotList(names []string) []int {
	out := make([]int, len(names))
	for i, n := range names {
		out[i] = c.slot(n)
	}
	return out
}

// maxStackSlots is how many slots claimVals keeps without allocating.
const maxStackSlots = 24

// claimVals are the payload members of one token, by slot (nil: absent).
type claimVals []jval

// parseClaims reads payload in one pass (see objReader) into vals, one per
// slot of c; other members are only validated and checked for duplicates.
// Duplicate top-level names, compared decoded, are refused (RFC 7519 §7.2
// step 4). Every error is ReasonMalformed.
func (c *claimPlan) parseClaims(payload []byte, vals claimVals) error {
	var others nameSet
	r := objReader{d: payload}
	for {
		raw, esc, val, ok, err := r.next()
		if err != nil {
			return invalid(ReasonMalformed, "payload: "+err.Error())
		}
		if !ok {
			return nil
		}
		name := memberName(raw, esc)
		if i, known := c.slots[string(name)]; known {
			if vals[i] != nil {
				return invalid(ReasonMalformed, "payload: "+errDuplicate(name).Error())
			}
			vals[i] = val
		} else if !others.add(name) {
			return invalid(ReasonMalformed, "payload: "+errDuplicate(name).Error())
		}
	}
}
