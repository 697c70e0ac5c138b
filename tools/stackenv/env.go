package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
)

// Marker starts the first line of every file stackenv writes; a file that
// does not start with it is not overwritten without -force.
const Marker = "# Written by tools/stackenv"

// keyPattern is what a configuration key in an Output's Description looks like.
var keyPattern = regexp.MustCompile(`^(MCPGW|MCPDCR)_[A-Z0-9_]+$`)

// readyStatuses are the stack states whose outputs describe what exists.
var readyStatuses = map[string]bool{
	"CREATE_COMPLETE":          true,
	"UPDATE_COMPLETE":          true,
	"UPDATE_ROLLBACK_COMPLETE": true,
	"IMPORT_COMPLETE":          true,
}

// describeStacks is the part of `aws cloudformation describe-stacks
// --output json` stackenv reads.
type describeStacks struct {
	Stacks []struct {
		StackName   string   `json:"StackName"`
		StackStatus string   `json:"StackStatus"`
		Outputs     []output `json:"Outputs"`
	} `json:"Stacks"`
}

// output is one stack output.
type output struct {
	OutputKey   string `json:"OutputKey"`
	OutputValue string `json:"OutputValue"`
	Description string `json:"Description"`
}

// entry is one KEY=value line of the .env file and the output it comes from.
type entry struct {
	Key, Value, Output string
}

// stackOutputs returns the outputs of stack in a describe-stacks answer. It
// refuses a stack that is not in a settled, successful state (its outputs may
// name resources that do not exist) and a stack without outputs.
func stackOutputs(data []byte, stack string) ([]output, error) {
	var ds describeStacks
	if err := json.Unmarshal(data, &ds); err != nil {
		return nil, fmt.Errorf("describe-stacks answer: %w", err)
	}
	for _, s := range ds.Stacks {
		if s.StackName != stack {
			continue
		}
		if !readyStatuses[s.StackStatus] {
			return nil, fmt.Errorf("stack %s is %s, not CREATE_COMPLETE or UPDATE_COMPLETE: wait for it or fix it, then run make outputs again", stack, s.StackStatus)
		}
		if len(s.Outputs) == 0 {
			return nil, fmt.Errorf("stack %s has no outputs", stack)
		}
		return s.Outputs, nil
	}
	return nil, fmt.Errorf("describe-stacks answer has no stack %s", stack)
}

// KnownKeys returns the environment variable names the project's
// configuration loaders read: MCPGW_<KEY> for each of config.Keys() (the
// gateway) and MCPDCR_<KEY> for each of config.DCRKeys() (mcp-dcr).
func KnownKeys() map[string]bool {
	known := map[string]bool{}
	add := func(prefix string, keys []string) {
		for _, k := range keys {
			known[prefix+"_"+strings.ToUpper(strings.ReplaceAll(k, ".", "_"))] = true
		}
	}
	add(config.EnvPrefix, config.Keys())
	add(config.DCREnvPrefix, config.DCRKeys())
	return known
}

// IsSecret reports whether a configuration key holds a secret (a session
// key, a token, a password). Such keys never come from stack outputs, which
// anyone who may describe the stack can read: the stack hands secrets to the
// services through Secrets Manager or NoEcho parameters instead.
func IsSecret(key string) bool {
	return strings.Contains(key, "SECRET") || strings.HasSuffix(key, "_TOKEN") || strings.Contains(key, "PASSWORD")
}

// entries maps outputs to .env entries, sorted by key. Each output's
// Description must start with exactly one configuration key followed by
// ": "; the key must be one of known, must not be a secret, and must not
// repeat. Every problem is reported, joined.
func entries(outs []output, known map[string]bool) ([]entry, error) {
	var errs []error
	seen := map[string]string{}
	var es []entry
	for _, o := range outs {
		key, _, ok := strings.Cut(o.Description, ": ")
		switch {
		case !ok || !keyPattern.MatchString(key):
			errs = append(errs, fmt.Errorf("output %s: its Description %q does not start with one configuration key (MCPGW_... or MCPDCR_...) followed by \": \"", o.OutputKey, o.Description))
			continue
		case !known[key]:
			errs = append(errs, fmt.Errorf("output %s: %s is not a key the gateway or mcp-dcr configuration reads (internal/config)", o.OutputKey, key))
			continue
		case IsSecret(key):
			errs = append(errs, fmt.Errorf("output %s: %s is a secret; stack outputs are readable by anyone who may describe the stack, so stackenv never writes one", o.OutputKey, key))
			continue
		}
		if prev, dup := seen[key]; dup {
			errs = append(errs, fmt.Errorf("outputs %s and %s both set %s", prev, o.OutputKey, key))
			continue
		}
		seen[key] = o.OutputKey
		es = append(es, entry{Key: key, Value: o.OutputValue, Output: o.OutputKey})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(es, func(i, j int) bool { return es[i].Key < es[j].Key })
	return es, nil
}

// render writes the .env text: the Marker header naming the stack and the
// time, then one KEY=value line per entry (values quoted by quote).
func render(stack string, at time.Time, es []entry) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s from CloudFormation stack %s at %s.\n", Marker, stack, at.UTC().Format(time.RFC3339))
	b.WriteString("# make outputs rewrites this file; it holds no secrets (the stack's outputs have none).\n")
	var errs []error
	for _, e := range es {
		v, err := quote(e.Value)
		if err != nil {
			errs = append(errs, fmt.Errorf("output %s (%s): %w", e.Output, e.Key, err))
			continue
		}
		fmt.Fprintf(&b, "%s=%s\n", e.Key, v)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return []byte(b.String()), nil
}

// bare matches values godotenv reads back unchanged without quotes: no
// spaces, '#', '$', quotes or backslashes.
var bare = regexp.MustCompile(`^[A-Za-z0-9_./:@,+=%-]*$`)

// quote returns v as github.com/joho/godotenv (v1.5.1) reads it back
// unchanged: bare when it can be; else in single quotes (no escapes, no
// variable expansion), which cannot hold a single quote, a line break or a
// trailing backslash; else in double quotes with $ and line breaks escaped,
// which cannot hold a double quote or a backslash (godotenv does not
// unescape those reliably). A value none of these can carry is an error.
func quote(v string) (string, error) {
	switch {
	case bare.MatchString(v):
		return v, nil
	case !strings.ContainsAny(v, "'\n\r") && !strings.HasSuffix(v, `\`):
		return "'" + v + "'", nil
	case !strings.ContainsAny(v, `"\`):
		return `"` + strings.NewReplacer("$", `\$`, "\n", `\n`, "\r", `\r`).Replace(v) + `"`, nil
	}
	return "", fmt.Errorf("value %q cannot be written so that a .env reader gets it back unchanged (it mixes quotes, backslashes and line breaks)", v)
}
