package doctor

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for a terminal: one aligned line per check,
// then a "What each client will hit" table and a one-line summary.
func (r *Report) WriteText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Checks")
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Status, c.Name, oneLine(c.Detail))
	}
	_ = tw.Flush()

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "What each client will hit")
	fmt.Fprintln(tw, "  CLIENT\tOUTCOME\tWHY")
	for _, c := range r.Clients {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Client, c.Outcome, oneLine(c.Why))
	}
	_ = tw.Flush()

	var n [3]int
	for _, c := range r.Checks {
		n[c.Status]++
	}
	fmt.Fprintf(w, "\n%d OK, %d warning(s), %d failure(s)\n", n[OK], n[Warn], n[Fail])
}

// oneLine keeps a detail on one line and free of tab stops.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
