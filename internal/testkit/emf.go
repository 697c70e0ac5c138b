package testkit

import (
	"encoding/json"
	"fmt"
)

// cloudWatchUnits are the units CloudWatch accepts (MetricDatum.Unit).
var cloudWatchUnits = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true,
	"Megabytes": true, "Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true, "Megabits": true,
	"Gigabits": true, "Terabits": true, "Percent": true, "Count": true, "Bytes/Second": true,
	"Kilobytes/Second": true, "Megabytes/Second": true, "Gigabytes/Second": true, "Terabytes/Second": true,
	"Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true, "Gigabits/Second": true,
	"Terabits/Second": true, "Count/Second": true, "None": true,
}

// CheckEMF checks one line against the CloudWatch Embedded Metric Format
// specification: a JSON object whose _aws member has an integer Timestamp
// (milliseconds) and a non-empty CloudWatchMetrics array of directives,
// each with a Namespace, Dimensions (arrays of at most 30 names, each a
// top-level non-empty string member of at most 1024 characters) and
// Metrics (at most 100, each Name a top-level number, Unit a CloudWatch
// unit). It returns the metric names the line declares. Not checked: the
// limits on a whole log event (size) and on metric value arrays.
func CheckEMF(line []byte) ([]string, error) {
	var doc map[string]any
	if err := json.Unmarshal(line, &doc); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	meta, ok := doc["_aws"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no _aws object")
	}
	ts, ok := meta["Timestamp"].(float64)
	if !ok || ts <= 0 || ts != float64(int64(ts)) {
		return nil, fmt.Errorf("_aws.Timestamp %v is not a positive integer", meta["Timestamp"])
	}
	dirs, ok := meta["CloudWatchMetrics"].([]any)
	if !ok || len(dirs) == 0 {
		return nil, fmt.Errorf("_aws.CloudWatchMetrics is not a non-empty array")
	}
	var names []string
	for i, d := range dirs {
		dir, ok := d.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("directive %d is not an object", i)
		}
		if ns, ok := dir["Namespace"].(string); !ok || ns == "" || len(ns) > 255 {
			return nil, fmt.Errorf("directive %d: Namespace %v", i, dir["Namespace"])
		}
		sets, ok := dir["Dimensions"].([]any)
		if !ok {
			return nil, fmt.Errorf("directive %d: Dimensions is not an array", i)
		}
		for _, s := range sets {
			set, ok := s.([]any)
			if !ok || len(set) > 30 {
				return nil, fmt.Errorf("directive %d: dimension set %v", i, s)
			}
			for _, n := range set {
				name, _ := n.(string)
				if v, ok := doc[name].(string); name == "" || !ok || v == "" || len(v) > 1024 {
					return nil, fmt.Errorf("directive %d: dimension %v is not a top-level non-empty string (%v)", i, n, doc[name])
				}
			}
		}
		ms, ok := dir["Metrics"].([]any)
		if !ok || len(ms) == 0 || len(ms) > 100 {
			return nil, fmt.Errorf("directive %d: Metrics %v", i, dir["Metrics"])
		}
		for _, m := range ms {
			def, _ := m.(map[string]any)
			name, _ := def["Name"].(string)
			if _, ok := doc[name].(float64); name == "" || !ok {
				return nil, fmt.Errorf("directive %d: metric %v is not a top-level number (%v)", i, m, doc[name])
			}
			if u, ok := def["Unit"]; ok && !cloudWatchUnits[fmt.Sprint(u)] {
				return nil, fmt.Errorf("directive %d: metric %s: unit %v", i, name, u)
			}
			names = append(names, name)
		}
	}
	return names, nil
}
