package serve

import (
	"time"

	"github.com/riverqueue/river/rivertype"
)

// Backoff is serve's retry policy for a stream that failed: the first
// retry after Base, doubling each attempt up to Max. Windows already
// committed stay committed, so a retry only goes on from where it failed.
// It satisfies River's ClientRetryPolicy.
type Backoff struct {
	Base, Max time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Delay is the wait before retrying after the given (1-based) attempt.
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Base
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// NextRetry is when River runs the job again.
func (b Backoff) NextRetry(job *rivertype.JobRow) time.Time {
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	return now().Add(b.Delay(max(job.Attempt, 1)))
}
