package serve

import (
	"fmt"

	"github.com/hockeystack/sluice/engine/connect"
)

// Outcome is what serve makes of a stream's job.
type Outcome string

// The outcomes, as the sluice_runs_total metric's result label says them.
const (
	OutcomeOK     Outcome = "ok"
	OutcomeFailed Outcome = "failed" // retried with backoff (Backoff)
	OutcomePaused Outcome = "paused" // not retried until an operator resumes it
)

// Decide is serve's policy for a job that ended with err: a login the
// database refused pauses the pipeline, because trying the credentials
// again would lock the user; any other failure is retried with backoff.
// For a pause it also says why, as the state records it.
func Decide(err error) (Outcome, string) {
	switch {
	case err == nil:
		return OutcomeOK, ""
	case connect.CredentialsRejected(err):
		return OutcomePaused, fmt.Sprintf("credentials rejected: %v", err)
	default:
		return OutcomeFailed, ""
	}
}
