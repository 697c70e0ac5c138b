package testkit

import "testing"

// TestCheckEMF proves CheckEMF rejects what CloudWatch
// would not extract, so that tests using it mean something.
func TestCheckEMF(t *testing.T) {
	bad := []string{
		`not json`,
		`{"mcpdcr_x":1}`,
		`{"_aws":{"Timestamp":"now","CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"m","Unit":"Count"}]}]},"m":1}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"m":1}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["d"]],"Metrics":[{"Name":"m","Unit":"Count"}]}]},"m":1}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["d"]],"Metrics":[{"Name":"m","Unit":"Count"}]}]},"d":"","m":1}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["d"]],"Metrics":[{"Name":"m","Unit":"Count"}]}]},"d":"x","m":"1"}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"m","Unit":"Things"}]}]},"m":1}`,
		`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Dimensions":[[]],"Metrics":[{"Name":"m"}]}]},"m":1}`,
	}
	for _, l := range bad {
		if _, err := CheckEMF([]byte(l)); err == nil {
			t.Errorf("accepted: %s", l)
		}
	}
	ok := `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["d"]],"Metrics":[{"Name":"m","Unit":"Count"}]}]},"d":"x","m":1}`
	if _, err := CheckEMF([]byte(ok)); err != nil {
		t.Errorf("refused a valid line: %v", err)
	}
}
