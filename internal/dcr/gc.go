package dcr

import (
	"context"
	"fmt"
)

// GC paging: registrations are listed gcPage at a time (plus those that
// already failed, so failures cannot starve the rest), at most gcMax per run.
const (
	gcPage = 100
	gcMax  = 10000
)

// GC removes expired registrations (ExpiresAt in the past): for each, the
// Cognito app client and then the record, as `mcp-dcr gc` and the scheduled
// Lambda event do. A dry run lists them (up to 10,000) and deletes nothing.
// Per-client failures are collected in GCReport.Failed and do not stop the
// run; the error is non-nil only when the store cannot be listed or ctx
// ends. Registrations without ExpiresAt are never collected. At most 10,000
// registrations are handled per run; run it again for more.
func (s *Service) GC(ctx context.Context, dryRun bool) (GCReport, error) {
	rep := GCReport{Failed: map[string]string{}}
	now := s.now()
	if dryRun {
		regs, err := s.store.Expired(ctx, now, gcMax)
		if err != nil {
			return rep, fmt.Errorf("dcr gc: list expired registrations: %w", err)
		}
		for _, r := range regs {
			rep.Expired = append(rep.Expired, r.ClientID)
		}
		s.log.Info("dcr: gc dry run", "expired", len(rep.Expired))
		return rep, nil
	}
	seen := map[string]bool{}
	for len(seen) < gcMax {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("dcr gc: %w", err)
		}
		limit := gcPage + len(rep.Failed)
		page, err := s.store.Expired(ctx, now, limit)
		if err != nil {
			return rep, fmt.Errorf("dcr gc: list expired registrations: %w", err)
		}
		fresh := 0
		for _, r := range page {
			if seen[r.ClientID] {
				continue
			}
			seen[r.ClientID] = true
			fresh++
			rep.Expired = append(rep.Expired, r.ClientID)
			if err := s.remove(ctx, r.ClientID); err != nil {
				rep.Failed[r.ClientID] = err.Error()
				s.log.Warn("dcr: gc could not remove a registration", "client_id", r.ClientID, "error", err)
				continue
			}
			rep.Deleted = append(rep.Deleted, r.ClientID)
		}
		if fresh == 0 || len(page) < limit {
			break
		}
	}
	s.log.Info("dcr: gc", "expired", len(rep.Expired), "deleted", len(rep.Deleted), "failed", len(rep.Failed))
	return rep, nil
}
