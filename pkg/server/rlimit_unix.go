//go:build unix

package server

import "syscall"

// descriptorLimit returns the process's soft limit of open descriptors (Go
// raises it to the hard limit at start), or 0 if it cannot tell.
func descriptorLimit() uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	return uint64(r.Cur)
}
