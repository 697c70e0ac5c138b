package authn

import (
	"sync"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// maxRawKeys bounds rawKeyCache; issuers publish a handful of keys, so
// reaching it means churn and the cache simply starts over.
const maxRawKeys = 64

// rawKeyCache memoizes the crypto public key of each jwk.Key, saving the
// big-integer conversion on every verification. Keys are immutable once a
// KeySet published them; a faked KeyLookup that mutates keys in place
// must not be used with a long-lived Verifier.
type rawKeyCache struct {
	mu sync.Mutex
	m  map[jwk.Key]any
}

func (c *rawKeyCache) get(key jwk.Key) (any, error) {
	c.mu.Lock()
	raw, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return raw, nil
	}
	raw, err := jwk.PublicRawKeyOf(key)
	if err != nil {
		return nil, invalid(ReasonKey, "key is not a public signature key")
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxRawKeys {
		c.m = make(map[jwk.Key]any, 8)
	}
	c.m[key] = raw
	c.mu.Unlock()
	return raw, nil
}
