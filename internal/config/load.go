package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/joho/godotenv"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
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
// defaults, applies defaults and validates. Unknown keys in the file are
// errors (a typo must not silently drop a security setting).
func Load(opts LoadOptions) (*Config, error) {
	var c Config
	if err := decode(opts, EnvPrefix, Keys(), &c, routesFromText); err != nil {
		return nil, err
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Keys lists every top-level configuration key (the mapstructure tags of Config).
func Keys() []string { return keysOf(reflect.TypeOf(Config{})) }

// decode is the loader every configuration shares: it reads the YAML file,
// the .env file and the environment (variables prefix_KEY for each of keys)
// and decodes exactly into target (unknown keys are
// errors) with comma-separated lists, durations and the extra hooks.
func decode(opts LoadOptions, prefix string, keys []string, target any, hooks ...mapstructure.DecodeHookFunc) error {
	env, err := environ(opts, prefix)
	if err != nil {
		return err
	}
	v := viper.New()
	if opts.File != "" {
		v.SetConfigFile(opts.File)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return fmt.Errorf("config file %s: %w", opts.File, err)
		}
		if err := keepListCase(v, opts.File, keys); err != nil {
			return err
		}
	}
	for _, key := range keys {
		name := prefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		if val, ok := env[name]; ok {
			v.Set(key, val)
		}
	}
	all := append(append([]mapstructure.DecodeHookFunc{}, hooks...), commaList, mapstructure.StringToTimeDurationHookFunc())
	if err := v.UnmarshalExact(target, viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(all...))); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// keepListCase re-reads the file's top-level list values and sets them on v
// as written. Viper lower-cases every map key it reads, including keys of
// maps inside lists, which would turn a route's tool_scopes entry
// "getWeather" into "getweather" and an env entry "API_KEY" into "api_key".
// Values set with v.Set keep the case of maps inside lists.
func keepListCase(v *viper.Viper, file string, keys []string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("config file %s: %w", file, err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("config file %s: %w", file, err)
	}
	for _, key := range keys {
		if list, ok := doc[key].([]any); ok {
			v.Set(key, list)
		}
	}
	return nil
}

// keysOf lists the mapstructure tags of a struct type's fields.
func keysOf(t reflect.Type) []string {
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("mapstructure"); tag != "" {
			keys = append(keys, tag)
		}
	}
	return keys
}

// environ returns the prefix_* variables of the .env file overlaid with
// those of the environment.
func environ(opts LoadOptions, prefix string) (map[string]string, error) {
	list := opts.Environ
	if list == nil {
		list = os.Environ()
	}
	env := map[string]string{}
	path := opts.DotEnv
	if path == "" {
		if _, err := os.Stat(".env"); err == nil {
			path = ".env"
		}
	}
	if path != "" {
		fromFile, err := godotenv.Read(path)
		if err != nil {
			return nil, fmt.Errorf("dotenv %s: %w", path, err)
		}
		for k, val := range fromFile {
			if strings.HasPrefix(k, prefix+"_") {
				env[k] = val
			}
		}
	}
	for _, kv := range list {
		k, val, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, prefix+"_") {
			env[k] = val
		}
	}
	return env, nil
}

// commaList turns "a, b,c" from the environment into a string slice.
func commaList(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || to.Kind() != reflect.Slice || to.Elem().Kind() != reflect.String {
		return data, nil
	}
	var out []string
	for _, s := range strings.Split(data.(string), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// routesFromText lets MCPGW_ROUTES carry the routes list as YAML or JSON.
func routesFromText(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || to != reflect.TypeOf([]Route{}) {
		return data, nil
	}
	if strings.TrimSpace(data.(string)) == "" {
		return []map[string]any{}, nil
	}
	// YAML 1.2 reads JSON too: MCPGW_ROUTES holds the `routes` list of a
	// configuration file in either form (an SSM parameter on ECS).
	var out []map[string]any
	if err := yaml.Unmarshal([]byte(data.(string)), &out); err != nil {
		return nil, errors.New("routes: MCPGW_ROUTES must be a YAML or JSON list of route objects: " + err.Error())
	}
	return out, nil
}
