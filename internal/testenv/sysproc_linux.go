package testenv

import "syscall"

// sysProcAttr puts the child in its own process group (so cleanup can signal
// the whole group) and, on Linux, kills it if the test binary dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
