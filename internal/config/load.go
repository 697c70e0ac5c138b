package config

import (
	"reflect"
	"slices"

	"github.com/go-viper/mapstructure/v2"
)

// EnvPrefix is the prefix of environment variables (MCPGW_ISSUER, ...).
const EnvPrefix = "MCPGW"

// LoadOptions say where configuration comes from.
type LoadOptions struct {
	// File is a YAML file (--config); empty means none.
	File string
	// DotEnv is a .env file read into the environment without overriding
	// variables already set; empty means ".env" if it exists.
	DotEnv string
	// Environ is the environment to read; nil means os.Environ.
	Environ []string
}

// Load reads configuration with precedence environment > .env > file >
// defaults, applies defaults and validates. It is the one path `serve`,
// `validate` and `doctor` take. On failure the error is [Problems]: every
// problem at once, each with its source (file and line, or variable), in
// this order: unknown keys at any depth and unknown MCPGW_* variables (a
// typo must not silently drop a security setting), then values that do not
// decode, then Validate's rules (leaving out keys that did not decode).
func Load(opts LoadOptions) (*Config, error) {
	var c Config
	if err := load(opts, EnvPrefix, Keys(), &c, c.ApplyDefaults, c.check); err != nil {
		return nil, err
	}
	return &c, nil
}

// Keys lists every top-level configuration key (the mapstructure tags of Config).
func Keys() []string { return keysOf(reflect.TypeOf(Config{})) }

// load is the loader every configuration shares: it reads the YAML file,
// the .env file and the environment (variables prefix_KEY for each of keys),
// decodes into target with comma-separated lists, durations and the extra
// hooks, applies defaults and checks the rules. On failure the error is
// [Problems], in Load's order; a rule about a key that did not decode is
// left out (its decode problem says more).
func load(opts LoadOptions, prefix string, keys []string, target any, applyDefaults func(), check func() problems, hooks ...mapstructure.DecodeHookFunc) error {
	in := read(opts, prefix, keys, reflect.TypeOf(target).Elem())
	if len(in.fatal) > 0 {
		return in.fatal
	}
	ps, failed := in.decode(target, hooks...)
	applyDefaults()
	var rules []Problem
	for _, p := range check() {
		if !slices.ContainsFunc(failed, func(k string) bool { return underKey(p.Key, k) }) {
			rules = append(rules, in.attribute(p))
		}
	}
	sortProblems(rules)
	if ps = append(ps, rules...); len(ps) > 0 {
		return ps
	}
	return nil
}

// decode reports unknown keys and variables, decodes in.raw into target and
// reports what did not decode; failed lists the keys that did not.
func (in *input) decode(target any, hooks ...mapstructure.DecodeHookFunc) (ps Problems, failed []string) {
	ps = append(in.unknownKeys(), in.unknownVariables()...)
	sortProblems(ps)
	all := append(append([]mapstructure.DecodeHookFunc{}, hooks...), shapeHook, commaList, durationHook)
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           target,
		WeaklyTypedInput: true,
		DecodeHook:       mapstructure.ComposeDecodeHookFunc(all...),
	})
	if err != nil {
		panic(err) // a programming error: target is not a pointer
	}
	var bad []Problem
	for _, p := range in.badText {
		bad = append(bad, p)
		failed = append(failed, p.Key)
	}
	for _, f := range decodeFailures(dec.Decode(in.raw)) {
		bad = append(bad, in.attribute(Problem{Key: f.key, Message: f.msg}))
		failed = append(failed, f.key)
	}
	sortProblems(bad)
	return append(ps, bad...), failed
}

// keysOf lists the mapstructure tags of a struct type's fields.
func keysOf(t reflect.Type) []string {
	fields := keyFields(t)
	keys := make([]string, 0, len(fields))
	for _, f := range fields {
		keys = append(keys, f.Tag.Get("mapstructure"))
	}
	return keys
}
