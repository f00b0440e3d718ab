package link

import "time"

// SetClock makes s read the time from now: tests move it by hand.
func (s *Service) SetClock(now func() time.Time) { s.now = now }
