package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"go.yaml.in/yaml/v3"
)

var durationType = reflect.TypeOf(time.Duration(0))

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

// durationHook reads a duration in Go syntax ("30s", "5m", "1h30m"). A
// number without a unit is refused unless it is 0: "leeway: 60" would be 60
// nanoseconds.
func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	switch from.Kind() {
	case reflect.String:
		d, err := time.ParseDuration(strings.TrimSpace(data.(string)))
		if err != nil {
			return nil, fmt.Errorf("%q is not a duration: write a number with a unit, such as 30s, 5m or 1h30m", data)
		}
		return d, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		if reflect.ValueOf(data).IsZero() || from == durationType {
			return data, nil
		}
		return nil, fmt.Errorf("%v has no unit: write %vs for seconds (units: ms, s, m, h)", data, data)
	}
	return data, nil
}

// shapeHook refuses a list where a single value or mapping is expected, a
// mapping where a list or single value is, and text where a mapping or a
// list of mappings is, naming what is expected.
func shapeHook(from, to reflect.Type, data any) (any, error) {
	to = deref(to)
	if data == nil || to == nil || to.Kind() == reflect.Interface {
		return data, nil
	}
	got := from.Kind()
	var bad bool
	switch to.Kind() {
	case reflect.Slice:
		bad = got == reflect.Map || got == reflect.String && to.Elem().Kind() != reflect.String
	case reflect.Map, reflect.Struct:
		bad = got != reflect.Map && got != reflect.Struct
	default: // strings, booleans and numbers
		bad = got == reflect.Map || got == reflect.Slice
	}
	if bad {
		return nil, fmt.Errorf("expects %s, got %s", describe(to), describeValue(data))
	}
	return data, nil
}

// failure is a key whose value did not decode.
type failure struct{ key, msg string }

// decodeFailures flattens mapstructure's joined errors into one failure per
// key, with the decoder's phrasing replaced where it is obscure.
func decodeFailures(err error) []failure {
	var out []failure
	var walk func(err error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case *mapstructure.DecodeError:
			inner := e.Unwrap()
			if _, joined := inner.(interface{ Unwrap() []error }); joined {
				walk(inner)
				return
			}
			out = append(out, failure{e.Name(), failureMessage(inner)})
		default:
			if u := errors.Unwrap(err); u != nil {
				walk(u)
				return
			}
			out = append(out, failure{"", err.Error()})
		}
	}
	walk(err)
	return out
}

func failureMessage(err error) string {
	var pe *mapstructure.ParseError
	var ue *mapstructure.UnconvertibleTypeError
	switch {
	case errors.As(err, &pe):
		return fmt.Sprintf("%s is not %s", describeValue(pe.Value), describe(pe.Expected.Type()))
	case errors.As(err, &ue):
		return fmt.Sprintf("expects %s, got %s", describe(ue.Expected.Type()), describeValue(ue.Value))
	}
	return err.Error()
}

// describe names what a value of type t is written as.
func describe(t reflect.Type) string {
	t = deref(t)
	switch {
	case t == durationType:
		return "a duration such as 30s or 5m"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "a whole number"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.Struct:
		return "a mapping of keys"
	case t.Kind() == reflect.Slice && deref(t.Elem()).Kind() == reflect.Struct:
		return "a list of mappings"
	case t.Kind() == reflect.Slice:
		return "a list of " + plural(describe(t.Elem()))
	case t.Kind() == reflect.Map:
		return "a mapping of names to " + plural(describe(t.Elem()))
	}
	return t.String()
}

// plural turns "a string" into "strings", "a list of strings" into "lists
// of strings".
func plural(s string) string {
	s = strings.TrimPrefix(s, "a ")
	if head, tail, ok := strings.Cut(s, " "); ok {
		return head + "s " + tail
	}
	return s + "s"
}

// describeValue names a decoded YAML value in a message.
func describeValue(v any) string {
	switch v := v.(type) {
	case []any:
		return "a list"
	case map[string]any, map[any]any:
		return "a mapping"
	case string:
		return fmt.Sprintf("%q", v)
	case nil:
		return "nothing"
	}
	return fmt.Sprint(v)
}

// describeNode names a YAML node in a message.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return fmt.Sprintf("%q", n.Value)
}
