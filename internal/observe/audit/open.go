package audit

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Destinations of Open besides a file path (config audit_log).
const (
	// Stderr writes the audit trail to the process's standard error.
	Stderr = "stderr"
	// Off disables it.
	Off = "off"
)

// FileMode is the mode a new audit file is created with: it names who
// called what, so only the gateway's user may read it.
const FileMode os.FileMode = 0o600

// Open returns the Logger for an audit_log setting: "stderr" (or empty)
// writes to standard error, "off" returns a nil Logger, and anything else
// is a file path opened for appending (O_APPEND|O_CREATE, created with
// FileMode; an existing file keeps its mode). The closer, non-nil only for
// a file, closes it. A file that cannot be opened is an error naming the
// path. It does not create missing directories or rotate the file.
func Open(dest string) (*Logger, io.Closer, error) {
	switch dest {
	case Off:
		return nil, nil, nil
	case "", Stderr:
		return New(os.Stderr), nil, nil
	}
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_APPEND|os.O_CREATE, FileMode)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, fmt.Errorf("audit_log: cannot open %q: %w", dest, err)
	}
	return New(f), f, nil
}
